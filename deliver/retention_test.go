package deliver

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/spec-kit/outbox/ledger"
	"github.com/spec-kit/outbox/outbox/retention"
)

// sizeOf is everything under spec's webhooks/ directory.
func (r *testRepo) sizeOf(spec string) int64 {
	r.t.Helper()
	sz, err := retention.Measure(r.dir(spec))
	if err != nil {
		r.t.Fatal(err)
	}
	return sz.Total
}

// history is the whole ledger left in the working tree: the archives'
// lines, oldest first, then the live ledger's.
func (r *testRepo) history(spec string) []ledger.Entry {
	r.t.Helper()
	archives, err := filepath.Glob(filepath.Join(r.dir(spec).Root, "ledger-*.jsonl.gz"))
	if err != nil {
		r.t.Fatal(err)
	}
	slices.Sort(archives)
	var out []ledger.Entry
	for i, a := range archives {
		f, err := os.Open(a)
		if err != nil {
			r.t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			r.t.Fatal(err)
		}
		data, err := io.ReadAll(zr)
		f.Close()
		if err != nil {
			r.t.Fatal(err)
		}
		p := filepath.Join(r.t.TempDir(), fmt.Sprint(i, ".jsonl"))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			r.t.Fatal(err)
		}
		es, err := ledger.ReadAll(p)
		if err != nil {
			r.t.Fatal(err)
		}
		out = append(out, es...)
	}
	return append(out, r.entries(spec)...)
}

// A run ends with the SPEC's directory under max_spool_bytes: what it
// delivered is evicted oldest first, each after its delivered line.
func TestRunEndsUnderTheCap(t *testing.T) {
	rec := newRecorder(t)
	r := newRepo(t, sub{id: "ops", url: rec.url("/")})
	ids := r.emit("SPEC-1", 40)
	before := r.sizeOf("SPEC-1")
	r.cfg.Webhooks.MaxSpoolBytes = before // the run adds its ledger lines
	sum := r.run(0, "SPEC-1")
	if sum.Delivered != 40 || len(rec.ids()) != 40 {
		t.Fatalf("summary %+v, %d received", sum, len(rec.ids()))
	}
	if after := r.sizeOf("SPEC-1"); after > r.cfg.Webhooks.MaxSpoolBytes {
		t.Fatalf("%d bytes after the run, over the cap of %d (%d before it)", after, r.cfg.Webhooks.MaxSpoolBytes, before)
	}
	var evicted []string
	delivered := map[string]bool{}
	for _, e := range r.history("SPEC-1") {
		switch e.Action {
		case ledger.ActionDelivered:
			delivered[e.Delivery] = true
		case ledger.ActionEvicted:
			if e.Delivery == "" { // a ledger rotation
				continue
			}
			if !delivered[e.Delivery] {
				t.Fatalf("%s evicted before its delivered line", e.Delivery)
			}
			evicted = append(evicted, e.Delivery)
		}
	}
	if len(evicted) == 0 || len(evicted) == 40 || !slices.Equal(evicted, ids[:len(evicted)]) {
		t.Fatalf("evicted %d: %v, want some, the oldest first: %v", len(evicted), evicted, ids)
	}
	if st := r.states("SPEC-1"); st["sent"] != 40-len(evicted) || st["spool"] != 0 {
		t.Fatalf("states %v with %d evicted", st, len(evicted))
	}
}

// A dry run writes records, new files the measurement taken when it began
// does not hold: they are counted, and evicted with their deliveries.
func TestDryRunRecordsCountTowardsTheCap(t *testing.T) {
	r := newRepo(t, sub{id: "ops", url: "http://127.0.0.1:9/", extra: "dry_run = true"})
	r.emit("SPEC-1", 20)
	before := r.sizeOf("SPEC-1")
	r.cfg.Webhooks.MaxSpoolBytes = before + before/4 // under it before the run, not with 20 records
	if sum := r.run(0, "SPEC-1"); sum.DryRun != 20 {
		t.Fatalf("summary %+v", sum)
	}
	if after := r.sizeOf("SPEC-1"); after > r.cfg.Webhooks.MaxSpoolBytes {
		t.Fatalf("%d bytes after the run, over the cap of %d", after, r.cfg.Webhooks.MaxSpoolBytes)
	}
	records, err := os.ReadDir(filepath.Join(r.dir("SPEC-1").Root, DryRunDir))
	if err != nil {
		t.Fatal(err)
	}
	if len(records) == 20 || len(records) != r.states("SPEC-1")["sent"] {
		t.Fatalf("%d records and %v: want some evicted with their deliveries", len(records), r.states("SPEC-1"))
	}
}
