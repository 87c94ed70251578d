package deliver

import (
	"slices"
	"testing"
	"time"

	"github.com/spec-kit/outbox/outbox/spool"
)

// TestRefillKeepsFIFO: with queues capped far below what is pending, each
// subscription's worker takes the rest of its queue from the refiller, in
// id order, each delivery exactly once; a retry still holds its
// subscription's later deliveries; the ledger has every attempt.
func TestRefillKeepsFIFO(t *testing.T) {
	defer func(n int) { queueCap = n }(queueCap)
	queueCap = 3
	a := newRecorder(t)
	b := newRecorder(t)
	c := newRecorder(t, 200, 200, 200, 200, 200, 503) // c's sixth delivery is retried
	r := newRepo(t, sub{id: "a", url: a.url("/a")}, sub{id: "b", url: b.url("/b")},
		sub{id: "c", url: c.url("/c"), extra: "initial_backoff_ms = 60000"})
	ids := r.emit("SPEC-1", 20)
	want := map[string][]string{}
	for i, id := range ids {
		s := string("abc"[i%3])
		want[s] = append(want[s], id)
	}
	sum := r.run(0, "SPEC-1")
	if sum.Delivered != 45 || sum.Retrying != 1 || sum.Pending != 15 {
		t.Fatalf("summary %+v", sum)
	}
	if got := a.ids(); !slices.Equal(got, want["a"]) {
		t.Fatalf("a got %v\nwant %v", got, want["a"])
	}
	if got := b.ids(); !slices.Equal(got, want["b"]) {
		t.Fatalf("b got %v\nwant %v", got, want["b"])
	}
	if got := c.ids(); !slices.Equal(got, want["c"][:6]) {
		t.Fatalf("c got %v\nwant %v (and nothing after its retried delivery)", got, want["c"][:6])
	}
	if st := r.states("SPEC-1"); st[spool.Sent] != 45 || st[spool.Pending] != 15 {
		t.Fatalf("states %v", st)
	}
	for i, id := range ids {
		acts := r.actions("SPEC-1", id)
		switch {
		case i%3 == 2 && i/3 == 5:
			if !slices.Equal(acts, []string{"enqueued", "attempt:503", "retry_scheduled"}) {
				t.Fatalf("retried delivery: %v", acts)
			}
		case i%3 == 2 && i/3 > 5:
			if !slices.Equal(acts, []string{"enqueued"}) {
				t.Fatalf("delivery held by the retry: %v", acts)
			}
		default:
			if !slices.Equal(acts, []string{"enqueued", "attempt:200", "delivered"}) {
				t.Fatalf("delivery %d: %v", i, acts)
			}
		}
	}
	// The retry comes due: c's queue goes on from it, in order.
	rn := r.runner()
	rn.Now = func() time.Time { return time.Now().Add(2 * time.Minute) }
	if _, err := rn.Run(t.Context(), []string{"SPEC-1"}); err != nil {
		t.Fatal(err)
	}
	wantC := append(slices.Clone(want["c"][:6]), want["c"][5:]...)
	if got := c.ids(); !slices.Equal(got, wantC) {
		t.Fatalf("c got %v\nwant %v", got, wantC)
	}
}
