package retention

import (
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
