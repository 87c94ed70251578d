package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spec-kit/outbox/outbox/inspect"
)

// ListCmd is `outbox list` (the spec's /spec-notify --list).
type ListCmd struct {
	Spec         []string `placeholder:"SPEC-ID" help:"Only this SPEC (repeatable). Default: every SPEC with a spool."`
	State        string   `enum:",pending,sent,dead,evicted" default:"" help:"Only deliveries in this state: pending, sent, dead or evicted."`
	Failed       bool     `help:"Only dead letters; exit 1 when there is any (for CI)."`
	Subscription string   `placeholder:"ID" help:"Only this subscription."`
	Since        string   `placeholder:"TIME" help:"Only deliveries created since TIME (2026-12-04T10:00:00Z, 2026-12-04, or a duration ago: 24h)."`
}

// Help is shown by `outbox list --help`.
func (c *ListCmd) Help() string {
	return `One row per delivery: state, event, subscription, attempts, last status or
error, next due time. Rows come from file names and the ledger; no payload is
read.

Examples:
  outbox list --spec SPEC-KIT-065
  outbox list --failed --json      # in CI: exit 1 if anything is dead-lettered`
}

// Run lists deliveries.
func (c *ListCmd) Run(env *Env) error {
	ws, err := env.workspace()
	if err != nil {
		return err
	}
	since, err := timeFlag("since", c.Since)
	if err != nil {
		return err
	}
	specs, _, err := loadSpecs(ws, c.Spec)
	if err != nil {
		return err
	}
	f := inspect.Filter{State: c.State, Subscription: c.Subscription, Since: since}
	if c.Failed {
		f.State = inspect.StateDead
	}
	rows := []*inspect.Delivery{}
	for _, s := range specs {
		for _, d := range s.Deliveries {
			if f.Match(d) {
				rows = append(rows, d)
			}
		}
	}
	if env.JSON {
		if err := printJSON(env.Stdout, rows); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSPEC\tSTATE\tEVENT\tSUBSCRIPTION\tATTEMPTS\tLAST\tNEXT DUE")
		for _, d := range rows {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", d.ID, d.Spec, d.State, dash(d.Event), d.Subscription,
				d.Attempts, last(d), due(d))
		}
		tw.Flush()
		if len(rows) == 0 {
			fmt.Fprintln(env.Stderr, "outbox: no deliveries match")
		}
	}
	if c.Failed && len(rows) > 0 {
		return withCode(exitFailed, fmt.Errorf("%d dead letter(s)", len(rows)))
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// last is the last attempt's status or error, or why the delivery is dead.
func last(d *inspect.Delivery) string {
	switch {
	case d.LastStatus != 0:
		return fmt.Sprint(d.LastStatus)
	case d.LastError != "":
		return d.LastError
	case d.Reason != "":
		return d.Reason
	}
	return "-"
}

func due(d *inspect.Delivery) string {
	if d.State != inspect.StatePending {
		return "-"
	}
	if !d.Due.After(time.Now()) {
		return "now"
	}
	return d.Due.UTC().Format(time.RFC3339)
}
