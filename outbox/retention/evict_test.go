package retention

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spec-kit/outbox/internal/uuidv7"
	"github.com/spec-kit/outbox/outbox/spool"
)

// oldest keeps only the k oldest victims of a listing, in order, and says
// whether it left any out.
func TestOldestKeepsTheKOldest(t *testing.T) {
	f := newFixture(t)
	ids := f.addN(spool.Dead, t0, 50, 100)
	stray := filepath.Join(f.dir.StatePath(spool.Dead), "notes.txt")
	f.write(stray, 100)
	os.Chtimes(stray, t0.Add(90*time.Second), t0.Add(90*time.Second)) // between ids[1] and ids[2]
	r := newRun(t, f, Options{MaxBytes: 1})
	want := []string{ids[0], ids[1], "notes.txt", ids[2], ids[3]}
	for _, tc := range []struct {
		k    int
		want []string
		more bool
	}{
		{1, want[:1], true},
		{5, want, true},
		{51, append(want, ids[4:]...), false},
		{1000, append(want, ids[4:]...), false},
	} {
		vs, more, err := r.oldest(classDead, tc.k)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, v := range vs {
			got = append(got, cmpOr(v.id, v.name))
			if v.size != 0 {
				t.Fatalf("k=%d: %s has a size before stillThere", tc.k, v.name)
			}
		}
		if !slices.Equal(got, tc.want) || more != tc.more {
			t.Fatalf("k=%d: oldest = %v, more %t; want %v, more %t", tc.k, got, more, tc.want, tc.more)
		}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Eviction in rounds of any size does what one round does: the same files
// go, oldest first, with the same ledger lines, and a delivery's sent file
// and dry-run record go together even when a round's boundary falls
// between them in the listing.
func TestEvictionInRoundsMatchesOneRound(t *testing.T) {
	defer func(n, l int) { evictBatch, lockedBatch = n, l }(evictBatch, lockedBatch)
	var want []string
	for _, tc := range []struct{ batch, locked int }{{1000, 1000}, {1, 1}, {2, 1}, {3, 2}, {5, 5}, {8, 3}, {1000, 4}} {
		batch := tc.batch
		t.Run(fmt.Sprintf("batch=%d,locked=%d", tc.batch, tc.locked), func(t *testing.T) {
			evictBatch, lockedBatch = tc.batch, tc.locked
			f := newFixture(t)
			labels := map[string]string{}
			sent := f.addN(spool.Sent, t0, 12, 1000)
			for i, id := range sent {
				labels[id] = fmt.Sprint("sent", i)
			}
			for _, i := range []int{0, 3, 7, 11} {
				f.addDryRun(sent[i], 500)
			}
			recordOnly := uuidv7.New(t0.Add(90 * time.Second))
			labels[recordOnly] = "record-only"
			f.addDryRun(recordOnly, 700)
			stray := filepath.Join(f.dir.StatePath(spool.Sent), "notes.txt")
			f.write(stray, 300)
			os.Chtimes(stray, t0.Add(330*time.Second), t0.Add(330*time.Second))
			for i, id := range f.addN(spool.Dead, t0.Add(time.Hour), 8, 1000) {
				labels[id] = fmt.Sprint("dead", i)
			}
			rep := f.run(Options{MaxBytes: 10000, LedgerKeepBytes: noRotation})

			var got []string
			for _, e := range f.evicted() {
				what := e.Reason[strings.Index(e.Reason, ": ")+2:]
				got = append(got, fmt.Sprintf("%s %d %s", cmpOr(labels[e.Delivery], "-"), e.Bytes, what))
			}
			for _, s := range []spool.State{spool.Sent, spool.Dead} {
				for _, id := range f.ids(s) {
					got = append(got, "left "+labels[id])
				}
			}
			got = append(got, fmt.Sprintf("report sent %+v dead %+v", rep.Sent, rep.Dead))
			if batch == 1000 && tc.locked == 1000 {
				want = got
				if rep.Sent.Files != 14 || rep.Dead.Files == 0 || rep.Dead.Files == 8 {
					t.Fatalf("the one-round run evicted %+v: want every sent payload and some dead letters", rep)
				}
				return
			}
			if !slices.Equal(got, want) {
				t.Fatalf("in rounds of %d:\n%s\nin one round:\n%s", batch, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}
