package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spec-kit/outbox/outbox"
	"github.com/spec-kit/outbox/outbox/config"
	"github.com/spec-kit/outbox/outbox/tasks"
)

// TasksCmd is `outbox tasks`.
type TasksCmd struct {
	From        string `placeholder:"REV" help:"Start of the range (exclusive). Default: the commit the last run processed, when it is an ancestor of --to; else --to's parent; else the empty tree."`
	To          string `placeholder:"REV" help:"End of the range. Default: HEAD."`
	Preview     bool   `help:"List the completions and where they would go; write nothing."`
	DefaultSpec string `placeholder:"SPEC-ID" help:"SPEC of SPEC.md rows that name none (default: such rows are skipped with a warning)."`
	NoKick      bool   `help:"Do not start a background 'outbox deliver' for the SPECs enqueued to (also kick = false in config.toml)."`
}

// Help is shown by `outbox tasks --help`.
func (c *TasksCmd) Help() string {
	return `Reads the tracker tables of SPEC.md and of every docs/<SPEC-ID>/tasks.md in
two commits (never the working tree) and emits spec-kit.task.completed for
each row that is Done at --to and was not Done, or did not exist, at --from.

A SPEC.md row belongs to the SPEC named in its Spec, PRD, Evidence, Branch,
Notes or Title cell (the first that names one; in a path, the last SPEC id).
The event's commit is the first-parent commit in the range where the row
became Done (data.commit), its file is data.source, and its idempotency key
is <SPEC>/task/<task-id>/done@<commit>: running twice over the same range
enqueues nothing new, and a task re-opened and completed again is new.

The last --to processed is kept in .git/outbox-tasks-last (not committed: a
fresh clone starts from HEAD~1, and the ledger still dedupes).

Examples:
  outbox tasks                          # what was completed since the last run
  outbox tasks --from v1.2 --to HEAD --preview
  outbox tasks --json --from HEAD~5`
}

// Run emits the completions.
func (c *TasksCmd) Run(env *Env) error {
	ws, err := env.workspace()
	if err != nil {
		return err
	}
	em := &outbox.Emitter{Config: ws.Config, RepoRoot: ws.Root, Getenv: os.Getenv}
	rep, err := tasks.Run(em, tasks.Options{From: c.From, To: c.To, Preview: c.Preview, DefaultSpec: c.DefaultSpec})
	if rep != nil {
		if perr := c.print(env, rep); perr != nil && err == nil {
			err = perr
		}
		c.kick(env, ws, em, rep)
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, tasks.ErrRevision), errors.Is(err, tasks.ErrUsage):
		return withCode(exitUsage, err)
	case errors.Is(err, tasks.ErrNotRepository), errors.Is(err, config.ErrEnv):
		return withCode(exitConfig, err)
	}
	return withCode(exitRuntime, err)
}

func (c *TasksCmd) kick(env *Env, ws *outbox.Workspace, em *outbox.Emitter, rep *tasks.Report) {
	if !ws.Config.Webhooks.Kick || c.NoKick || rep.Preview {
		return
	}
	seen := map[string]bool{}
	for _, t := range rep.Completed {
		if len(t.DeliveryIDs) == 0 || seen[t.Spec] {
			continue
		}
		seen[t.Spec] = true
		if err := kick(env, ws, em, t.Spec, false); err != nil {
			fmt.Fprintf(env.Stderr, "outbox: warning: %v (the next 'outbox deliver' will send it)\n", err)
		}
	}
}

func (c *TasksCmd) print(env *Env, rep *tasks.Report) error {
	ew := env.Stderr
	for _, s := range rep.Skipped {
		fmt.Fprintf(ew, "outbox: warning: %s:%d: task %s is Done but names no SPEC: skipped (pass --default-spec)\n", s.Source, s.Line, s.TaskID)
	}
	from := "empty tree"
	if rep.From != "" {
		from = short(rep.From)
	}
	if !rep.Enabled && !rep.Preview {
		fmt.Fprintln(ew, "outbox: webhooks are disabled: nothing enqueued (enable with enabled = true under [spec_ops.webhooks], or SPECKIT_WEBHOOKS_ENABLED=1)")
	}
	if len(rep.Completed) == 0 {
		fmt.Fprintf(ew, "outbox: no task became Done in %s..%s\n", from, short(rep.To))
	}
	if env.JSON {
		return printJSON(env.Stdout, rep.Completed)
	}
	w := env.Stdout
	for _, t := range rep.Completed {
		fmt.Fprintf(w, "%s %s @%s %s %q: %s\n", t.Spec, t.TaskID, short(t.Commit), t.Source, t.Title, outcome(rep, t))
	}
	return nil
}

func outcome(rep *tasks.Report, t tasks.Completion) string {
	switch {
	case rep.Preview && len(t.Subscriptions) == 0:
		return "no subscription matches"
	case rep.Preview && t.Duplicate:
		return "already enqueued"
	case rep.Preview:
		return "would enqueue to " + strings.Join(t.Subscriptions, ", ")
	case !rep.Enabled:
		return "not enqueued (webhooks disabled)"
	case t.Duplicate:
		return "already enqueued"
	case len(t.DeliveryIDs) == 0:
		return "no subscription matches"
	}
	parts := make([]string, len(t.DeliveryIDs))
	for i, id := range t.DeliveryIDs {
		parts[i] = id + " " + t.Subscriptions[i]
	}
	return "enqueued " + strings.Join(parts, ", ")
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
