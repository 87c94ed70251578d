package main

import (
	"os"

	"github.com/spec-kit/outbox/outbox"
)

// workspace opens the repository and configuration named by the global
// flags; any failure is a configuration error (exit 3).
func (env *Env) workspace() (*outbox.Workspace, error) {
	ws, err := outbox.OpenWorkspace(env.Repo, env.ConfigPath, os.Getenv)
	return ws, withCode(exitConfig, err)
}
