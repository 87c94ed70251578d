package deliver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spec-kit/outbox/deliver/send"
	"github.com/spec-kit/outbox/ledger"
	"github.com/spec-kit/outbox/outbox"
	"github.com/spec-kit/outbox/outbox/config"
	"github.com/spec-kit/outbox/outbox/spool"
)

// TestMain lets the test binary act as an emitter or a deliver process.
func TestMain(m *testing.M) {
	switch os.Getenv("DELIVER_TEST_ROLE") {
	case "":
		os.Exit(m.Run())
	case "emit":
		os.Exit(roleEmit())
	case "deliver":
		os.Exit(roleDeliver())
	}
	os.Exit(2)
}

func roleConfig() (*config.Config, string) {
	root := os.Getenv("DELIVER_TEST_REPO")
	cfg, err := config.Load(filepath.Join(root, "config.toml"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	return cfg, root
}

func roleEmit() int {
	cfg, root := roleConfig()
	n, _ := strconv.Atoi(os.Getenv("DELIVER_TEST_N"))
	em := &outbox.Emitter{Config: cfg, RepoRoot: root}
	for i := 0; i < n; i++ {
		_, err := em.Emit(outbox.Request{Spec: "SPEC-1", Stage: "plan", Status: "success",
			Data: map[string]string{"proc": os.Getenv("DELIVER_TEST_PROC"), "seq": strconv.Itoa(i)}})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

// roleDeliver runs deliver until the stop file exists, then once more, the
// way cron and kicked runs would.
func roleDeliver() int {
	cfg, root := roleConfig()
	r := &Runner{Config: cfg, RepoRoot: root, Sender: send.NewClient(8, "outbox-test"), UserAgent: "outbox-test"}
	stop := os.Getenv("DELIVER_TEST_STOP")
	for {
		_, statErr := os.Stat(stop)
		if _, err := r.Run(context.Background(), []string{"SPEC-1"}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if stop == "" || statErr == nil {
			return 0
		}
	}
}

func startRole(t *testing.T, role, root string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{"DELIVER_TEST_ROLE=" + role, "DELIVER_TEST_REPO=" + root, "SECRET=" + testSecret}, env...)...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// countingReceiver records, per subscription path, the (proc, seq) of each
// delivery and how often each id arrived.
type countingReceiver struct {
	hits  chan struct{} // a request arrived (coalesced)
	delay time.Duration // answer after this long
	mu    sync.Mutex
	byID  map[string]int
	order map[string][]string // path -> "proc/seq" in arrival order
	srv   *httptest.Server
}

func newCountingReceiver(t *testing.T) *countingReceiver {
	c := &countingReceiver{byID: map[string]int{}, order: map[string][]string{}, hits: make(chan struct{}, 1)}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		select {
		case c.hits <- struct{}{}:
		default:
		}
		if c.delay > 0 {
			time.Sleep(c.delay) // a slow endpoint, so that kills land mid-run
		}
		var p struct {
			Data map[string]string `json:"data"`
		}
		json.Unmarshal(body, &p)
		c.mu.Lock()
		c.byID[r.Header.Get("webhook-id")]++
		c.order[r.URL.Path] = append(c.order[r.URL.Path], p.Data["proc"]+"/"+p.Data["seq"])
		c.mu.Unlock()
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func tenSubs(url string) []sub {
	var subs []sub
	for i := 0; i < 10; i++ {
		subs = append(subs, sub{id: fmt.Sprintf("s%d", i), url: fmt.Sprintf("%s/s%d", url, i)})
	}
	return subs
}

// TestConcurrentEmittersAndRuns: 8 emitter processes and 3 deliver
// processes over 10 subscriptions. Every event arrives exactly once, and
// each subscription receives each emitter's events in that emitter's order.
func TestConcurrentEmittersAndRuns(t *testing.T) {
	const emitters, events = 8, 15
	rec := newCountingReceiver(t)
	r := newRepo(t, tenSubs(rec.srv.URL)...)
	stop := filepath.Join(t.TempDir(), "stop")
	var delivers []*exec.Cmd
	for i := 0; i < 3; i++ {
		delivers = append(delivers, startRole(t, "deliver", r.root, "DELIVER_TEST_STOP="+stop))
	}
	var ems []*exec.Cmd
	for i := 0; i < emitters; i++ {
		ems = append(ems, startRole(t, "emit", r.root, fmt.Sprintf("DELIVER_TEST_PROC=p%d", i), fmt.Sprintf("DELIVER_TEST_N=%d", events)))
	}
	for _, c := range ems {
		if err := c.Wait(); err != nil {
			t.Fatalf("emitter: %v", err)
		}
	}
	os.WriteFile(stop, nil, 0o644)
	for _, c := range delivers {
		if err := c.Wait(); err != nil {
			t.Fatalf("deliver: %v", err)
		}
	}
	// Runs that found the lock taken leave work to its holder, which looks
	// again after unlocking, so nothing is left behind.
	if st := r.states("SPEC-1"); st[spool.Pending] != 0 || st[spool.Sent] != emitters*events*10 {
		t.Fatalf("states %v", st)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.byID) != emitters*events*10 {
		t.Fatalf("%d distinct ids arrived, want %d", len(rec.byID), emitters*events*10)
	}
	for id, n := range rec.byID {
		if n != 1 {
			t.Fatalf("delivery %s arrived %d times", id, n)
		}
	}
	for path, seqs := range rec.order {
		last := map[string]int{}
		for _, ps := range seqs {
			var proc string
			var seq int
			fmt.Sscanf(ps, "%2s/%d", &proc, &seq)
			if prev, ok := last[proc]; ok && seq <= prev {
				t.Fatalf("%s received %s after seq %d", path, ps, prev)
			}
			last[proc] = seq
		}
	}
}

// TestKillNineLosesNothing kills deliver processes at random moments, then
// lets a clean run finish. Every delivery arrives at least once with its
// id, every file is in exactly one state folder, and the ledger parses.
func TestKillNineLosesNothing(t *testing.T) {
	rec := newCountingReceiver(t)
	rec.delay = time.Millisecond
	r := newRepo(t, sub{id: "a", url: rec.srv.URL + "/a"}, sub{id: "b", url: rec.srv.URL + "/b"})
	ids := r.emit("SPEC-1", 200)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	trials := 15
	for i := 0; i < trials; i++ {
		select { // forget hits of earlier trials
		case <-rec.hits:
		default:
		}
		cmd := startRole(t, "deliver", r.root)
		select {
		case <-rec.hits: // this run is sending
		case <-time.After(30 * time.Second):
			t.Fatal("the deliver process sent nothing")
		}
		time.Sleep(time.Duration(rng.IntN(20_000)) * time.Microsecond) // a random moment, not synchronisation
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
	}
	if st := r.states("SPEC-1"); st[spool.Pending] == 0 || st[spool.Sent] == 0 {
		t.Fatalf("the kills did not land mid-run: %v", st)
	}
	r.run(0, "SPEC-1")

	rec.mu.Lock()
	for _, id := range ids {
		if rec.byID[id] < 1 {
			t.Errorf("delivery %s never arrived", id)
		}
	}
	rec.mu.Unlock()
	where := map[string][]spool.State{}
	d := r.dir("SPEC-1")
	for _, s := range spool.States {
		names, bad, err := d.List(s)
		if err != nil || len(bad) > 0 {
			t.Fatalf("%s: %v %v", s, bad, err)
		}
		for _, n := range names {
			where[n.ID] = append(where[n.ID], s)
		}
	}
	for _, id := range ids {
		if len(where[id]) != 1 || where[id][0] != spool.Sent {
			t.Errorf("delivery %s is in %v, want exactly sent/", id, where[id])
		}
	}
	es, err := ledger.ReadAll(d.LedgerPath())
	if err != nil {
		t.Fatalf("ledger: %v", err)
	}
	delivered := map[string]bool{}
	for _, e := range es {
		if e.Action == ledger.ActionDelivered {
			delivered[e.Delivery] = true
		}
	}
	if len(delivered) != len(ids) {
		t.Fatalf("ledger records %d deliveries as delivered, want %d", len(delivered), len(ids))
	}
}
