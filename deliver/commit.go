package deliver

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

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
	c := &committer{ledgerPath: ledgerPath, ch: make(chan *change, 64), stopped: make(chan struct{})}
	go c.loop()
	return c
}

// commit queues ch and waits until it is durable.
func (c *committer) commit(ch *change) error {
	ch.done = make(chan error, 1)
	c.ch <- ch
	return <-ch.done
}

// close stops the committer after the queued changes are written.
func (c *committer) close() {
	close(c.ch)
	<-c.stopped
}

func (c *committer) loop() {
	defer close(c.stopped)
	for first := range c.ch {
		batch := []*change{first}
	more:
		for len(batch) < 256 {
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
		c.flush(batch)
	}
}

func (c *committer) flush(batch []*change) {
	var lines []ledger.Entry
	for _, ch := range batch {
		lines = append(lines, ch.lines...)
	}
	if err := ledger.Append(c.ledgerPath, lines...); err != nil {
		err = fmt.Errorf("%w: %w", ErrLedger, err)
		for _, ch := range batch {
			ch.done <- err // nothing renamed: the files stay where they were
		}
		return
	}
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
	var syncErr error
	for d := range dirs {
		syncErr = errors.Join(syncErr, syncDir(d))
	}
	for i, ch := range batch {
		ch.done <- errors.Join(errs[i], syncErr)
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
