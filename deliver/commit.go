package deliver

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/spec-kit/outbox/internal/durable"
	"github.com/spec-kit/outbox/ledger"
)

// change is one delivery's state change: ledger lines, then a rename.
type change struct {
	lines    []ledger.Entry
	from, to string // rename; empty from means no rename
	done     chan error
}

// committer makes the state changes of one SPEC durable in batches: every
// change queued while a batch is being written joins the next batch, which
// costs one ledger append (one fsync) and one fsync per folder touched,
// however many deliveries it holds. Order inside a batch is kept: ledger
// first, then renames, then folder fsyncs, then each waiter is released.
type committer struct {
	ledgerPath string
	ch         chan *change
	stopped    chan struct{}
}

func newCommitter(ledgerPath string) *committer {
	c := &committer{ledgerPath: ledgerPath, ch: make(chan *change, 1024), stopped: make(chan struct{})}
	go c.loop()
	return c
}

// submit queues ch and returns the channel that reports when it is
// durable. It blocks only while the queue is full.
func (c *committer) submit(ch *change) <-chan error {
	ch.done = make(chan error, 1)
	c.ch <- ch
	return ch.done
}

// inflight collects the changes one worker has submitted and not yet seen
// committed: a worker sends its next delivery while the previous one's
// state change is being written, and waits for all of them before it
// returns. Decisions never depend on an uncommitted change: the outcome of
// an attempt is known when it is submitted.
type inflight []<-chan error

func (f *inflight) add(done <-chan error) { *f = append(*f, done) }

// wait returns the first error of the submitted changes, after all of them
// are done.
func (f *inflight) wait() error {
	var first error
	for _, done := range *f {
		if err := <-done; err != nil && first == nil {
			first = err
		}
	}
	*f = nil
	return first
}

// close stops the committer after the queued changes are written.
func (c *committer) close() {
	close(c.ch)
	<-c.stopped
}

func (c *committer) loop() {
	// Two stages: while one batch's renames and folder fsyncs run, the next
	// batch's ledger lines are written. A delivery's own order (ledger,
	// rename, fsync) is kept; batches hold different files.
	moves := make(chan []*change, 1)
	movesDone := make(chan struct{})
	go func() {
		defer close(movesDone)
		for batch := range moves {
			c.rename(batch)
		}
	}()
	defer func() {
		close(moves)
		<-movesDone
		close(c.stopped)
	}()
	for first := range c.ch {
		batch := []*change{first}
	more:
		for len(batch) < 1024 {
			select {
			case ch, ok := <-c.ch:
				if !ok {
					break more
				}
				batch = append(batch, ch)
			default:
				break more
			}
		}
		if c.append(batch) {
			moves <- batch
		}
	}
}

// append writes the batch's ledger lines; on failure it releases the
// batch's waiters with the error and renames nothing.
func (c *committer) append(batch []*change) bool {
	var lines []ledger.Entry
	for _, ch := range batch {
		lines = append(lines, ch.lines...)
	}
	if err := ledger.Append(c.ledgerPath, lines...); err != nil {
		err = fmt.Errorf("%w: %w", ErrLedger, err)
		for _, ch := range batch {
			ch.done <- err // nothing renamed: the files stay where they were
		}
		return false
	}
	return true
}

// rename moves the batch's files, fsyncs the folders touched and releases
// the waiters.
func (c *committer) rename(batch []*change) {
	errs := make([]error, len(batch))
	dirs := map[string]bool{}
	for i, ch := range batch {
		if ch.from == "" {
			continue
		}
		if err := os.Rename(ch.from, ch.to); err != nil {
			errs[i] = err
			continue
		}
		dirs[filepath.Dir(ch.from)] = true
		dirs[filepath.Dir(ch.to)] = true
	}
	// The folders are fsynced concurrently: the filesystem commits them
	// together.
	var (
		syncErr error
		mu      sync.Mutex
		wg      sync.WaitGroup
	)
	for d := range dirs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := durable.SyncDir(d); err != nil {
				mu.Lock()
				syncErr = errors.Join(syncErr, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for i, ch := range batch {
		ch.done <- errors.Join(errs[i], syncErr)
	}
}
