package deliver

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spec-kit/outbox/deliver/signature"
	"github.com/spec-kit/outbox/ledger"
	"github.com/spec-kit/outbox/outbox/spool"
)

// TestOutcomes runs one delivery against each kind of endpoint and checks
// where it ends and what the ledger says. Backoffs are 1 ms and the run
// lingers, so retries happen within one run.
func TestOutcomes(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release) // before slow.Close, which waits for its handlers
	var redirectTargetHits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { redirectTargetHits.Add(1) }))
	defer target.Close()
	redirect := httptest.NewServer(http.RedirectHandler(target.URL+"/moved", http.StatusFound))
	defer redirect.Close()
	reset := resetServer(t)

	tests := []struct {
		name     string
		statuses []int  // recorder script, when url is empty
		url      string // a special endpoint
		extra    string
		state    spool.State
		actions  []string
		reason   string // in the dead line
	}{
		{name: "healthy", state: spool.Sent,
			actions: []string{"enqueued", "attempt:200", "delivered"}},
		{name: "503 twice then 200", statuses: []int{503, 503}, state: spool.Sent,
			actions: []string{"enqueued", "attempt:503", "retry_scheduled", "attempt:503", "retry_scheduled", "attempt:200", "delivered"}},
		{name: "429 with Retry-After", statuses: []int{429}, state: spool.Sent,
			actions: []string{"enqueued", "attempt:429", "retry_scheduled", "attempt:200", "delivered"}},
		{name: "410 gone", statuses: []int{410}, state: spool.Dead,
			actions: []string{"enqueued", "attempt:410", "dead"}},
		{name: "400", statuses: []int{400}, state: spool.Dead,
			actions: []string{"enqueued", "attempt:400", "dead"}},
		{name: "500 until attempts run out", statuses: []int{500, 500, 500}, extra: "max_attempts = 3", state: spool.Dead,
			actions: []string{"enqueued", "attempt:500", "retry_scheduled", "attempt:500", "retry_scheduled", "attempt:500", "dead"},
			reason:  "max attempts"},
		{name: "slow past the timeout", url: slow.URL + "/slow", extra: "per_request_timeout_ms = 100\nmax_attempts = 2", state: spool.Dead,
			actions: []string{"enqueued", "attempt:0", "retry_scheduled", "attempt:0", "dead"}, reason: "max attempts"},
		{name: "connection reset", url: reset + "/reset", extra: "max_attempts = 2", state: spool.Dead,
			actions: []string{"enqueued", "attempt:0", "retry_scheduled", "attempt:0", "dead"}},
		{name: "redirect is not followed", url: redirect.URL + "/old", state: spool.Dead,
			actions: []string{"enqueued", "attempt:302", "dead"}, reason: "redirect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := tt.url
			if u == "" {
				u = newRecorder(t, tt.statuses...).url("/hook")
			}
			r := newRepo(t, sub{id: "ops", url: u, extra: tt.extra})
			ids := r.emit("SPEC-1", 1)
			sum := r.run(5*time.Second, "SPEC-1")
			st := r.states("SPEC-1")
			if st[tt.state] != 1 || st[spool.Pending] != 0 {
				t.Fatalf("states = %v, want the delivery in %s (summary %+v)", st, tt.state, sum)
			}
			if got := r.actions("SPEC-1", ids[0]); !slices.Equal(got, tt.actions) {
				t.Fatalf("ledger actions:\n got %v\nwant %v", got, tt.actions)
			}
			for _, e := range r.entries("SPEC-1") {
				if e.Action == ledger.ActionDead && !strings.Contains(e.Reason, tt.reason) {
					t.Fatalf("dead reason %q does not mention %q", e.Reason, tt.reason)
				}
				if e.Action == ledger.ActionAttempt && e.Status == 0 && e.Error == "" {
					t.Fatalf("failed attempt without an error: %+v", e)
				}
			}
		})
	}
	if n := redirectTargetHits.Load(); n != 0 {
		t.Fatalf("redirect was followed %d times", n)
	}
}

// resetServer accepts connections and resets them at once.
func resetServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
		}
	}()
	return "http://" + ln.Addr().String()
}

// TestSignedAndIdentical: what arrives verifies with the secret, carries
// the delivery id in both id headers, and the body is the spool file's.
func TestSignedAndIdentical(t *testing.T) {
	rec := newRecorder(t, 503)
	r := newRepo(t, sub{id: "ops", url: rec.url("/hook")})
	ids := r.emit("SPEC-1", 1)
	d := r.dir("SPEC-1")
	names, _, _ := d.List(spool.Pending)
	want, err := d.Read(spool.Pending, names[0])
	if err != nil {
		t.Fatal(err)
	}
	r.run(5*time.Second, "SPEC-1")
	if len(rec.got) != 2 {
		t.Fatalf("got %d requests, want 2", len(rec.got))
	}
	for _, g := range rec.got {
		if g.verifyErr != nil {
			t.Fatalf("signature did not verify: %v", g.verifyErr)
		}
		if g.id != ids[0] || g.header.Get("X-SpecKit-Id") != ids[0] || g.event != "spec-auto.stage.completed" {
			t.Fatalf("headers: %v", g.header)
		}
		if string(g.body) != string(want.Body) {
			t.Fatal("body differs from the spool file's")
		}
		if !strings.HasPrefix(g.header.Get("User-Agent"), "outbox") || g.header.Get("Content-Type") != "application/json" {
			t.Fatalf("headers: %v", g.header)
		}
	}
}

// TestFIFOPerSubscription: while the first delivery waits for its retry,
// later ones to the same subscription wait too; another subscription is
// not held up.
func TestFIFOPerSubscription(t *testing.T) {
	a := newRecorder(t, 503, 503)
	b := newRecorder(t)
	r := newRepo(t, sub{id: "a", url: a.url("/a")}, sub{id: "b", url: b.url("/b")})
	ids := r.emit("SPEC-1", 5)
	var wantA, wantB []string
	for i, id := range ids {
		if i%2 == 0 {
			wantA = append(wantA, id)
		} else {
			wantB = append(wantB, id)
		}
	}
	r.run(5*time.Second, "SPEC-1")
	gotA := a.ids()
	want := append([]string{wantA[0], wantA[0]}, wantA...)
	if !slices.Equal(gotA, want) {
		t.Fatalf("subscription a got %v\nwant %v", gotA, want)
	}
	if !slices.Equal(b.ids(), wantB) {
		t.Fatalf("subscription b got %v, want %v", b.ids(), wantB)
	}
}

// TestNoLingerLeavesRetryForLater: without linger a run returns with the
// retry pending and its due time in the file name; the next run after the
// due time sends it.
func TestNoLingerLeavesRetryForLater(t *testing.T) {
	rec := newRecorder(t, 503)
	r := newRepo(t, sub{id: "ops", url: rec.url("/hook"), extra: "initial_backoff_ms = 60000"})
	r.emit("SPEC-1", 1)
	sum := r.run(0, "SPEC-1")
	if sum.Retrying != 1 || sum.Pending != 1 {
		t.Fatalf("summary %+v", sum)
	}
	names, _, _ := r.dir("SPEC-1").List(spool.Pending)
	if len(names) != 1 || names[0].Attempt != 2 || time.Until(names[0].Due) < 50*time.Second {
		t.Fatalf("rescheduled name: %+v", names)
	}
	// Not due yet: a run does nothing.
	if sum := r.run(0, "SPEC-1"); sum.Delivered+sum.Retrying != 0 {
		t.Fatalf("a run sent a delivery that is not due: %+v", sum)
	}
	rn := r.runner()
	rn.Now = func() time.Time { return time.Now().Add(2 * time.Minute) }
	if _, err := rn.Run(t.Context(), []string{"SPEC-1"}); err != nil {
		t.Fatal(err)
	}
	if st := r.states("SPEC-1"); st[spool.Sent] != 1 {
		t.Fatalf("states %v", st)
	}
}

func TestMissingSecretIsNeverSentUnsigned(t *testing.T) {
	rec := newRecorder(t)
	r := newRepo(t, sub{id: "ops", url: rec.url("/hook"), extra: "max_attempts = 2"})
	delete(r.env, "SECRET")
	ids := r.emit("SPEC-1", 1)
	r.run(5*time.Second, "SPEC-1")
	if len(rec.got) != 0 {
		t.Fatalf("an unsigned request was sent")
	}
	if got := r.actions("SPEC-1", ids[0]); !slices.Equal(got, []string{"enqueued", "attempt:0", "retry_scheduled", "attempt:0", "dead"}) {
		t.Fatalf("actions %v", got)
	}
	for _, e := range r.entries("SPEC-1") {
		if e.Action == ledger.ActionAttempt && !strings.Contains(e.Error, "SECRET") {
			t.Fatalf("attempt error does not name the variable: %q", e.Error)
		}
	}
}

func TestSecretRotation(t *testing.T) {
	var got []error
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body := make([]byte, req.ContentLength)
		req.Body.Read(body)
		got = append(got, signature.Verify(req.Header, body, time.Now(), 0, "old-secret"))
	}))
	defer srv.Close()
	r := newRepo(t, sub{id: "ops", url: srv.URL, extra: `previous_secret_env = "OLD"`})
	r.env["OLD"] = "old-secret"
	r.emit("SPEC-1", 1)
	r.run(0, "SPEC-1")
	if len(got) != 1 || got[0] != nil {
		t.Fatalf("a receiver holding only the previous secret could not verify: %v", got)
	}
}

// TestDeadLettersWhatCannotBeSent: a subscription removed from the config,
// a file that is not a delivery, a damaged body.
func TestDeadLettersWhatCannotBeSent(t *testing.T) {
	rec := newRecorder(t)
	r := newRepo(t, sub{id: "ops", url: rec.url("/hook")}, sub{id: "gone", url: rec.url("/gone")})
	r.emit("SPEC-1", 2)
	d := r.dir("SPEC-1")
	names, _, _ := d.List(spool.Pending)
	// Damage one "ops" file, add a stray file, then drop "gone" from the config.
	for _, n := range names {
		if n.Subscription == "ops" {
			p := d.Path(spool.Pending, n)
			data, _ := os.ReadFile(p)
			os.WriteFile(p, []byte(strings.Replace(string(data), `"success"`, `"failure"`, 1)), 0o644)
			break
		}
	}
	os.WriteFile(d.StatePath(spool.Pending)+"/notes.txt", []byte("hello"), 0o644)
	r.cfg.Webhooks.Subscriptions = r.cfg.Webhooks.Subscriptions[:1]
	sum := r.run(0, "SPEC-1")
	if sum.Delivered != 1 || sum.Dead != 4 {
		t.Fatalf("summary %+v, want 1 delivered, 4 dead", sum)
	}
	reasons := map[string]bool{}
	for _, e := range r.entries("SPEC-1") {
		if e.Action == ledger.ActionDead {
			switch {
			case strings.Contains(e.Reason, "no longer in the configuration"):
				reasons["gone"] = true
			case strings.Contains(e.Reason, "not a delivery file name"):
				reasons["stray"] = true
			case strings.Contains(e.Reason, "checksum"):
				reasons["damaged"] = true
			}
			if strings.Contains(e.Reason, r.root) {
				t.Fatalf("reason holds a machine path: %q", e.Reason)
			}
		}
	}
	if len(reasons) != 3 {
		t.Fatalf("dead reasons seen: %v", reasons)
	}
	if st := r.states("SPEC-1"); st[spool.Pending] != 0 || st[spool.Dead] != 4 {
		t.Fatalf("states %v", st)
	}
}

func TestDryRunRecordsAndSendsNothing(t *testing.T) {
	rec := newRecorder(t)
	r := newRepo(t, sub{id: "ops", url: rec.url("/hook/T0K3N"), extra: "dry_run = true"})
	ids := r.emit("SPEC-1", 1)
	sum := r.run(0, "SPEC-1")
	if sum.DryRun != 1 || len(rec.got) != 0 {
		t.Fatalf("summary %+v, %d requests", sum, len(rec.got))
	}
	data, err := os.ReadFile(r.dir("SPEC-1").Root + "/dry-run/" + ids[0] + ".http")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for _, want := range []string{"X-Speckit-Id: " + ids[0], `"schemaVersion": "1.0"`, "Host: 127.0.0.1"} {
		if !strings.Contains(s, want) {
			t.Fatalf("record lacks %q:\n%s", want, s)
		}
	}
	for _, never := range []string{"Signature", "T0K3N", testSecret} {
		if strings.Contains(s, never) {
			t.Fatalf("record holds %q:\n%s", never, s)
		}
	}
	if got := r.actions("SPEC-1", ids[0]); !slices.Equal(got, []string{"enqueued", "dry_run"}) {
		t.Fatalf("actions %v", got)
	}
}
