package spool

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// TestNameFastPathsAgree: String and ParseName agree with their fmt and
// time.Parse forms for random names, and ParseName accepts and rejects
// due times exactly as time.Parse does.
func TestNameFastPathsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	id := "0192f0e4-3c1a-7b2e-8c3d-4e5f60718293"
	for i := 0; i < 20000; i++ {
		n := Name{Due: time.Unix(rng.Int64N(5e9), rng.Int64N(1e9)).In(time.FixedZone("X", 3600*rng.IntN(5))),
			Attempt: 1 + rng.IntN(2000), ID: id, Subscription: "ops"}
		want := fmt.Sprintf("%s_%03d_%s_%s%s", n.Due.UTC().Format(dueLayout), n.Attempt, n.ID, n.Subscription, Ext)
		if got := n.String(); got != want {
			t.Fatalf("String() = %q, want %q", got, want)
		}
		back, err := ParseName(want)
		if err != nil || !back.Due.Equal(n.Due.Truncate(time.Millisecond)) || back.Attempt != n.Attempt {
			t.Fatalf("ParseName(%q) = %+v, %v", want, back, err)
		}
	}
	digits := "0123456789"
	for i := 0; i < 200000; i++ {
		b := []byte("20261204T154245.123Z")
		for j := rng.IntN(4); j >= 0; j-- {
			p := rng.IntN(len(b))
			if rng.IntN(10) == 0 {
				b[p] = "xT.Z:-"[rng.IntN(6)]
			} else {
				b[p] = digits[rng.IntN(10)]
			}
		}
		s := string(b)
		want, werr := time.Parse(dueLayout, s)
		got, ok := parseDue(s)
		if ok && (werr != nil || !got.Equal(want) || got.Location() != want.Location()) {
			t.Fatalf("parseDue(%q) = %v, want %v, %v", s, got, want, werr)
		}
		if !ok && werr == nil && b[8] == 'T' && b[15] == '.' && b[19] == 'Z' {
			t.Logf("parseDue left %q to time.Parse", s) // allowed, but should be rare
		}
	}
}
