package main

import (
	"errors"
	"fmt"

	"github.com/spec-kit/outbox/outbox/setup"
)

// InitCmd is `outbox init`.
type InitCmd struct {
	Force bool `help:"Create config.toml at the repository root even when webhooks are configured in another file it would hide (~/.codex/config.toml, $CODEX_HOME, ...)."`
}

// Help is shown by `outbox init --help`.
func (c *InitCmd) Help() string {
	return `Prepares the repository for outbox, appending only what is missing, so it
is safe to run again (the second run changes nothing):

  config.toml     a commented [spec_ops.webhooks] example (enabled = false),
                  unless the file already has that table, which is never
                  touched; the rest of the file is kept byte for byte
  .gitattributes  <spool_dir>/ledger.jsonl and ledger-*.jsonl merge=union,
                  so branches that both appended to a ledger merge cleanly
  .gitignore      <spool_dir>/tmp/, *.lock and .lock, also for SPECs whose
                  folder does not exist yet

<spool_dir> is spool_dir from the configuration with {spec_id} as *. Run it
again after changing spool_dir. With --config (or $SPECKIT_CONFIG), that
file gets the example instead of config.toml.

Examples:
  outbox init
  outbox init --json`
}

// Run prepares the repository.
func (c *InitCmd) Run(env *Env) error {
	ws, err := env.workspace()
	if err != nil {
		return err
	}
	res, err := setup.Init(setup.Options{Root: ws.Root, Current: ws.Config, ConfigFile: env.ConfigPath, Force: c.Force})
	if errors.Is(err, setup.ErrConfig) {
		return withCode(exitConfig, err)
	}
	if err != nil {
		return withCode(exitRuntime, err)
	}
	if env.JSON {
		return printJSON(env.Stdout, res)
	}
	for _, f := range res.Files {
		fmt.Fprintln(env.Stdout, f)
	}
	return nil
}
