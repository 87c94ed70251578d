package deliver

import (
	"container/heap"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spec-kit/outbox/outbox/spool"
)

// queueCap bounds how many pending deliveries of one subscription a scan
// keeps: the earliest by id. A run that uses them all scans again, so the
// memory of a run stays flat however large the spool grows.
const queueCap = 512

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
			n, perr := spool.ParseName(name)
			if perr != nil {
				s.bad = append(s.bad, name)
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
			case h.Len() < queueCap:
				heap.Push(h, n)
			case n.ID < h.names[0].ID: // earlier than the latest kept
				h.names[0] = n
				heap.Fix(h, 0)
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

// nameHeap is a max-heap of names by id: its root is the latest kept.
type nameHeap struct {
	names []spool.Name
	seen  int // names offered, kept or not
}

func (h nameHeap) Len() int           { return len(h.names) }
func (h nameHeap) Less(i, j int) bool { return h.names[i].ID > h.names[j].ID }
func (h nameHeap) Swap(i, j int)      { h.names[i], h.names[j] = h.names[j], h.names[i] }
func (h *nameHeap) Push(x any)        { h.names = append(h.names, x.(spool.Name)) }
func (h *nameHeap) Pop() any {
	n := h.names[len(h.names)-1]
	h.names = h.names[:len(h.names)-1]
	return n
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
