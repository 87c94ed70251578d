package retention

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gofrs/flock"
	"github.com/spec-kit/outbox/internal/uuidv7"
	"github.com/spec-kit/outbox/ledger"
	"github.com/spec-kit/outbox/outbox/spool"
)

// noRotation keeps the ledger out of the class tests.
const noRotation = 1 << 30

// classes is a directory of 10 sent, 5 dead and 5 pending deliveries of
// 1000 bytes each, every class created in its own hour.
func classes(t *testing.T) (f *fixture, sent, dead, pending []string) {
	f = newFixture(t)
	sent = f.addN(spool.Sent, t0, 10, 1000)
	dead = f.addN(spool.Dead, t0.Add(time.Hour), 5, 1000)
	pending = f.addN(spool.Pending, t0.Add(2*time.Hour), 5, 1000)
	return f, sent, dead, pending
}

func sorted(ids []string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

func evictedIDs(es []ledger.Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Delivery)
	}
	return out
}

func TestUnderCapWritesNothing(t *testing.T) {
	f, _, _, _ := classes(t)
	f.ledgerLines(20)
	before := f.snapshot()
	size := f.size()
	rep := f.run(Options{MaxBytes: size}) // at the cap is under it
	if rep.Changed() || rep.Before != size || rep.After != size || rep.OverCap {
		t.Fatalf("report = %+v, want nothing done at %d bytes", rep, size)
	}
	if after := f.snapshot(); !maps.Equal(before, after) {
		t.Fatalf("an under-cap run changed files:\nbefore %v\nafter  %v", before, after)
	}
}

func TestSentPayloadsGoFirstOldestByCreation(t *testing.T) {
	f, sent, dead, pending := classes(t)
	size := f.size()
	rep := f.run(Options{MaxBytes: size - 1, LedgerKeepBytes: noRotation})
	k := rep.Sent.Files
	if k == 0 || k >= len(sent) || rep.Dead.Files+rep.Pending.Files != 0 || len(rep.Rotations) != 0 {
		t.Fatalf("report = %+v, want some sent payloads evicted and nothing else", rep)
	}
	// Oldest by creation (UUIDv7), although their names sort the other way.
	if got, want := f.ids(spool.Sent), sorted(sent[k:]); !slices.Equal(got, want) {
		t.Fatalf("sent/ holds %v, want the newest %d: %v", got, len(want), want)
	}
	if !slices.Equal(f.ids(spool.Dead), sorted(dead)) || !slices.Equal(f.ids(spool.Pending), sorted(pending)) {
		t.Fatal("dead/ or spool/ changed while sent payloads were left")
	}
	ev := f.evicted()
	if got := evictedIDs(ev); !slices.Equal(got, sent[:k]) {
		t.Fatalf("evicted lines for %v, want %v", got, sent[:k])
	}
	for _, e := range ev {
		if e.Subscription != "ops" || e.Bytes != 1000 || Classify(e) != KindSent ||
			e.Reason != "spool over "+itoa(size-1)+" bytes: sent payload evicted" {
			t.Fatalf("evicted line %+v", e)
		}
	}
	if rep.After > size-1-(size-1)/10 || rep.After != f.size() {
		t.Fatalf("after = %d (measured %d), want at most the low-water mark", rep.After, f.size())
	}
	// Evicting stops at the low-water mark: one payload fewer would not do.
	if rep.After+1000-200 <= (size-1)/10*9 {
		t.Fatalf("evicted more than needed: after %d", rep.After)
	}
}

func TestDeadLettersOnlyWhenSentIsExhausted(t *testing.T) {
	f, sent, dead, pending := classes(t)
	rep := f.run(Options{MaxBytes: 12000, LedgerKeepBytes: noRotation})
	if rep.Sent.Files != len(sent) || rep.Dead.Files == 0 || rep.Dead.Files == len(dead) || rep.Pending.Files != 0 {
		t.Fatalf("report = %+v, want every sent payload, some dead letters, no pending", rep)
	}
	k := rep.Dead.Files
	if got := f.ids(spool.Dead); !slices.Equal(got, sorted(dead[k:])) {
		t.Fatalf("dead/ holds %v, want the newest %d", got, len(dead)-k)
	}
	if !slices.Equal(f.ids(spool.Pending), sorted(pending)) {
		t.Fatal("a pending delivery was evicted while dead letters were left")
	}
	ev := f.evicted()
	if got, want := evictedIDs(ev), append(slices.Clone(sent), dead[:k]...); !slices.Equal(got, want) {
		t.Fatalf("evicted lines, in order: %v, want %v", got, want)
	}
	if e := ev[len(ev)-1]; Classify(e) != KindDead || !strings.HasSuffix(e.Reason, ": dead letter evicted") {
		t.Fatalf("last line %+v", e)
	}
}

func TestPendingDeliveriesGoLast(t *testing.T) {
	f, sent, dead, pending := classes(t)
	rep := f.run(Options{MaxBytes: 6000, LedgerKeepBytes: noRotation})
	if rep.Sent.Files != len(sent) || rep.Dead.Files != len(dead) || rep.Pending.Files == 0 || rep.Pending.Files == len(pending) {
		t.Fatalf("report = %+v, want all sent and dead, some pending", rep)
	}
	k := rep.Pending.Files
	if got := f.ids(spool.Pending); !slices.Equal(got, sorted(pending[k:])) {
		t.Fatalf("spool/ holds %v, want the newest %d", got, len(pending)-k)
	}
	tal, err := Tally(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	if tal.Sent != len(sent) || tal.Dead != len(dead) || tal.Pending != k || tal.Bytes != int64(1000*(len(sent)+len(dead)+k)) {
		t.Fatalf("tally = %+v", tal)
	}
	if e := f.evicted()[len(sent)+len(dead)]; e.Delivery != pending[0] || Classify(e) != KindPending {
		t.Fatalf("first pending line %+v", e)
	}
}

func TestDryRunRecordsAreEvictedWithTheirDelivery(t *testing.T) {
	f := newFixture(t)
	both := f.add(spool.Sent, t0, t0, 1000)
	f.addDryRun(both, 500)
	recordOnly := uuidv7.New(t0.Add(time.Minute)) // a record whose sent file is gone
	f.addDryRun(recordOnly, 700)
	newer := f.add(spool.Sent, t0.Add(time.Hour), t0, 1000)
	rep := f.run(Options{MaxBytes: 1500, LedgerKeepBytes: noRotation})
	ev := f.evicted()
	if len(ev) < 2 || ev[0].Delivery != both || ev[0].Bytes != 1500 || !strings.HasSuffix(ev[0].Reason, "sent payload evicted") ||
		ev[1].Delivery != recordOnly || ev[1].Bytes != 700 || !strings.HasSuffix(ev[1].Reason, "dry-run record evicted") || Classify(ev[1]) != KindSent {
		t.Fatalf("evicted lines %+v", ev)
	}
	if _, err := os.Stat(filepath.Join(f.dir.Root, DryRunDir, both+".http")); !os.IsNotExist(err) {
		t.Fatal("the dry-run record of an evicted delivery is still there")
	}
	if rep.Sent.Files != len(ev) || len(ev) == 3 && ev[2].Delivery != newer {
		t.Fatalf("report %+v, lines %+v", rep, ev)
	}
}

func TestFilesThatAreNotDeliveriesAreEvictedByAge(t *testing.T) {
	f := newFixture(t)
	stray := filepath.Join(f.dir.StatePath(spool.Dead), "notes.txt")
	f.write(stray, 2000)
	os.Chtimes(stray, t0, t0)
	later := f.add(spool.Dead, t0.Add(time.Hour), t0, 2000)
	f.run(Options{MaxBytes: 3000, LedgerKeepBytes: noRotation})
	ev := f.evicted()
	if len(ev) != 1 || ev[0].Delivery != "" || ev[0].Bytes != 2000 || Classify(ev[0]) != KindDead ||
		!strings.Contains(ev[0].Reason, `dead letter evicted: file "notes.txt" is not a delivery's`) {
		t.Fatalf("evicted lines %+v", ev)
	}
	if got := f.ids(spool.Dead); !slices.Equal(got, []string{later}) {
		t.Fatalf("dead/ = %v", got)
	}
}

func TestStaleTmpFilesAreRemovedFreshOnesKept(t *testing.T) {
	f := newFixture(t)
	now := time.Now() // mtimes are wall-clock times
	tmp := f.dir.TmpPath()
	old := now.Add(-11 * time.Minute)
	for name, mtime := range map[string]time.Time{
		"stale.yaml":                old,
		".tmp-ledger.jsonl-0a1b2c":  old, // spool.WriteFileAtomic's temp name
		"fresh.yaml":                now.Add(-9 * time.Minute),
		"deliver.log":               old, // the kicked runs' log: never
		"20261204T154245.123Z.yaml": now,
	} {
		p := filepath.Join(tmp, name)
		f.write(p, 100)
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	rep := f.run(Options{MaxBytes: DefaultMaxBytes, Now: t0}) // Options.Now does not age files
	if rep.StaleTmp != (Count{2, 200}) || rep.Evicted() != 0 {
		t.Fatalf("report = %+v, want 2 stale tmp files removed", rep)
	}
	ents, _ := os.ReadDir(tmp)
	var left []string
	for _, e := range ents {
		left = append(left, e.Name())
	}
	if want := []string{"20261204T154245.123Z.yaml", "deliver.log", "fresh.yaml"}; !slices.Equal(left, want) {
		t.Fatalf("tmp/ holds %v, want %v", left, want)
	}
	if _, err := os.Stat(f.dir.LedgerPath()); !os.IsNotExist(err) {
		t.Fatal("cleaning tmp/ wrote the ledger")
	}
}

func TestRunLockedWaitsForTheDeliveryLock(t *testing.T) {
	f, _, _, _ := classes(t)
	held := flock.New(f.dir.RunLockPath())
	if err := held.Lock(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := RunLocked(ctx, f.dir, Options{MaxBytes: 1000})
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("err = %v, want ErrBusy", err)
	}
	if f.evicted() != nil {
		t.Fatal("evicted without the lock")
	}
	held.Unlock()
	rep, err := RunLocked(context.Background(), f.dir, Options{MaxBytes: 12000, LedgerKeepBytes: noRotation})
	if err != nil || rep.Sent.Files != 10 {
		t.Fatalf("rep = %+v, err = %v", rep, err)
	}
	// A SPEC without a directory is left alone.
	missing, _ := spool.Open(filepath.Join(t.TempDir(), "none"), "SPEC-2")
	if rep, err := RunLocked(context.Background(), missing, Options{MaxBytes: 1}); err != nil || rep.Changed() {
		t.Fatalf("missing dir: %+v %v", rep, err)
	}
	if _, err := os.Stat(missing.Root); !os.IsNotExist(err) {
		t.Fatal("RunLocked created a missing directory")
	}
}

func TestOptionsNeedACap(t *testing.T) {
	f := newFixture(t)
	if _, err := Run(f.dir, Options{}); err == nil {
		t.Fatal("Run without MaxBytes: no error")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// A dead letter that a replay moves back into spool/ (under the SPEC's
// lock) after eviction listed it is neither removed nor recorded.
func TestAFileReplayedMeanwhileIsLeftAlone(t *testing.T) {
	f := newFixture(t)
	dead := f.addN(spool.Dead, t0, 3, 1000)
	r := newRun(t, f, Options{MaxBytes: 100})
	vs, more, err := r.oldest(classDead, 10)
	if err != nil || len(vs) != 3 || more {
		t.Fatalf("victims = %v, %v", vs, err)
	}
	names, _, _ := f.dir.List(spool.Dead)
	for _, n := range names {
		if n.ID == dead[0] {
			if err := os.Rename(f.dir.Path(spool.Dead, n), f.dir.Path(spool.Pending, n)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n, err := r.commitBatch(classDead, vs); err != nil || n != 2 {
		t.Fatalf("commitBatch removed %d, %v; want 2", n, err)
	}
	if got := evictedIDs(f.evicted()); !slices.Equal(got, dead[1:]) {
		t.Fatalf("evicted lines for %v, want %v", got, dead[1:])
	}
	if got := f.ids(spool.Pending); !slices.Equal(got, dead[:1]) {
		t.Fatalf("spool/ = %v, want the replayed delivery", got)
	}
}

// With Options.Start, Run counts from that measurement and the ledger's
// growth since, without listing the directory: a file added since is not
// counted (the next run's measurement has it).
func TestStartCountsTheLedgersGrowth(t *testing.T) {
	for _, tc := range []struct {
		name      string
		slack     int64 // the cap, above the measured size plus the ledger's growth
		wantEvict bool
	}{
		{"over by the growth", -1, true},
		{"under with the growth", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.addN(spool.Sent, t0, 10, 1000)
			f.ledgerLines(5)
			start, err := Measure(f.dir)
			if err != nil {
				t.Fatal(err)
			}
			f.ledgerLines(20)
			grown, err := os.Stat(f.dir.LedgerPath())
			if err != nil {
				t.Fatal(err)
			}
			f.write(filepath.Join(f.dir.StatePath(spool.Dead), "added-since.txt"), 5000) // not counted
			rep := f.run(Options{MaxBytes: start.Total + grown.Size() - start.Ledger + tc.slack, Start: &start, LedgerKeepBytes: noRotation})
			if got := rep.Sent.Files > 0; got != tc.wantEvict || rep.Dead.Files != 0 {
				t.Fatalf("report %+v: want sent evicted %t, no dead letter", rep, tc.wantEvict)
			}
			if want := start.Total + grown.Size() - start.Ledger; rep.Before != want {
				t.Fatalf("counted %d bytes before, want %d (the measurement and the ledger's growth)", rep.Before, want)
			}
		})
	}
}
