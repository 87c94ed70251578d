package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spec-kit/outbox/outbox"
	"github.com/spec-kit/outbox/outbox/config"
)

// ConfigCmd groups the config subcommands.
type ConfigCmd struct {
	Check ConfigCheckCmd `cmd:"" help:"Validate config.toml and the environment it names; print every problem, exit 1 if any."`
}

// ConfigCheckCmd is `outbox config check`.
type ConfigCheckCmd struct{}

// Help is shown by `outbox config check --help`.
func (c *ConfigCheckCmd) Help() string {
	return `Checks every key under [spec_ops.webhooks] (unknown or mistyped keys, URLs,
event names, stages, statuses, retry settings) and that each environment
variable a subscription names (secret_env, previous_secret_env, url_env) is
set. Values of secrets are never printed.`
}

type checkJSON struct {
	File     string         `json:"file"`
	Enabled  bool           `json:"enabled"`
	OK       bool           `json:"ok"`
	Problems []checkProblem `json:"problems"`
}

type checkProblem struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	Key  string `json:"key,omitempty"`
	Msg  string `json:"message"`
}

// Run checks the configuration.
func (c *ConfigCheckCmd) Run(env *Env) error {
	out := checkJSON{Problems: []checkProblem{}}
	ws, err := outbox.OpenWorkspace(env.Repo, env.ConfigPath, os.Getenv)
	var cerrs config.Errors
	switch {
	case errors.As(err, &cerrs):
		for _, e := range cerrs {
			out.File = e.File
			out.Problems = append(out.Problems, checkProblem{File: e.File, Line: e.Line, Key: e.Key, Msg: e.Msg})
		}
	case err != nil:
		return withCode(exitConfig, err)
	case ws.Config.Path == "":
		out.Problems = append(out.Problems, checkProblem{Msg: "no config.toml found (searched --config/$SPECKIT_CONFIG, the repository root, $CODE_HOME, $CODEX_HOME, ~/.code, ~/.codex)"})
	default:
		out.File = ws.Config.Path
		out.Enabled, err = ws.Config.EnabledWith(os.Getenv)
		if err != nil {
			out.Problems = append(out.Problems, checkProblem{Key: "SPECKIT_WEBHOOKS_ENABLED", Msg: err.Error()})
		}
		for _, p := range config.Check(ws.Config, os.Getenv) {
			out.Problems = append(out.Problems, checkProblem{File: ws.Config.Path, Key: p.Key, Msg: p.Msg})
		}
	}
	out.OK = len(out.Problems) == 0
	if env.JSON {
		if err := printJSON(env.Stdout, out); err != nil {
			return err
		}
	} else {
		for _, p := range out.Problems {
			fmt.Fprintln(env.Stdout, formatProblem(p))
		}
		if out.OK {
			state := "disabled"
			if out.Enabled {
				state = "enabled"
			}
			fmt.Fprintf(env.Stdout, "%s: ok (webhooks %s, %d subscription(s))\n", out.File, state, len(ws.Config.Webhooks.Subscriptions))
		}
	}
	if !out.OK {
		return withCode(exitFailed, fmt.Errorf("config check: %d problem(s)", len(out.Problems)))
	}
	return nil
}

func formatProblem(p checkProblem) string {
	s := ""
	if p.File != "" {
		s = p.File
		if p.Line > 0 {
			s += fmt.Sprintf(":%d", p.Line)
		}
		s += ": "
	}
	if p.Key != "" {
		s += p.Key + ": "
	}
	return s + p.Msg
}
