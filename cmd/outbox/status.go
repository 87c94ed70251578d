package main

import (
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spec-kit/outbox/outbox/inspect"
	"github.com/spec-kit/outbox/outbox/retention"
)

// StatusCmd is `outbox status`.
type StatusCmd struct {
	Spec []string `placeholder:"SPEC-ID" help:"Only this SPEC (repeatable). Default: every SPEC with a spool."`
}

// Help is shown by `outbox status --help`.
func (c *StatusCmd) Help() string {
	return `Per SPEC and subscription: pending, due now, sent, dead, evicted, the oldest
pending delivery's age, the last success, and warnings (dead letters, a
replay that failed again, a subscription failing repeatedly, an unset
secret). --json is what /spec-status and the TUI read.`
}

type statusJSON struct {
	Specs    []specStatus `json:"specs"`
	Warnings int          `json:"warnings"`
}

type specStatus struct {
	Spec          string               `json:"spec"`
	Subscriptions []*inspect.SubStatus `json:"subscriptions"`
	Evictions     retention.Totals     `json:"evictions"` // live ledger and archives
	Stray         []string             `json:"stray_files"`
}

// Run prints the status.
func (c *StatusCmd) Run(env *Env) error {
	ws, err := env.workspace()
	if err != nil {
		return err
	}
	specs, dirs, err := loadSpecs(ws, c.Spec)
	if err != nil {
		return err
	}
	now := time.Now()
	out := statusJSON{Specs: []specStatus{}}
	for _, s := range specs {
		totals, err := retention.Tally(dirs[s.ID])
		if err != nil {
			return withCode(exitRuntime, err)
		}
		ss := specStatus{Spec: s.ID, Subscriptions: inspect.Status(s, ws.Config, os.Getenv, now),
			Evictions: totals, Stray: s.Stray}
		if ss.Stray == nil {
			ss.Stray = []string{}
		}
		for _, st := range ss.Subscriptions {
			out.Warnings += len(st.Warnings)
		}
		out.Specs = append(out.Specs, ss)
	}
	if env.JSON {
		return printJSON(env.Stdout, out)
	}
	if len(out.Specs) == 0 {
		fmt.Fprintln(env.Stdout, "no SPEC has a spool yet")
		return nil
	}
	for i, ss := range out.Specs {
		if i > 0 {
			fmt.Fprintln(env.Stdout)
		}
		fmt.Fprintf(env.Stdout, "%s", ss.Spec)
		if e := ss.Evictions; e.Deliveries() > 0 || e.Rotations > 0 {
			fmt.Fprintf(env.Stdout, " (evicted to stay under the size cap: %d sent, %d dead, %d pending; %d ledger rotation(s))",
				e.Sent, e.Dead, e.Pending, e.Rotations)
		}
		fmt.Fprintln(env.Stdout)
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  SUBSCRIPTION\tPENDING\tDUE\tSENT\tDEAD\tEVICTED\tOLDEST PENDING\tLAST SUCCESS")
		for _, st := range ss.Subscriptions {
			fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\n", st.Subscription, st.Pending, st.Due, st.Sent, st.Dead, st.Evicted,
				age(st.OldestPendingAgeS, st.Pending), ago(st.LastSuccess, now))
		}
		tw.Flush()
		for _, st := range ss.Subscriptions {
			for _, w := range st.Warnings {
				fmt.Fprintf(env.Stdout, "  warning: %s: %s\n", st.Subscription, w)
			}
		}
		for _, f := range ss.Stray {
			fmt.Fprintf(env.Stdout, "  warning: stray file %s\n", f)
		}
	}
	return nil
}

func age(secs int64, pending int) string {
	if pending == 0 {
		return "-"
	}
	return (time.Duration(secs) * time.Second).String()
}

func ago(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return now.Sub(t).Truncate(time.Second).String() + " ago"
}
