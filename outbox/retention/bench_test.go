package retention

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spec-kit/outbox/outbox/spool"
)

// BenchmarkRunUnderCap is the cost every deliver run pays: one listing of
// a webhooks directory of 10,000 delivery files (and a ledger) that is
// under its cap.
func BenchmarkRunUnderCap(b *testing.B) {
	f := newFixture(b)
	for i, s := range []spool.State{spool.Pending, spool.Sent, spool.Dead} {
		for j := 0; j < 10_000/3; j++ {
			created := t0.Add(time.Duration(i*10_000+j) * time.Millisecond)
			f.add(s, created, created, 1200)
		}
	}
	f.ledgerLines(2000)
	b.ResetTimer()
	for b.Loop() {
		rep, err := Run(f.dir, Options{MaxBytes: 1 << 40})
		if err != nil || rep.Changed() {
			b.Fatal(rep, err)
		}
	}
}

// BenchmarkRotate rotates a ledger of 8 MiB (about 8,000 deliveries),
// keeping its newest MiB: the compression of the rest dominates.
func BenchmarkRotate(b *testing.B) {
	f := newFixture(b)
	path := f.dir.LedgerPath()
	data := bigLedger(b, path, 8<<20)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		as, err := listArchives(f.dir.Root)
		if err != nil {
			b.Fatal(err)
		}
		for _, a := range as {
			if err := os.Remove(filepath.Join(f.dir.Root, a.name)); err != nil {
				b.Fatal(err)
			}
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			b.Fatal(err)
		}
		r := newRun(b, f, Options{MaxBytes: 1 << 40})
		b.StartTimer()
		if err := r.rotate(1 << 20); err != nil || len(r.rep.Rotations) != 1 {
			b.Fatal(r.rep.Rotations, err)
		}
	}
}
