package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spec-kit/outbox/deliver"
)

// DeliverCmd is `outbox deliver`.
type DeliverCmd struct {
	Spec           []string      `placeholder:"SPEC-ID" help:"SPEC to deliver (repeatable). Default: every SPEC that has a spool."`
	All            bool          `help:"Deliver every SPEC that has a spool (the default when no --spec is given)."`
	MaxConcurrency int           `placeholder:"N" help:"Parallel deliveries across subscriptions and SPECs. Default: max_concurrency from config.toml."`
	Linger         time.Duration `default:"3s" help:"Keep running while a retry is due within this window, so short backoffs are retried without waiting for cron."`
	DryRun         bool          `help:"Record each request (headers minus signatures, body) under webhooks/dry-run/ instead of sending it. Also SPECKIT_WEBHOOKS_DRY_RUN=1 or dry_run in config.toml."`
	commitFlag
}

// Help is shown by `outbox deliver --help`.
func (c *DeliverCmd) Help() string {
	return `Sends what is due in the spools, then exits: each delivery moves to sent/
(2xx) or dead/ (410, other 4xx, 3xx, retries exhausted), or is rescheduled
with backoff (408, 425, 429, 5xx, network errors). Every attempt is a ledger
line. Run it from cron as a safety net; 'outbox emit' starts one by itself.

Exit status is 0 when the run worked, even if endpoints failed; non-zero only
when outbox itself could not work (configuration, files, locks).

Examples:
  outbox deliver                       # every SPEC
  outbox deliver --spec SPEC-KIT-065   # one SPEC
  outbox deliver --dry-run --json`
}

// Run delivers.
func (c *DeliverCmd) Run(env *Env) error {
	ws, err := env.workspace()
	if err != nil {
		return err
	}
	enabled, err := ws.Config.EnabledWith(os.Getenv)
	if err != nil {
		return withCode(exitConfig, err)
	}
	if !enabled {
		fmt.Fprintln(env.Stderr, "outbox: webhooks are disabled: nothing delivered (enable with enabled = true under [spec_ops.webhooks], or SPECKIT_WEBHOOKS_ENABLED=1)")
		if env.JSON {
			return printJSON(env.Stdout, deliver.Summary{Specs: []string{}, Busy: []string{}})
		}
		return nil
	}
	r, closeIdle := newRunner(ws, c.MaxConcurrency)
	defer closeIdle()
	r.DryRun, r.Linger = c.DryRun, c.Linger
	specs := c.Spec
	if len(specs) == 0 {
		if specs, err = r.Specs(); err != nil {
			return withCode(exitRuntime, err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var done func()
	r.Progress, done = progress(env.Stderr, "deliver")
	sum, err := r.Run(ctx, specs)
	done()
	if err != nil {
		return withCode(exitRuntime, err)
	}
	commitErr := c.commit(env, ws, worked(sum), deliverSummary(sum))
	if env.JSON {
		if err := printJSON(env.Stdout, sum); err != nil {
			return err
		}
		return commitErr
	}
	for _, s := range sum.Busy {
		fmt.Fprintf(env.Stderr, "outbox: %s: another deliver run is working on it\n", s)
	}
	fmt.Fprintf(env.Stdout, "delivered %d, retrying %d, dead %d, dry-run %d, pending %d (%s)\n",
		sum.Delivered, sum.Retrying, sum.Dead, sum.DryRun, sum.Pending, specList(sum.Specs))
	return commitErr
}

// worked lists the SPECs a run worked on (not those another run held).
func worked(sum deliver.Summary) []string {
	var out []string
	for _, s := range sum.Specs {
		if !slices.Contains(sum.Busy, s) {
			out = append(out, s)
		}
	}
	return out
}

// deliverSummary is the commit message of a run: its non-zero counts.
func deliverSummary(sum deliver.Summary) string {
	var parts []string
	for _, p := range []struct {
		n    int
		what string
	}{{sum.Delivered, "delivered"}, {sum.Retrying, "retrying"}, {sum.Dead, "dead"}, {sum.DryRun, "dry-run"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	if len(parts) == 0 {
		return "deliver run"
	}
	return strings.Join(parts, ", ")
}

func specList(specs []string) string {
	switch len(specs) {
	case 0:
		return "no SPEC has a spool"
	case 1:
		return specs[0]
	}
	return fmt.Sprintf("%d SPECs: %s", len(specs), strings.Join(specs, ", "))
}
