package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofrs/flock"
)

// guardrailLine is the one-liner of docs/guardrail.md, as a guardrail script
// runs it right after writing its telemetry.
const guardrailLine = `outbox emit --telemetry "$TELEMETRY" >/dev/null 2>>"$LOG" || true`

// benchGuardrail times the guardrail one-liner in a shell, with the kick on
// (each emit starts a detached deliver) and every subscription pointing at a
// loopback port where nothing listens.
func benchGuardrail(outbox string, runs int) error {
	dir, err := os.MkdirTemp("", "emitbench-guardrail-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	repo := filepath.Join(dir, "repo")
	evidence := filepath.Join(repo, "evidence", "SPEC-BENCH")
	if err := os.MkdirAll(evidence, 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(repo, ".git"), 0o755); err != nil {
		return err
	}
	port, err := closedPort()
	if err != nil {
		return err
	}
	var cfg strings.Builder
	cfg.WriteString("[spec_ops.webhooks]\nenabled = true\nspool_dir = \"hooks/{spec_id}\"\n")
	for i := 1; i <= 10; i++ {
		fmt.Fprintf(&cfg, "\n[[spec_ops.webhooks.subscriptions]]\nid = \"sub-%02d\"\nurl = \"http://127.0.0.1:%d/%d\"\nsecret_env = \"SPECKIT_WEBHOOK_SECRET\"\n", i, port, i)
	}
	if err := os.WriteFile(filepath.Join(repo, "config.toml"), []byte(cfg.String()), 0o644); err != nil {
		return err
	}
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return err
	}
	abs, err := filepath.Abs(outbox)
	if err != nil {
		return err
	}
	if err := os.Symlink(abs, filepath.Join(bin, "outbox")); err != nil {
		return err
	}
	stages := []string{"plan", "tasks", "implement", "validate", "audit", "unlock"}
	mk := func(i int) *exec.Cmd {
		stage := stages[i%len(stages)]
		tel := filepath.Join(evidence, fmt.Sprintf("spec-%s_2026-12-04T10:00:%02dZ-%d.json", stage, i%60, i))
		body := fmt.Sprintf(`{"schemaVersion":1,"command":"spec-ops-%s","specId":"SPEC-BENCH","sessionId":"s-%d","timestamp":"2026-12-04T10:00:00Z","policy":{"final":{"status":"passed"}},"artifacts":[]}`, stage, i)
		if err := os.WriteFile(tel, []byte(body), 0o644); err != nil {
			panic(err)
		}
		c := exec.Command("sh", "-c", guardrailLine)
		c.Dir = repo
		c.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
			"TELEMETRY="+tel, "LOG="+filepath.Join(dir, "guardrail.log"), "SPECKIT_WEBHOOK_SECRET=bench")
		return c
	}
	times, err := timeRuns(runs, mk, nil)
	if err != nil {
		return err
	}
	fmt.Printf("guardrail one-liner, kick on, endpoint down, %d runs (budget 200 ms per stage):\n", runs)
	fmt.Printf("  %-34s %s  max %6.2fms\n", "sh -c 'outbox emit --telemetry ...'", summary(times), float64(times[len(times)-1].Microseconds())/1000)
	// Let the kicked deliver runs finish before the folder goes away.
	lock := flock.New(filepath.Join(repo, "hooks", "SPEC-BENCH", ".deliver.lock"))
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if ok, _ := lock.TryLock(); ok {
			_ = lock.Unlock()
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Show that the kicked runs did try, and found the endpoint down.
	ledger, err := os.ReadFile(filepath.Join(repo, "hooks", "SPEC-BENCH", "ledger.jsonl"))
	if err != nil {
		return err
	}
	fmt.Printf("  kicked deliver runs recorded %d attempts, %d delivered\n",
		strings.Count(string(ledger), `"action":"attempt"`), strings.Count(string(ledger), `"action":"delivered"`))
	return nil
}

// closedPort returns a loopback port where nothing listens.
func closedPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	return port, l.Close()
}
