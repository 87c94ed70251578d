package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spec-kit/outbox/ledger"
	"github.com/spec-kit/outbox/outbox/inspect"
	"github.com/spec-kit/outbox/outbox/spool"
)

// ShowCmd is `outbox show`.
type ShowCmd struct {
	ID   string   `arg:"" help:"Delivery id (or a unique prefix of one)."`
	Spec []string `placeholder:"SPEC-ID" help:"Look only in this SPEC. Default: every SPEC."`
}

type showJSON struct {
	*inspect.Delivery
	History []ledger.Entry `json:"history"`
	Payload any            `json:"payload,omitempty"`
}

// Run shows one delivery, its payload and its ledger history.
func (c *ShowCmd) Run(env *Env) error {
	ws, err := env.workspace()
	if err != nil {
		return err
	}
	specs, dirs, err := loadSpecs(ws, c.Spec)
	if err != nil {
		return err
	}
	var d *inspect.Delivery
	for _, s := range specs {
		found, err := s.Find(c.ID)
		if err != nil {
			return withCode(exitUsage, err)
		}
		if found != nil {
			if d != nil {
				return withCode(exitUsage, fmt.Errorf("%q matches deliveries in more than one SPEC: pass --spec", c.ID))
			}
			d = found
		}
	}
	if d == nil {
		return withCode(exitFailed, fmt.Errorf("no delivery %q", c.ID))
	}
	var body []byte
	if d.File != "" {
		dir := dirs[d.Spec]
		data, err := os.ReadFile(filepath.Join(dir.Root, filepath.FromSlash(d.File)))
		if err != nil {
			return withCode(exitRuntime, err)
		}
		dl, err := spool.Decode(d.File, data)
		if err != nil {
			return withCode(exitRuntime, err)
		}
		body = dl.Body
	}
	if env.JSON {
		out := showJSON{Delivery: d, History: d.History}
		if body != nil {
			out.Payload = jsonRaw(body)
		}
		return printJSON(env.Stdout, out)
	}
	w := env.Stdout
	fmt.Fprintf(w, "delivery      %s\nspec          %s\nsubscription  %s\nevent         %s\nstate         %s\n",
		d.ID, d.Spec, d.Subscription, dash(d.Event), d.State)
	fmt.Fprintf(w, "created       %s\nattempts      %d (replays: %d)\n", d.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z"), d.Attempts, d.Replays)
	if d.File != "" {
		fmt.Fprintf(w, "file          %s\n", d.File)
	}
	if d.State == inspect.StatePending {
		fmt.Fprintf(w, "next          attempt %d, due %s\n", d.NextAttempt, due(d))
	}
	if d.Reason != "" {
		fmt.Fprintf(w, "reason        %s\n", d.Reason)
	}
	fmt.Fprintln(w, "\nhistory:")
	for _, e := range d.History {
		fmt.Fprintf(w, "  %s  %-16s%s\n", e.Time.UTC().Format("2006-01-02T15:04:05.000Z"), e.Action, historyDetail(e))
	}
	if body != nil {
		fmt.Fprintf(w, "\npayload:\n%s\n", body)
	}
	return nil
}

func historyDetail(e ledger.Entry) string {
	s := ""
	add := func(f string, a ...any) { s += " " + fmt.Sprintf(f, a...) }
	if e.Attempt > 0 {
		add("attempt %d", e.Attempt)
	}
	if e.Status > 0 {
		add("status %d", e.Status)
	}
	if e.DurationMS > 0 {
		add("%dms", e.DurationMS)
	}
	if e.Error != "" {
		add("error: %s", e.Error)
	}
	if !e.NextDue.IsZero() {
		add("next due %s", e.NextDue.UTC().Format("2006-01-02T15:04:05Z"))
	}
	if e.Reason != "" {
		add("(%s)", e.Reason)
	}
	if e.Response != "" {
		add("response: %s", e.Response)
	}
	return s
}
