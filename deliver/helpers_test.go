package deliver

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spec-kit/outbox/deliver/send"
	"github.com/spec-kit/outbox/deliver/signature"
	"github.com/spec-kit/outbox/ledger"
	"github.com/spec-kit/outbox/outbox"
	"github.com/spec-kit/outbox/outbox/config"
	"github.com/spec-kit/outbox/outbox/spool"
)

const testSecret = "test-secret-0b1c2d3e"

// sub describes one subscription of a test configuration.
type sub struct {
	id    string
	url   string
	extra string // more TOML lines
}

// testRepo is a repository with a config of loopback subscriptions.
type testRepo struct {
	t    *testing.T
	root string
	cfg  *config.Config
	env  map[string]string
}

func newRepo(t *testing.T, subs ...sub) *testRepo {
	t.Helper()
	root := t.TempDir()
	var b strings.Builder
	b.WriteString("[spec_ops.webhooks]\nenabled = true\nkick = false\nspool_dir = \"hooks/{spec_id}\"\nmax_concurrency = 8\n")
	for _, s := range subs {
		fmt.Fprintf(&b, "\n[[spec_ops.webhooks.subscriptions]]\nid = %q\nurl = %q\nsecret_env = \"SECRET\"\n%s\n", s.id, s.url, s.extra)
		// Fast retries, unless the test sets its own.
		for _, kv := range []string{"jitter_ms = 0", "initial_backoff_ms = 1", "backoff_factor = 1.0"} {
			if !strings.Contains(s.extra, strings.Fields(kv)[0]+" ") {
				b.WriteString(kv + "\n")
			}
		}
	}
	path := filepath.Join(root, "config.toml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return &testRepo{t: t, root: root, cfg: cfg, env: map[string]string{"SECRET": testSecret}}
}

func (r *testRepo) getenv(k string) string { return r.env[k] }

// emit enqueues n stage events for spec and returns their delivery ids in
// emit order.
func (r *testRepo) emit(spec string, n int) []string {
	r.t.Helper()
	em := &outbox.Emitter{Config: r.cfg, RepoRoot: r.root, Getenv: r.getenv}
	var ids []string
	for i := 0; i < n; i++ {
		res, err := em.Emit(outbox.Request{Spec: spec, Stage: "plan", Status: "success", Data: map[string]string{"seq": fmt.Sprint(i)}})
		if err != nil {
			r.t.Fatal(err)
		}
		for _, d := range res.Deliveries {
			ids = append(ids, d.ID)
		}
	}
	return ids
}

func (r *testRepo) runner() *Runner {
	return &Runner{
		Config: r.cfg, RepoRoot: r.root, Sender: send.NewClient(8, "outbox-test"),
		Getenv: r.getenv, UserAgent: "outbox-test",
	}
}

func (r *testRepo) run(linger time.Duration, specs ...string) Summary {
	r.t.Helper()
	rn := r.runner()
	rn.Linger = linger
	sum, err := rn.Run(context.Background(), specs)
	if err != nil {
		r.t.Fatal(err)
	}
	return sum
}

func (r *testRepo) dir(spec string) *spool.Dir {
	d, err := spool.Open(filepath.Join(r.root, "hooks", spec), spec)
	if err != nil {
		r.t.Fatal(err)
	}
	return d
}

// states returns how many delivery files each state folder holds.
func (r *testRepo) states(spec string) map[spool.State]int {
	r.t.Helper()
	out := map[spool.State]int{}
	for _, s := range spool.States {
		ents, err := os.ReadDir(r.dir(spec).StatePath(s))
		if err != nil && !os.IsNotExist(err) {
			r.t.Fatal(err)
		}
		out[s] = len(ents)
	}
	return out
}

// actions returns the ledger's action sequence for one delivery.
func (r *testRepo) actions(spec, id string) []string {
	r.t.Helper()
	es, err := ledger.ReadAll(r.dir(spec).LedgerPath())
	if err != nil {
		r.t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		if e.Delivery == id {
			a := e.Action
			if e.Action == ledger.ActionAttempt {
				a = fmt.Sprintf("attempt:%d", e.Status)
			}
			out = append(out, a)
		}
	}
	return out
}

func (r *testRepo) entries(spec string) []ledger.Entry {
	r.t.Helper()
	es, err := ledger.ReadAll(r.dir(spec).LedgerPath())
	if err != nil {
		r.t.Fatal(err)
	}
	return es
}

// recorder is a loopback receiver that verifies signatures and records
// what it got, answering with a scripted sequence of statuses.
type recorder struct {
	mu       sync.Mutex
	got      []received
	statuses []int // answers in order; then 200
	handler  http.HandlerFunc
	srv      *httptest.Server
}

type received struct {
	id, event, path string
	body            []byte
	verifyErr       error
	header          http.Header
}

func newRecorder(t *testing.T, statuses ...int) *recorder {
	rec := &recorder{statuses: statuses}
	rec.srv = httptest.NewServer(http.HandlerFunc(rec.serve))
	t.Cleanup(rec.srv.Close)
	return rec
}

func (rec *recorder) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	err := signature.Verify(req.Header, body, time.Now(), 0, testSecret)
	rec.mu.Lock()
	rec.got = append(rec.got, received{id: req.Header.Get("webhook-id"), event: req.Header.Get("X-SpecKit-Event"),
		path: req.URL.Path, body: body, verifyErr: err, header: req.Header.Clone()})
	status := http.StatusOK
	if len(rec.statuses) > 0 {
		status, rec.statuses = rec.statuses[0], rec.statuses[1:]
	}
	h := rec.handler
	rec.mu.Unlock()
	if h != nil {
		h(w, req)
		return
	}
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	w.WriteHeader(status)
}

func (rec *recorder) ids() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var out []string
	for _, g := range rec.got {
		out = append(out, g.id)
	}
	return out
}

func (rec *recorder) url(path string) string { return rec.srv.URL + path }
