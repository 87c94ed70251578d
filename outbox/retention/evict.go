package retention

import (
	"cmp"
	"container/heap"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spec-kit/outbox/internal/uuidv7"
	"github.com/spec-kit/outbox/ledger"
	"github.com/spec-kit/outbox/outbox/spool"
)

// The reasons of per-delivery evictions, after "spool over N bytes: ".
// Classify recognises them.
const (
	whatSent    = "sent payload evicted"
	whatDryRun  = "dry-run record evicted"
	whatDead    = "dead letter evicted"
	whatPending = "pending delivery evicted before it was delivered"
	whatRotated = "ledger rotated: "
	whatArchive = "ledger archive "
)

// class is one kind of evictable delivery file.
type class struct {
	folders []string // relative to the webhooks directory
	what    string   // reason
	count   func(*Report) *Count
}

var (
	classSent = class{[]string{string(spool.Sent), DryRunDir}, whatSent,
		func(r *Report) *Count { return &r.Sent }}
	classDead = class{[]string{string(spool.Dead)}, whatDead,
		func(r *Report) *Count { return &r.Dead }}
	classPending = class{[]string{string(spool.Pending)}, whatPending,
		func(r *Report) *Count { return &r.Pending }}
)

// Eviction works through a class in rounds: each round lists the class's
// folders and keeps only the evictBatch oldest files (a bounded heap), so
// that its memory does not grow with the number of files; the next round
// lists what is left. Sizes are taken (lstat) only for the files kept. A
// round's victims are committed lockedBatch at a time: the SPEC's lock,
// which emit waits for, is held for one ledger append and that many
// removals.
//
// fanOut is how many file system calls (lstat, unlink) run at once: on a
// disk that discards freed blocks synchronously an unlink waits for the
// device, and removals in one directory overlap well.
var (
	evictBatch  = 8192 // a variable for tests
	lockedBatch = 1024
	fanOut      = 8
)

// victim is one delivery's files in a class (a sent file and its dry-run
// record go together), or one file that is not a delivery's.
type victim struct {
	at      time.Time // creation (UUIDv7) of a delivery; mtime of another file
	id, sub string    // empty for a file that is not a delivery's
	name    string    // that file's name
	paths   []string
	size    int64 // set by stillThere, under the SPEC's lock
	primary bool  // holds the class's own file, not only a dry-run record
}

// compare orders victims oldest first.
func (v *victim) compare(w *victim) int {
	if c := v.at.Compare(w.at); c != 0 {
		return c
	}
	return cmp.Or(strings.Compare(v.id, w.id), strings.Compare(v.name, w.name))
}

// oldest lists a class's folders and returns its k oldest victims, oldest
// first; more reports that the class holds others. A delivery's files are
// found by their names (no file is opened or stat'ed), a file that is not
// a delivery's by its mtime.
func (r *run) oldest(c class, k int) (vs []*victim, more bool, err error) {
	h := &victimHeap{byID: map[string]*victim{}}
	for _, folder := range c.folders {
		dir := filepath.Join(r.dir.Root, folder)
		err := eachEntry(dir, func(e fs.DirEntry) error {
			name := e.Name()
			if !e.Type().IsRegular() || strings.HasPrefix(name, ".") {
				return nil
			}
			// On the stack until it is kept: most files of a big class
			// are offered and dropped.
			v := victim{name: name, primary: folder != DryRunDir}
			if folder == DryRunDir {
				if s, ok := strings.CutSuffix(name, ".http"); ok && uuidv7.Valid(s) {
					v.id = s
				}
			} else if n, err := spool.ParseName(name); err == nil {
				v.id, v.sub = n.ID, n.Subscription
			}
			if v.id != "" {
				if w := h.byID[v.id]; w != nil { // the other file of a victim kept
					w.paths = append(w.paths, filepath.Join(dir, name))
					if v.primary {
						w.primary, w.sub = true, v.sub
					}
					return nil
				}
				v.at, _ = uuidv7.Time(v.id)
				v.name = ""
			} else {
				info, err := e.Info()
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				if err != nil {
					return err
				}
				v.at = info.ModTime()
			}
			if h.Len() == k {
				more = true
				if v.compare(h.vs[0]) >= 0 { // not older than the newest kept
					return nil
				}
				heap.Pop(h)
			}
			kept := new(victim)
			*kept = v
			kept.paths = []string{filepath.Join(dir, name)}
			heap.Push(h, kept)
			return nil
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, false, fmt.Errorf("list %s/: %w", folder, err)
		}
	}
	slices.SortFunc(h.vs, (*victim).compare)
	return h.vs, more, nil
}

// victimHeap is a max-heap of victims, its root the newest kept, with the
// deliveries kept indexed by id. A file whose delivery was dropped from the
// heap, or never entered it, is not older than the root, so it is dropped
// too: a delivery's files are kept together or not at all.
type victimHeap struct {
	vs   []*victim
	byID map[string]*victim
}

func (h *victimHeap) Len() int           { return len(h.vs) }
func (h *victimHeap) Less(i, j int) bool { return h.vs[i].compare(h.vs[j]) > 0 }
func (h *victimHeap) Swap(i, j int)      { h.vs[i], h.vs[j] = h.vs[j], h.vs[i] }

func (h *victimHeap) Push(x any) {
	v := x.(*victim)
	h.vs = append(h.vs, v)
	if v.id != "" {
		h.byID[v.id] = v
	}
}

func (h *victimHeap) Pop() any {
	v := h.vs[len(h.vs)-1]
	h.vs = h.vs[:len(h.vs)-1]
	delete(h.byID, v.id)
	return v
}

// entry is the ledger line that records v's eviction.
func (r *run) entry(c class, v *victim) ledger.Entry {
	what := c.what
	if !v.primary {
		what = whatDryRun
	}
	reason := r.reason() + what
	if v.id == "" {
		reason += fmt.Sprintf(": file %q is not a delivery's", v.name)
	}
	return ledger.Entry{
		Time: r.o.Now, Action: ledger.ActionEvicted, Delivery: v.id, Subscription: v.sub,
		Reason: reason, Bytes: v.size,
	}
}

// evictClass evicts a class's files, oldest first, until the directory is
// under the low-water mark, a round (evictBatch files) at a time, each
// committed lockedBatch files at a time.
func (r *run) evictClass(c class) error {
	for r.total > r.o.LowWater {
		vs, more, err := r.oldest(c, evictBatch)
		if err != nil {
			return err
		}
		removed := 0
		for len(vs) > 0 && r.total > r.o.LowWater {
			chunk := vs[:min(len(vs), lockedBatch)]
			vs = vs[len(chunk):]
			n, err := r.commitBatch(c, chunk)
			if err != nil {
				return err
			}
			removed += n
		}
		if removed == 0 || !more {
			return nil
		}
	}
	return nil
}

// commitBatch records and removes, oldest first, as many of the victims
// in batch as it takes to bring the directory under the low-water mark:
// their ledger lines are appended and fsynced, then the files are removed
// and their folders fsynced. It holds the SPEC's lock (spool.Dir.Lock)
// meanwhile: replay moves files out of sent/ and dead/ under that lock,
// not under the delivery lock, so each file is looked at again under it,
// and one that was moved is left alone. It returns how many victims it
// removed.
func (r *run) commitBatch(c class, batch []*victim) (int, error) {
	unlock, err := r.dir.Lock()
	if err != nil {
		return 0, err
	}
	defer unlock()
	parallel(len(batch), func(i int) error { batch[i].stillThere(); return nil })
	var (
		kept    []*victim
		entries []ledger.Entry
	)
	est := r.total
	for _, v := range batch {
		if est <= r.o.LowWater {
			break
		}
		if len(v.paths) == 0 {
			continue
		}
		e := r.entry(c, v)
		kept = append(kept, v)
		entries = append(entries, e)
		est -= v.size - lineSize(e)
	}
	if len(kept) == 0 {
		return 0, nil
	}
	if err := ledger.Append(r.dir.LedgerPath(), entries...); err != nil {
		return 0, err
	}
	r.ledgerGrew()
	err = parallel(len(kept), func(i int) error {
		for _, p := range kept[i].paths {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, v := range kept {
		r.total -= v.size
		c.count(r.rep).add(1, v.size)
	}
	for _, folder := range c.folders {
		if err := syncDir(filepath.Join(r.dir.Root, folder)); err != nil {
			return 0, err
		}
	}
	return len(kept), nil
}

// parallel calls fn(0) .. fn(n-1) on up to fanOut goroutines. A worker
// stops at its first error; the others go on. It returns the errors.
func parallel(n int, fn func(i int) error) error {
	var next atomic.Int64
	errs := make([]error, min(n, fanOut))
	var wg sync.WaitGroup
	for w := range errs {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// stillThere drops from v the files that are gone since they were listed
// (replayed, or removed by hand), and measures what is left.
func (v *victim) stillThere() {
	paths := v.paths[:0]
	var size int64
	primary := false
	for _, p := range v.paths {
		st, err := os.Lstat(p)
		if err != nil {
			continue
		}
		paths = append(paths, p)
		size += st.Size()
		if filepath.Base(filepath.Dir(p)) != DryRunDir {
			primary = true
		}
	}
	v.paths, v.size, v.primary = paths, size, primary
}

// lineSize estimates the bytes of e's ledger line (the ledger's encoder is
// its own; this only decides how many files to evict before the real
// sizes are measured).
func lineSize(e ledger.Entry) int64 {
	n := len(`{"ts":"2026-12-04T16:06:10.824Z","action":"evicted","reason":"","bytes":}`) + 1
	if e.Delivery != "" {
		n += len(`,"delivery":""`) + len(e.Delivery)
	}
	if e.Subscription != "" {
		n += len(`,"sub":""`) + len(e.Subscription)
	}
	n += len(e.Reason) + len(strconv.FormatInt(e.Bytes, 10))
	return int64(n)
}
