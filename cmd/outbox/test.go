package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spec-kit/outbox/ledger"
	"github.com/spec-kit/outbox/outbox"
	"github.com/spec-kit/outbox/outbox/event"
	"github.com/spec-kit/outbox/outbox/inspect"
)

// TestCmd is `outbox test` (the spec's /spec-notify --test).
type TestCmd struct {
	Subscription string `required:"" placeholder:"ID" help:"Subscription to ping."`
	Spec         string `placeholder:"SPEC-ID" default:"outbox-test" help:"SPEC whose ledger records the ping."`
}

// Help is shown by `outbox test --help`.
func (c *TestCmd) Help() string {
	return `Sends a signed spec-kit.ping to one subscription now, whatever its filters
and even while webhooks are disabled, and prints the status code, latency and
the start of the response. The ping is recorded in the SPEC's ledger like any
delivery; a failed ping is dead-lettered at once, not retried. Exit 1 on
failure, with the reason (TLS, DNS, timeout, status, missing secret).`
}

type testJSON struct {
	OK           bool   `json:"ok"`
	ID           string `json:"id"`
	Subscription string `json:"subscription"`
	Status       int    `json:"status"`
	DurationMS   int64  `json:"duration_ms"`
	Host         string `json:"host,omitempty"`
	Response     string `json:"response,omitempty"`
	Error        string `json:"error,omitempty"`
}

// Run pings.
func (c *TestCmd) Run(env *Env) error {
	ws, err := env.workspace()
	if err != nil {
		return err
	}
	em := &outbox.Emitter{Config: ws.Config, RepoRoot: ws.Root, Getenv: os.Getenv}
	res, err := em.Emit(outbox.Request{Spec: c.Spec, Event: event.TypePing, Subscriptions: []string{c.Subscription}})
	if errors.Is(err, outbox.ErrUsage) {
		return withCode(exitUsage, err)
	}
	if err != nil {
		return withCode(exitRuntime, err)
	}
	id := res.Deliveries[0].ID
	r, closeIdle := newRunner(ws, 1)
	defer closeIdle()
	r.Only, r.OneShot = map[string]bool{id: true}, true
	if _, err := r.Run(context.Background(), []string{c.Spec}); err != nil {
		return withCode(exitRuntime, err)
	}
	dir, err := em.SpoolDir(c.Spec)
	if err != nil {
		return withCode(exitRuntime, err)
	}
	s, err := inspect.Load(dir)
	if err != nil {
		return withCode(exitRuntime, err)
	}
	d, _ := s.Find(id)
	out := testJSON{ID: id, Subscription: c.Subscription}
	if d != nil {
		out.OK = d.State == inspect.StateSent
		for _, e := range d.History {
			if e.Action == ledger.ActionAttempt {
				out.Status, out.DurationMS, out.Host, out.Response, out.Error = e.Status, e.DurationMS, e.Host, e.Response, e.Error
			}
		}
		if d.State == inspect.StatePending {
			out.Error = "another deliver run holds the SPEC; the ping is queued"
		}
	}
	if env.JSON {
		if err := printJSON(env.Stdout, out); err != nil {
			return err
		}
	} else {
		status := "no response"
		if out.Status != 0 {
			status = fmt.Sprintf("%d", out.Status)
		}
		fmt.Fprintf(env.Stdout, "ping %s to %s (%s): %s in %s\n", id, c.Subscription, dash(out.Host), status,
			time.Duration(out.DurationMS)*time.Millisecond)
		if out.Response != "" {
			fmt.Fprintf(env.Stdout, "response: %s\n", out.Response)
		}
	}
	if !out.OK {
		return withCode(exitFailed, fmt.Errorf("ping failed: %s", dash(out.Error)))
	}
	return nil
}
