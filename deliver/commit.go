package deliver

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/spec-kit/outbox/internal/durable"
	"github.com/spec-kit/outbox/ledger"
)

// change is one delivery's state change: ledger lines, then a rename.
type change struct {
	lines    []byte // encoded by ledger.AppendLine
	from, to string // rename; empty from means no rename
	fl       *inflight
}

// maxBatch bounds the changes of one batch.
const maxBatch = 1024

// A batch stays open while each batchGap brings more changes, for at most
// batchMaxAge: the committer sleeps for the gap and then takes what was
// queued meanwhile, so it wakes once a gap, not once a change. Without the
// gap, a batch holds what arrived during the previous one's fsync, a few
// dozen changes when the disk is fast: several hundred fsyncs for ten
// thousand deliveries. Each fsync blocks a thread that holds one of the Go
// scheduler's Ps (two on a two-core machine) until the runtime notices and
// hands the P over, so the senders and their connections wait for a P
// meanwhile. Workers never wait for their own commits while they have more
// to send, so a longer batch costs them nothing; a run's last batch closes
// batchGap after its last change.
const (
	batchGap    = time.Millisecond
	batchMaxAge = 20 * time.Millisecond
)

// committer makes the state changes of one SPEC durable in batches: every
// change queued while a batch is being written joins the next batch, which
// costs one ledger append (one fsync) and one fsync per folder touched,
// however many deliveries it holds. Order inside a batch is kept: ledger
// first, then renames, then folder fsyncs, then each waiter is released.
//
// Two stages run at once: while one batch's renames and folder fsyncs run,
// the next batch's ledger lines are written. A delivery's own order
// (ledger, rename, fsync) is kept; batches hold different files.
type committer struct {
	ledgerPath string
	ch         chan *change
	stopped    chan struct{}
}

// newCommitter starts a committer whose first batch waits for gate to be
// closed (nil: no wait).
func newCommitter(ledgerPath string, gate <-chan struct{}) *committer {
	c := &committer{ledgerPath: ledgerPath, ch: make(chan *change, maxBatch), stopped: make(chan struct{})}
	go c.loop(gate)
	return c
}

// submit queues ch; ch.fl learns when it is durable. It blocks only while
// the queue is full.
func (c *committer) submit(ch *change) {
	ch.fl.add()
	c.ch <- ch
}

// inflight counts the changes one worker has submitted and not yet seen
// committed: a worker sends its next delivery while the previous one's
// state change is being written, and waits for all of them before it
// returns or looks at the spool again. Decisions never depend on an
// uncommitted change: the outcome of an attempt is known when it is
// submitted.
type inflight struct {
	wg    sync.WaitGroup
	mu    sync.Mutex
	first error
}

func (f *inflight) add() { f.wg.Add(1) }

// done records the outcome of one submitted change.
func (f *inflight) done(err error) {
	if err != nil {
		f.mu.Lock()
		if f.first == nil {
			f.first = err
		}
		f.mu.Unlock()
	}
	f.wg.Done()
}

// wait returns the first error of the submitted changes, after all of them
// are done.
func (f *inflight) wait() error {
	f.wg.Wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	err := f.first
	f.first = nil
	return err
}

// close stops the committer after the queued changes are written.
func (c *committer) close() {
	close(c.ch)
	<-c.stopped
}

func (c *committer) loop(gate <-chan struct{}) {
	moves := make(chan []*change, 1)
	movesDone := make(chan struct{})
	go func() {
		defer close(movesDone)
		dirs := newFolders()
		defer dirs.close()
		for batch := range moves {
			c.rename(dirs, batch)
		}
	}()
	defer func() {
		close(moves)
		<-movesDone
		close(c.stopped)
	}()
	var buf []byte
	if gate != nil {
		<-gate
	}
	for first := range c.ch {
		batch := append(make([]*change, 0, 64), first)
		opened := time.Now()
		for open := true; open && len(batch) < maxBatch; {
			// Take what is queued, then sleep for the gap and look again:
			// the committer wakes once a gap, not once a change.
			batch, open = c.take(batch)
			if !open || time.Since(opened) > batchMaxAge {
				break
			}
			time.Sleep(batchGap)
			if len(c.ch) == 0 {
				break // nothing came during the gap
			}
		}
		buf = buf[:0]
		for _, ch := range batch {
			buf = append(buf, ch.lines...)
		}
		if err := ledger.AppendEncoded(c.ledgerPath, buf); err != nil {
			err = fmt.Errorf("%w: %w", ErrLedger, err)
			for _, ch := range batch {
				ch.fl.done(err) // nothing renamed: the files stay where they were
			}
			continue
		}
		moves <- batch
	}
}

// take appends the queued changes to batch, up to maxBatch, without
// waiting; open is false once the queue is closed and empty.
func (c *committer) take(batch []*change) (_ []*change, open bool) {
	for len(batch) < maxBatch {
		select {
		case ch, ok := <-c.ch:
			if !ok {
				return batch, false
			}
			batch = append(batch, ch)
		default:
			return batch, true
		}
	}
	return batch, true
}

// rename moves the batch's files, fsyncs the folders touched and releases
// the waiters.
func (c *committer) rename(folders *folders, batch []*change) {
	var errs []error
	dirs := make([]string, 0, 4)
	addDir := func(d string) {
		for _, have := range dirs {
			if have == d {
				return
			}
		}
		dirs = append(dirs, d)
	}
	for i, ch := range batch {
		if ch.from == "" {
			continue
		}
		if err := folders.rename(ch.from, ch.to); err != nil {
			if errs == nil {
				errs = make([]error, len(batch))
			}
			if _, ok := err.(*os.LinkError); !ok {
				err = &os.LinkError{Op: "rename", Old: ch.from, New: ch.to, Err: err}
			}
			errs[i] = err
			continue
		}
		addDir(filepath.Dir(ch.from))
		addDir(filepath.Dir(ch.to))
	}
	// The folders are fsynced concurrently: the filesystem commits them
	// together.
	var (
		syncErr error
		mu      sync.Mutex
		wg      sync.WaitGroup
	)
	for _, d := range dirs[min(1, len(dirs)):] {
		wg.Go(func() {
			if err := durable.SyncDir(d); err != nil {
				mu.Lock()
				syncErr = errors.Join(syncErr, err)
				mu.Unlock()
			}
		})
	}
	if len(dirs) > 0 {
		if err := durable.SyncDir(dirs[0]); err != nil {
			mu.Lock()
			syncErr = errors.Join(syncErr, err)
			mu.Unlock()
		}
	}
	wg.Wait()
	for i, ch := range batch {
		err := syncErr
		if errs != nil && errs[i] != nil {
			err = errors.Join(errs[i], syncErr)
		}
		ch.fl.done(err)
	}
}
