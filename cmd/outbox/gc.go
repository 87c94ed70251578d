package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spec-kit/outbox/deliver"
	"github.com/spec-kit/outbox/outbox"
	"github.com/spec-kit/outbox/outbox/config"
	"github.com/spec-kit/outbox/outbox/retention"
	"github.com/spec-kit/outbox/outbox/spool"
)

// GCCmd is `outbox gc`.
type GCCmd struct {
	Spec     []string      `placeholder:"SPEC-ID" help:"SPEC to collect (repeatable). Default: every SPEC that has a webhooks directory."`
	MaxBytes int64         `placeholder:"N" help:"Cap on everything under each SPEC's webhooks/ directory, in bytes. Default: max_spool_bytes from config.toml (5000000)."`
	Wait     time.Duration `default:"30s" help:"How long to wait for a deliver run that is working on a SPEC."`
	commitFlag
}

// Help is shown by `outbox gc --help`.
func (c *GCCmd) Help() string {
	return `Keeps each SPEC's webhooks/ directory under its cap. Over the cap, it evicts
oldest first, down to 90% of the cap: sent payloads (and dry-run records),
then old ledger lines (rotated into a compressed ledger-<n>-<time>.jsonl.gz
archive beside ledger.jsonl; archives beyond a fifth of the cap are dropped),
then dead letters, then pending deliveries. Each eviction is an "evicted"
ledger line first; nothing vanishes silently. It also removes files in tmp/
left by crashed processes (older than 10 minutes). Under the cap it changes
nothing. Every deliver run does the same at its end; gc is for cron and for
trying a cap.

It works on a SPEC while holding the SPEC's delivery lock, waiting up to
--wait for a deliver run to finish.

Examples:
  outbox gc                              # every SPEC, the configured cap
  outbox gc --spec SPEC-KIT-065 --json
  outbox gc --max-bytes 1000000          # try a smaller cap`
}

type gcJSON struct {
	MaxBytes int64              `json:"max_bytes"`
	Specs    []retention.Report `json:"specs"`
	Busy     []string           `json:"busy"` // SPECs a deliver run held longer than --wait
}

// Run collects.
func (c *GCCmd) Run(env *Env) error {
	if c.MaxBytes < 0 {
		return withCode(exitUsage, fmt.Errorf("--max-bytes %d: want a number of bytes > 0", c.MaxBytes))
	}
	ws, err := env.workspace()
	if err != nil {
		return err
	}
	out := gcJSON{MaxBytes: c.MaxBytes, Specs: []retention.Report{}, Busy: []string{}}
	if out.MaxBytes == 0 {
		out.MaxBytes = maxSpoolBytes(ws.Config)
	}
	r := &deliver.Runner{Config: ws.Config, RepoRoot: ws.Root}
	specs := c.Spec
	if len(specs) == 0 {
		if specs, err = r.Specs(); err != nil {
			return withCode(exitRuntime, err)
		}
	}
	dirs := make([]*spool.Dir, len(specs))
	for i, id := range specs {
		if dirs[i], err = r.SpoolDir(id); err != nil {
			return withCode(exitUsage, err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	now := time.Now()
	for _, dir := range dirs {
		wctx, cancel := context.WithTimeout(ctx, c.Wait)
		rep, err := retention.RunLocked(wctx, dir, retention.Options{MaxBytes: out.MaxBytes, Now: now})
		cancel()
		if errors.Is(err, retention.ErrBusy) && ctx.Err() == nil {
			out.Busy = append(out.Busy, dir.Spec)
			continue
		}
		if err != nil {
			return withCode(exitRuntime, err)
		}
		out.Specs = append(out.Specs, rep)
		kickAfterGC(env, ws, dir, now)
	}
	var collected []string
	evicted := 0
	for _, rep := range out.Specs {
		if rep.Changed() {
			collected = append(collected, rep.Spec)
			evicted += rep.Evicted()
		}
	}
	commitErr := c.commit(env, ws, collected, fmt.Sprintf("gc evicted %d delivery file(s)", evicted))
	for _, s := range out.Busy {
		fmt.Fprintf(env.Stderr, "outbox: %s: a deliver run held it for longer than %s: not collected (the run collects it when it ends)\n", s, c.Wait)
	}
	if env.JSON {
		if err := printJSON(env.Stdout, out); err != nil {
			return err
		}
		return commitErr
	}
	if len(out.Specs) == 0 && len(out.Busy) == 0 {
		fmt.Fprintln(env.Stdout, "no SPEC has a webhooks directory")
	}
	for _, rep := range out.Specs {
		printGC(env.Stdout, rep)
	}
	return commitErr
}

// maxSpoolBytes is the configured cap.
func maxSpoolBytes(cfg *config.Config) int64 {
	return cfg.Webhooks.MaxSpoolBytes
}

// kickAfterGC starts a background deliver run for a SPEC with deliveries
// due, as emit does: a run kicked while gc held the delivery lock left the
// SPEC to its holder, and gc does not deliver.
func kickAfterGC(env *Env, ws *outbox.Workspace, dir *spool.Dir, now time.Time) {
	enabled, err := ws.Config.EnabledWith(os.Getenv)
	if err != nil || !enabled || !ws.Config.Webhooks.Kick {
		return
	}
	names, _, err := dir.List(spool.Pending)
	if err != nil || len(names) == 0 || names[0].Due.After(now) {
		return
	}
	em := &outbox.Emitter{Config: ws.Config, RepoRoot: ws.Root, Getenv: os.Getenv}
	if err := kick(env, ws, em, dir.Spec, false); err != nil {
		fmt.Fprintf(env.Stderr, "outbox: warning: %s: %v (the next 'outbox deliver' will send what is due)\n", dir.Spec, err)
	}
}

func printGC(w io.Writer, rep retention.Report) {
	if !rep.Changed() {
		fmt.Fprintf(w, "%s: %d bytes (max %d): nothing to evict\n", rep.Spec, rep.Before, rep.MaxBytes)
		return
	}
	fmt.Fprintf(w, "%s: %d -> %d bytes (max %d)\n", rep.Spec, rep.Before, rep.After, rep.MaxBytes)
	count := func(c retention.Count, verb, one, many string) {
		if c.Files == 0 {
			return
		}
		what := many
		if c.Files == 1 {
			what = one
		}
		fmt.Fprintf(w, "  %s %d %s (%d bytes)\n", verb, c.Files, what, c.Bytes)
	}
	count(rep.Sent, "evicted", "sent payload", "sent payloads")
	for _, rot := range rep.Rotations {
		if rot.Archive == "" {
			fmt.Fprintf(w, "  rotated %d ledger lines (already archived by an interrupted rotation)\n", rot.Lines)
			continue
		}
		fmt.Fprintf(w, "  rotated %d ledger lines (%d bytes) into %s (%d bytes)\n", rot.Lines, rot.LedgerBytes, rot.Archive, rot.ArchiveBytes)
	}
	count(rep.ArchivesDropped, "dropped", "ledger archive", "ledger archives")
	count(rep.Dead, "evicted", "dead letter", "dead letters")
	count(rep.Pending, "evicted", "pending delivery", "pending deliveries")
	count(rep.StaleTmp, "removed", "stale tmp/ file", "stale tmp/ files")
	if rep.OverCap {
		fmt.Fprintf(w, "  still over the cap: nothing left that may be evicted\n")
	}
}
