package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spec-kit/outbox/receiver"
)

// ListenCmd is `outbox listen`.
type ListenCmd struct {
	Addr              string `default:"127.0.0.1:8787" help:"Address to listen on (loopback by default; :0 picks a free port)."`
	SecretEnv         string `required:"" placeholder:"NAME" help:"Environment variable holding the secret to verify with."`
	PreviousSecretEnv string `placeholder:"NAME" help:"Also accept signatures made with this secret (rotation)."`
	Fail              int    `placeholder:"N" help:"Answer the first N requests with --fail-status."`
	FailStatus        int    `default:"503" help:"Status for the --fail requests."`
	RetryAfter        int    `placeholder:"SECONDS" help:"Send Retry-After: SECONDS with the --fail answers (try --fail-status 429)."`
	Status            int    `default:"200" help:"Status for every other verified request."`
	Count             int    `placeholder:"N" help:"Exit after N verified requests answered with a 2xx."`
	Body              bool   `help:"Print each body after its line."`
}

// Help is shown by `outbox listen --help`.
func (c *ListenCmd) Help() string {
	return `A local receiver, like 'stripe listen': it verifies both signature schemes
(X-SpecKit-Signature and Standard Webhooks) on every request and prints one
line per delivery (JSON lines with --json). Point a subscription's url at it
to try a configuration end to end.

Examples:
  SPECKIT_WEBHOOK_SECRET=s3cret outbox listen --secret-env SPECKIT_WEBHOOK_SECRET
  outbox listen --addr 127.0.0.1:0 --secret-env S --fail 2      # 503 twice, then 200`
}

// Run serves until interrupted or --count deliveries arrived.
func (c *ListenCmd) Run(env *Env) error {
	secret := os.Getenv(c.SecretEnv)
	if secret == "" {
		return withCode(exitUsage, fmt.Errorf("--secret-env: environment variable %s is not set", c.SecretEnv))
	}
	secrets := []string{secret}
	if c.PreviousSecretEnv != "" {
		if p := os.Getenv(c.PreviousSecretEnv); p != "" {
			secrets = append(secrets, p)
		}
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return withCode(exitRuntime, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var (
		mu   sync.Mutex
		done = make(chan struct{})
		ok   int
	)
	h := &receiver.Handler{Secrets: secrets, Fail: c.Fail, FailWith: c.FailStatus, Status: c.Status, RetryAfter: c.RetryAfter,
		OnDeliver: func(d receiver.Delivery) {
			mu.Lock()
			defer mu.Unlock()
			if env.JSON {
				json.NewEncoder(env.Stdout).Encode(d)
			} else {
				fmt.Fprintln(env.Stdout, d.Line())
				if c.Body {
					fmt.Fprintf(env.Stdout, "%s\n", d.Body)
				}
			}
			if d.Verified && d.Status < 300 {
				ok++
				if c.Count > 0 && ok == c.Count {
					close(done)
				}
			}
		}}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(env.Stderr, "outbox: listening on http://%s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
	case <-done:
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return withCode(exitRuntime, err)
		}
	}
	shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return srv.Shutdown(shut)
}
