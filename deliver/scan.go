package deliver

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spec-kit/outbox/outbox/spool"
)

// queueCap bounds how many pending deliveries of one subscription a scan
// keeps: the earliest by id. A worker that uses them all gets the next ones
// from a refiller, which scans again, so the memory of a run stays flat
// however large the spool grows.
var queueCap = 512 // a variable for tests

// queue is the head of one subscription's pending deliveries, in FIFO
// (delivery id) order.
type queue struct {
	sub       string
	items     []spool.Name
	truncated bool // more pending deliveries than items
}

// scan is one pass over a SPEC's spool/ folder.
type scan struct {
	queues  map[string]*queue
	bad     []string // file names that are not delivery names
	pending int
}

// scanSpool reads spool/ in chunks and keeps, per subscription, the
// queueCap earliest deliveries.
func scanSpool(dir *spool.Dir) (*scan, error) {
	return scanAfter(dir, nil)
}

// scanAfter is scanSpool, restricted when after is not nil to the
// subscriptions in it and, for each, to the deliveries later (by id) than
// after[sub]. A restricted scan reports neither bad names nor the pending
// count.
func scanAfter(dir *spool.Dir, after map[string]string) (*scan, error) {
	s := &scan{}
	heaps := map[string]*nameHeap{}
	f, err := os.Open(dir.StatePath(spool.Pending))
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	for {
		names, err := f.Readdirnames(1024)
		for _, name := range names {
			if strings.HasPrefix(name, ".") {
				continue
			}
			var last string
			if after != nil {
				// The subscription ends the name: skip the others unparsed.
				base := strings.TrimSuffix(name, spool.Ext)
				var ok bool
				if last, ok = after[base[strings.LastIndexByte(base, '_')+1:]]; !ok {
					continue
				}
			}
			n, perr := spool.ParseName(name)
			if perr != nil {
				if after == nil {
					s.bad = append(s.bad, name)
				}
				continue
			}
			if after != nil && n.ID <= last {
				continue
			}
			s.pending++
			h := heaps[n.Subscription]
			if h == nil {
				h = &nameHeap{}
				heaps[n.Subscription] = h
			}
			h.seen++
			switch {
			case len(h.names) < queueCap:
				h.push(n)
			case n.ID < h.names[0].ID: // earlier than the latest kept
				h.replaceTop(n)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", dir.StatePath(spool.Pending), err)
		}
	}
	s.queues = make(map[string]*queue, len(heaps))
	for sub, h := range heaps {
		items := []spool.Name(h.names)
		slices.SortFunc(items, func(a, b spool.Name) int { return strings.Compare(a.ID, b.ID) })
		s.queues[sub] = &queue{sub: sub, items: items, truncated: h.seen > queueCap}
	}
	return s, nil
}

// refiller gives the workers of one pass the rest of their queues when a
// scan held only their heads (queueCap deliveries each). Each worker takes
// the deliveries after the last one it was given, so it never has to wait
// for its own changes to be committed, nor for the other workers: the
// pass has no barrier. One scan serves every worker: what it finds for
// the others is kept until they ask.
//
// A delivery that lands in spool/ during the pass with an id earlier than
// one already handed out waits for the next pass, as it would if it had
// landed after the pass's scan.
type refiller struct {
	dir  *spool.Dir
	mu   sync.Mutex
	last map[string]string // subscription -> latest id handed out, for truncated queues
	next map[string]*queue // scanned ahead, not yet taken
}

func newRefiller(dir *spool.Dir, sc *scan) *refiller {
	f := &refiller{dir: dir, last: map[string]string{}}
	for sub, q := range sc.queues {
		if q.truncated && len(q.items) > 0 {
			f.last[sub] = q.items[len(q.items)-1].ID
		}
	}
	return f
}

// take returns the next part of sub's queue: empty when there is no more.
func (f *refiller) take(sub string) (*queue, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.last[sub]; !ok {
		return &queue{sub: sub}, nil
	}
	q, ok := f.next[sub]
	if !ok {
		sc, err := scanAfter(f.dir, f.last)
		if err != nil {
			return nil, err
		}
		f.next = sc.queues
		if q = f.next[sub]; q == nil {
			q = &queue{sub: sub}
		}
	}
	delete(f.next, sub)
	if q.truncated && len(q.items) > 0 {
		f.last[sub] = q.items[len(q.items)-1].ID
	} else {
		delete(f.last, sub)
	}
	return q, nil
}

// drop forgets sub, whose worker has stopped: later scans skip it.
func (f *refiller) drop(sub string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.last, sub)
	delete(f.next, sub)
}

// nameHeap is a max-heap of names by id: its root is the latest kept.
// (container/heap would box every name in an interface: a scan offers it
// every pending file.)
type nameHeap struct {
	names []spool.Name
	seen  int // names offered, kept or not
}

// push adds n.
func (h *nameHeap) push(n spool.Name) {
	h.names = append(h.names, n)
	for i := len(h.names) - 1; i > 0; {
		parent := (i - 1) / 2
		if h.names[parent].ID >= h.names[i].ID {
			break
		}
		h.names[parent], h.names[i] = h.names[i], h.names[parent]
		i = parent
	}
}

// replaceTop puts n in the root's place and restores the order.
func (h *nameHeap) replaceTop(n spool.Name) {
	h.names[0] = n
	for i := 0; ; {
		largest := i
		for _, c := range [2]int{2*i + 1, 2*i + 2} {
			if c < len(h.names) && h.names[c].ID > h.names[largest].ID {
				largest = c
			}
		}
		if largest == i {
			return
		}
		h.names[i], h.names[largest] = h.names[largest], h.names[i]
		i = largest
	}
}

// nextDue is the earliest due time among the queue heads: FIFO means only a
// head can be sent. ok is false when nothing is pending.
func (s *scan) nextDue() (due time.Time, ok bool) {
	for _, q := range s.queues {
		if len(q.items) == 0 {
			continue
		}
		if d := q.items[0].Due; !ok || d.Before(due) {
			due, ok = d, true
		}
	}
	return due, ok
}
