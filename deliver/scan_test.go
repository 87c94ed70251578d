package deliver

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/spec-kit/outbox/outbox/spool"
)

// The scan's bounded heap keeps the k earliest ids of what it is offered,
// in any order of offering.
func TestNameHeapKeepsTheEarliest(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct{ n, k int }{{0, 3}, {1, 3}, {3, 3}, {10, 3}, {100, 1}, {1000, 7}, {1000, 512}, {5000, 64}} {
		t.Run(fmt.Sprintf("%d_keep_%d", tc.n, tc.k), func(t *testing.T) {
			ids := make([]string, tc.n)
			for i := range ids {
				ids[i] = fmt.Sprintf("%08d", rng.IntN(1_000_000))
			}
			h := &nameHeap{}
			for _, id := range ids {
				n := spool.Name{ID: id}
				switch {
				case len(h.names) < tc.k:
					h.push(n)
				case n.ID < h.names[0].ID:
					h.replaceTop(n)
				}
				for i := 1; i < len(h.names); i++ { // the heap order holds throughout
					if h.names[(i-1)/2].ID < h.names[i].ID {
						t.Fatalf("heap order broken at %d: %v", i, h.names)
					}
				}
			}
			var got []string
			for _, n := range h.names {
				got = append(got, n.ID)
			}
			slices.Sort(got)
			want := slices.Clone(ids)
			slices.Sort(want)
			want = want[:min(tc.k, len(want))]
			if !slices.Equal(got, want) {
				t.Fatalf("kept %v, want the %d earliest %v", got, tc.k, want)
			}
		})
	}
}
