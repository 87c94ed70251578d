package main

import (
	"fmt"

	"github.com/spec-kit/outbox/outbox"
)

// commitFlag is the --commit flag of the commands that change evidence.
type commitFlag struct {
	Commit bool `help:"Afterwards, commit the SPEC's webhooks files, and nothing else, on the current branch (also commit = true in config.toml)."`
}

// commit commits the evidence of specs when asked to, and prints the
// commit. A refusal (detached HEAD, a merge in progress, git's lock held)
// is an error, exit 4; the spool work itself is done and kept.
func (f commitFlag) commit(env *Env, ws *outbox.Workspace, specs []string, summary string) error {
	if !f.Commit && !ws.Config.Webhooks.Commit {
		return nil
	}
	res, err := ws.CommitEvidence(specs, summary)
	if err != nil {
		return withCode(exitRuntime, fmt.Errorf("commit refused: %w (the spool files are written; commit them by hand or run again)", err))
	}
	if !res.NoChange && !env.JSON {
		fmt.Fprintf(env.Stderr, "outbox: committed %s on %s (%d file(s))\n", short(res.Hash), res.Branch, res.Files)
	}
	return nil
}
