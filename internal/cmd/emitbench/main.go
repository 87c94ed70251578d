// Command emitbench measures whole-process `outbox emit` latency: it runs
// the outbox binary many times against a throwaway repository with ten
// subscriptions, next to a trivial Go binary exec'd the same way, and
// prints p50/p95/p99 wall times of both. With -guardrail it then times the
// documented guardrail one-liner (a shell running `outbox emit --telemetry
// ... || true`) with the kick on and every endpoint down (a closed loopback
// port), against the 200 ms per-stage budget of the spec. It is run by
// `make bench`.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

const config = `[spec_ops.webhooks]
enabled = true
kick = false
spool_dir = "hooks/{spec_id}"
`

func main() {
	outbox := flag.String("outbox", "bin/outbox", "outbox binary")
	runs := flag.Int("runs", 300, "emits to time")
	guardrail := flag.Int("guardrail", 100, "guardrail one-liners to time with the kick on and the endpoint down (0: skip)")
	flag.Parse()
	if err := bench(*outbox, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "emitbench:", err)
		os.Exit(1)
	}
	if *guardrail > 0 {
		if err := benchGuardrail(*outbox, *guardrail); err != nil {
			fmt.Fprintln(os.Stderr, "emitbench:", err)
			os.Exit(1)
		}
	}
}

func bench(outbox string, runs int) error {
	dir, err := os.MkdirTemp("", "emitbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	repo := filepath.Join(dir, "repo")
	if err := os.MkdirAll(filepath.Join(repo, ".git"), 0o755); err != nil {
		return err
	}
	var cfg strings.Builder
	cfg.WriteString(config)
	for i := 1; i <= 10; i++ {
		fmt.Fprintf(&cfg, "\n[[spec_ops.webhooks.subscriptions]]\nid = \"sub-%02d\"\nurl = \"https://hooks.example.com/%d\"\nsecret_env = \"SPECKIT_WEBHOOK_SECRET\"\n", i, i)
	}
	if err := os.WriteFile(filepath.Join(repo, "config.toml"), []byte(cfg.String()), 0o644); err != nil {
		return err
	}
	trivial, err := buildTrivial(dir)
	if err != nil {
		return err
	}
	emit := func(i int) *exec.Cmd {
		c := exec.Command(outbox, "emit", "--spec", "SPEC-BENCH", "--stage", "implement", "--status", "success",
			"--idempotency-key", fmt.Sprintf("bench-%d", i))
		c.Dir = repo
		return c
	}
	tr := func(int) *exec.Cmd { return exec.Command(trivial) }
	for i := 0; i < 10; i++ { // warm the page cache
		_ = emit(-i - 1).Run()
		_ = tr(i).Run()
	}
	te, err := timeRuns(runs, emit, nil)
	if err != nil {
		return err
	}
	tt, err := timeRuns(runs, tr, nil)
	if err != nil {
		return err
	}
	fmt.Printf("whole-process latency over %d runs each (10 subscriptions, every file fsynced):\n", runs)
	fmt.Printf("  %-34s %s\n", "outbox emit", summary(te))
	fmt.Printf("  %-34s %s\n", "trivial Go binary (exec)", summary(tt))
	return nil
}

func timeRuns(n int, mk func(int) *exec.Cmd, between func() error) ([]time.Duration, error) {
	out := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		if between != nil {
			if err := between(); err != nil {
				return nil, err
			}
		}
		c := mk(i)
		var stderr strings.Builder
		c.Stderr = &stderr
		t0 := time.Now()
		if err := c.Run(); err != nil {
			return nil, fmt.Errorf("%v: %v: %s", c.Args, err, stderr.String())
		}
		out = append(out, time.Since(t0))
	}
	slices.Sort(out)
	return out, nil
}

func summary(d []time.Duration) string {
	p := func(q float64) string {
		i := int(q*float64(len(d))+0.5) - 1
		i = max(0, min(i, len(d)-1))
		return fmt.Sprintf("%6.2fms", float64(d[i].Microseconds())/1000)
	}
	return fmt.Sprintf("p50 %s  p95 %s  p99 %s", p(0.50), p(0.95), p(0.99))
}

func buildTrivial(dir string) (string, error) {
	src := filepath.Join(dir, "trivial")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return "", err
	}
	files := map[string]string{
		"go.mod":  "module trivial\n\ngo 1.22\n",
		"main.go": "package main\n\nimport \"os\"\n\nfunc main() { os.Stdout.WriteString(\"\") }\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			return "", err
		}
	}
	bin := filepath.Join(dir, "trivial-bin")
	c := exec.Command("go", "build", "-o", bin, ".")
	c.Dir = src
	c.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	if out, err := c.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build trivial binary: %v\n%s", err, out)
	}
	return bin, nil
}
