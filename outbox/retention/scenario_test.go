package retention_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spec-kit/outbox/deliver"
	"github.com/spec-kit/outbox/deliver/send"
	"github.com/spec-kit/outbox/internal/lazyre"
	"github.com/spec-kit/outbox/internal/uuidv7"
	"github.com/spec-kit/outbox/ledger"
	"github.com/spec-kit/outbox/outbox"
	"github.com/spec-kit/outbox/outbox/config"
	"github.com/spec-kit/outbox/outbox/retention"
	"github.com/spec-kit/outbox/outbox/spool"
)

// TestTenThousandEventsToADeadEndpoint is the scenario: 10,000
// events for an endpoint that answers 410 Gone, so each delivery is dead at
// once. Deliveries are enqueued 250 at a time; after each batch a real
// deliver run dead-letters them and eviction runs under the run lock, as
// at the end of every deliver run. The SPEC's webhooks/ directory stays
// under the cap throughout, and every delivery is either still in a state
// folder or recorded as evicted (or counted by the line of a dropped
// archive that recorded it).
func TestTenThousandEventsToADeadEndpoint(t *testing.T) {
	for _, tc := range []struct {
		name string
		cap  int64
	}{
		{"1MB", 1_000_000},
		{"default 5MB", retention.DefaultMaxBytes},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() && tc.cap != 1_000_000 {
				t.Skip("-short: the 1MB case only")
			}
			t.Parallel()
			deadEndpoint(t, tc.cap, 10_000, 250)
		})
	}
}

func deadEndpoint(t *testing.T, maxBytes int64, events, batch int) {
	root := t.TempDir()
	cfgPath := filepath.Join(root, "config.toml")
	cfg := fmt.Sprintf(`[spec_ops.webhooks]
enabled = true
kick = false
spool_dir = "hooks/{spec_id}"
max_concurrency = 4

[[spec_ops.webhooks.subscriptions]]
id = "chatops"
url = "https://hooks.example.com/speckit"
secret_env = "SECRET"
`)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string { return map[string]string{"SECRET": "s3cret"}[k] }
	// A real payload, as emit builds it.
	em := &outbox.Emitter{Config: c, RepoRoot: root, Getenv: getenv}
	prev, err := em.Emit(outbox.Request{Spec: "SPEC-KIT-065", Stage: "validate", Status: "failure", Preview: true,
		Data: map[string]string{"run": "42"}})
	if err != nil {
		t.Fatal(err)
	}
	dir, err := spool.Open(filepath.Join(root, "hooks", "SPEC-KIT-065"), "SPEC-KIT-065")
	if err != nil {
		t.Fatal(err)
	}
	if err := dir.Init(); err != nil {
		t.Fatal(err)
	}
	runner := &deliver.Runner{Config: c, RepoRoot: root, Sender: gone{}, Getenv: getenv, UserAgent: "outbox-test"}
	ctx := context.Background()

	all := map[string]bool{}
	var reports []retention.Report
	for sent := 0; sent < events; sent += batch {
		now := time.Now().UTC()
		var ds []*spool.Delivery
		var lines []ledger.Entry
		for i := 0; i < batch; i++ {
			d := &spool.Delivery{ID: uuidv7.New(now), EventID: uuidv7.New(now), Event: "spec-auto.stage.completed",
				Spec: dir.Spec, Subscription: "chatops", IdempotencyKey: fmt.Sprintf("SPEC-KIT-065/Validate/%d", sent+i),
				CreatedAt: now, Body: prev.Body}
			ds = append(ds, d)
			all[d.ID] = true
			lines = append(lines, ledger.Entry{Time: now, Action: ledger.ActionEnqueued, Spec: d.Spec, Delivery: d.ID,
				EventID: d.EventID, Event: d.Event, Subscription: d.Subscription, Key: d.IdempotencyKey})
		}
		// Written directly, without spool.Enqueue's fsyncs: durability is
		// not what this test is about, and creating 10,000 files is most of
		// its time on a virtual disk.
		for _, d := range ds {
			data, err := d.Encode()
			if err != nil {
				t.Fatal(err)
			}
			n := spool.Name{Due: now, Attempt: 1, ID: d.ID, Subscription: d.Subscription}
			if err := os.WriteFile(dir.Path(spool.Pending, n), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := ledger.Append(dir.LedgerPath(), lines...); err != nil {
			t.Fatal(err)
		}
		sum, err := runner.Run(ctx, []string{dir.Spec})
		if err != nil || sum.Dead != batch {
			t.Fatalf("deliver run: %+v, %v; want %d dead", sum, err, batch)
		}
		// What the end of a deliver run does, under the run lock.
		rep, err := retention.RunLocked(ctx, dir, retention.Options{MaxBytes: maxBytes})
		if err != nil {
			t.Fatal(err)
		}
		if rep.After > maxBytes || rep.OverCap {
			t.Fatalf("after %d events: %+v", sent+batch, rep)
		}
		reports = append(reports, rep)
	}

	// Under the cap, measured independently.
	size := treeSize(t, dir.Root)
	if size >= maxBytes {
		t.Fatalf("webhooks/ holds %d bytes, cap %d", size, maxBytes)
	}
	// Which deliveries are still there, and which are recorded evicted.
	present := map[string]bool{}
	for _, s := range spool.States {
		names, bad, err := dir.List(s)
		if err != nil || len(bad) > 0 {
			t.Fatalf("list %s: %v %v", s, bad, err)
		}
		for _, n := range names {
			present[n.ID] = true
		}
	}
	evicted := map[string]int{} // id -> evicted lines, in the archives and the live ledger
	dropped := 0                // archives dropped
	for _, l := range historyLines(t, dir) {
		if l.Action != ledger.ActionEvicted {
			continue
		}
		if l.Delivery != "" {
			evicted[l.Delivery]++
			if k := retention.Classify(l.entry()); k != retention.KindDead {
				t.Fatalf("a %s eviction with only dead letters: %+v", k, l)
			}
		}
		if retention.Classify(l.entry()) == retention.KindArchiveDropped {
			dropped++
		}
	}
	tally, err := retention.Tally(dir)
	if err != nil {
		t.Fatal(err)
	}
	gone := len(all) - len(present)
	if gone == 0 || tally.Dead != gone || tally.Deliveries() != gone {
		t.Fatalf("%d deliveries gone, the ledger records %+v", gone, tally)
	}
	visible := 0
	for id, n := range evicted {
		if n != 1 || present[id] || !all[id] {
			t.Fatalf("delivery %s: %d evicted lines, present %v, known %v", id, n, present[id], all[id])
		}
		visible++
	}
	// Every delivery is either present or has its evicted line, except those
	// whose lines were in a dropped archive: the drop lines carry them.
	if dropped == 0 && visible != gone {
		t.Fatalf("%d deliveries gone, %d evicted lines", gone, visible)
	}
	if dropped > 0 && visible+carriedDead(t, dir) != gone {
		t.Fatalf("%d deliveries gone: %d evicted lines + %d carried by dropped archives", gone, visible, carriedDead(t, dir))
	}
	for id := range all {
		if !present[id] && evicted[id] == 0 && dropped == 0 {
			t.Fatalf("delivery %s vanished without a record", id)
		}
	}
	last := reports[len(reports)-1]
	var rotations, drops int
	for _, r := range reports {
		rotations += len(r.Rotations)
		drops += r.ArchivesDropped.Files
	}
	t.Logf("cap %d: %d bytes at the end; %d dead letters left, %d evicted (%d with a visible line); %d rotations, %d archives dropped; last run %d -> %d bytes",
		maxBytes, size, len(present), gone, visible, rotations, drops, last.Before, last.After)
}

// line is a ledger line as the test reads it back.
type line struct {
	Action   string `json:"action"`
	Delivery string `json:"delivery"`
	Reason   string `json:"reason"`
	Bytes    int64  `json:"bytes"`
}

func (l line) entry() ledger.Entry {
	return ledger.Entry{Action: l.Action, Delivery: l.Delivery, Reason: l.Reason, Bytes: l.Bytes}
}

// historyLines reads the archives (in name order) and the live ledger.
func historyLines(t *testing.T, dir *spool.Dir) []line {
	t.Helper()
	var out []line
	read := func(r io.Reader) {
		sc := bufio.NewScanner(r)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var l line
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Fatalf("%v: %s", err, sc.Bytes())
			}
			out = append(out, l)
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	archives, _ := filepath.Glob(filepath.Join(dir.Root, "ledger-*.jsonl.gz"))
	for _, a := range archives {
		f, err := os.Open(a)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		read(zr)
		f.Close()
	}
	f, err := os.Open(dir.LedgerPath())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	read(f)
	return out
}

var carriedRe = lazyre.New(`it recorded [0-9]+ sent, ([0-9]+) dead`)

// carriedDead adds up the dead letters the visible drop lines carry.
func carriedDead(t *testing.T, dir *spool.Dir) int {
	n := 0
	for _, l := range historyLines(t, dir) {
		if m := carriedRe().FindStringSubmatch(l.Reason); m != nil && strings.Contains(l.Reason, "ledger archive") {
			var k int
			fmt.Sscan(m[1], &k)
			n += k
		}
	}
	return n
}

func treeSize(t *testing.T, root string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			n += info.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// gone is an endpoint that answers every delivery 410 Gone, as
// send.Client reports it. (deliver's own tests cover the HTTP side; here
// the cost of 10,000 requests under the race detector would double the
// test's time.)
type gone struct{}

func (gone) Send(ctx context.Context, r send.Request, now time.Time) send.Result {
	return send.Result{Class: send.Dead, Status: 410, Duration: time.Millisecond, Error: "HTTP 410", Host: "127.0.0.1:1"}
}
