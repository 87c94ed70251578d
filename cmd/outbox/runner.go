package main

import (
	"os"

	"github.com/spec-kit/outbox/deliver"
	"github.com/spec-kit/outbox/deliver/send"
	"github.com/spec-kit/outbox/outbox"
)

// newRunner is the delivery runner that deliver, replay and test use: a
// keep-alive client for n parallel deliveries (0: max_concurrency), secrets
// from the environment, outbox's User-Agent. close releases idle
// connections.
func newRunner(ws *outbox.Workspace, n int) (r *deliver.Runner, close func()) {
	if n <= 0 {
		n = ws.Config.Webhooks.MaxConcurrency
	}
	ua := "outbox/" + versionString()
	client := send.NewClient(n, ua)
	return &deliver.Runner{
		Config: ws.Config, RepoRoot: ws.Root, Sender: client, Getenv: os.Getenv,
		MaxConcurrency: n, UserAgent: ua,
	}, client.CloseIdle
}
