package deliver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"
	"github.com/spec-kit/outbox/deliver/send"
	"github.com/spec-kit/outbox/outbox/config"
	"github.com/spec-kit/outbox/outbox/retention"
	"github.com/spec-kit/outbox/outbox/spool"
)

// Sender performs one delivery attempt. *send.Client is the real one.
type Sender interface {
	Send(ctx context.Context, r send.Request, now time.Time) send.Result
}

// Runner delivers what is due in the spools of one repository.
type Runner struct {
	Config         *config.Config
	RepoRoot       string
	Sender         Sender
	Getenv         func(string) string // os.Getenv by default; secrets are read at send time
	Now            func() time.Time    // time.Now by default
	DryRun         bool                // record requests instead of sending them
	MaxConcurrency int                 // 0: max_concurrency from the config
	Linger         time.Duration       // keep going while a retry is due within this window
	Poll           time.Duration       // while lingering, look for new files this often (default 200ms)
	UserAgent      string
	Only           map[string]bool // when set, only these delivery ids are sent (outbox test); others wait
	OneShot        bool            // a failed attempt is dead at once instead of retried (outbox test)
	Progress       func(Summary)   // called after each delivery's outcome, with the run's totals so far

	progressMu sync.Mutex
	progress   Summary
	urls       sync.Map // urlKey -> resolved
}

// report counts one outcome towards Progress.
func (r *Runner) report(o outcome) {
	if r.Progress == nil {
		return
	}
	r.progressMu.Lock()
	defer r.progressMu.Unlock()
	switch o {
	case outDelivered:
		r.progress.Delivered++
	case outRetry:
		r.progress.Retrying++
	case outDead:
		r.progress.Dead++
	case outDryRun:
		r.progress.DryRun++
	}
	r.Progress(r.progress)
}

// Summary counts what a run did.
type Summary struct {
	Delivered int      `json:"delivered"`
	Retrying  int      `json:"retrying"` // attempts that failed and were rescheduled
	Dead      int      `json:"dead"`
	DryRun    int      `json:"dry_run"`
	Pending   int      `json:"pending"` // left in spool/ when the run ended
	Busy      []string `json:"busy"`    // SPECs another run was working on
	Specs     []string `json:"specs"`   // SPECs looked at
}

func (s *Summary) add(o Summary) {
	s.Delivered += o.Delivered
	s.Retrying += o.Retrying
	s.Dead += o.Dead
	s.DryRun += o.DryRun
	s.Pending += o.Pending
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Runner) getenv(k string) string {
	if r.Getenv != nil {
		return r.Getenv(k)
	}
	return os.Getenv(k)
}

// SpoolDir returns the webhooks directory of spec.
func (r *Runner) SpoolDir(spec string) (*spool.Dir, error) {
	return spool.Open(r.Config.Webhooks.SpoolPath(r.RepoRoot, spec), spec)
}

// Specs lists the SPECs that have a webhooks directory, by matching
// spool_dir with {spec_id} as a wildcard.
func (r *Runner) Specs() ([]string, error) {
	pattern := r.Config.Webhooks.SpoolDir
	if !filepath.IsAbs(pattern) {
		pattern = filepath.Join(r.RepoRoot, filepath.FromSlash(pattern))
	}
	prefix, suffix, _ := strings.Cut(pattern, config.SpecIDPlaceholder)
	matches, err := filepath.Glob(prefix + "*" + strings.ReplaceAll(suffix, config.SpecIDPlaceholder, "*"))
	if err != nil {
		return nil, err
	}
	var specs []string
	for _, m := range matches {
		id := strings.TrimSuffix(strings.TrimPrefix(m, prefix), suffix)
		if spool.ValidSpecID(id) {
			if st, err := os.Stat(m); err == nil && st.IsDir() {
				specs = append(specs, id)
			}
		}
	}
	sort.Strings(specs)
	return specs, nil
}

// Run delivers what is due for each SPEC, in parallel, and returns when
// nothing is due any more (or only retries later than the linger window).
func (r *Runner) Run(ctx context.Context, specs []string) (Summary, error) {
	n := r.MaxConcurrency
	if n <= 0 {
		n = r.Config.Webhooks.MaxConcurrency
	}
	sem := make(chan struct{}, max(n, 1))
	var (
		mu    sync.Mutex
		total = Summary{Specs: specs, Busy: []string{}}
		errs  []error
		wg    sync.WaitGroup
	)
	for _, spec := range specs {
		dir, err := r.SpoolDir(spec)
		if err != nil {
			return total, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, busy, err := r.runSpec(ctx, dir, sem)
			mu.Lock()
			defer mu.Unlock()
			total.add(s)
			if busy {
				total.Busy = append(total.Busy, spec)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", spec, err))
			}
		}()
	}
	wg.Wait()
	sort.Strings(total.Busy)
	if len(errs) > 0 {
		return total, errs[0]
	}
	return total, nil
}

// runSpec works one SPEC while it holds its run lock, then looks again after
// releasing it: an event enqueued while this run held the lock (its own
// kick found the lock taken) is picked up here. busy reports that another
// run held the lock from the start.
func (r *Runner) runSpec(ctx context.Context, dir *spool.Dir, sem chan struct{}) (sum Summary, busy bool, err error) {
	if _, err := os.Stat(dir.StatePath(spool.Pending)); err != nil {
		return sum, false, nil // nothing was ever enqueued for this SPEC
	}
	lock := flock.New(dir.RunLockPath())
	for first := true; ; first = false {
		ok, err := lock.TryLock()
		if err != nil {
			return sum, false, fmt.Errorf("lock %s: %w", dir.RunLockPath(), err)
		}
		if !ok {
			return sum, first, nil // the holder will look again after us
		}
		m := startMeasure(dir)
		s, err := r.drain(ctx, dir, sem, m.done)
		if err == nil {
			err = r.evict(dir, m, s.DryRun > 0)
		}
		<-m.done
		sum.add(s)
		sum.Pending = s.Pending
		lock.Unlock()
		if err != nil || ctx.Err() != nil {
			return sum, false, err
		}
		sc, err := scanSpool(dir)
		if err != nil {
			return sum, false, err
		}
		if !r.workDue(sc) {
			sum.Pending = sc.pending
			return sum, false, nil
		}
	}
}

// restrict drops from q what this run must not send (see Only).
func (r *Runner) restrict(q *queue) {
	if r.Only == nil {
		return
	}
	kept := q.items[:0]
	for _, n := range q.items {
		if r.Only[n.ID] {
			kept = append(kept, n)
		}
	}
	q.items = kept
}

// measurement is the size of a SPEC's webhooks/ when a drain began,
// taken in the background while the drain scans and sends: the drain's
// committer makes no change before done is closed, so the listing sees the
// directory as the run found it.
type measurement struct {
	done chan struct{}
	size retention.Size
	err  error
}

func startMeasure(dir *spool.Dir) *measurement {
	m := &measurement{done: make(chan struct{})}
	go func() {
		defer close(m.done)
		m.size, m.err = retention.Measure(dir)
	}()
	return m
}

// evict keeps the SPEC's webhooks/ under max_spool_bytes, at the end of a
// drain, under the run lock. The drain only renamed files and appended
// ledger lines, so retention counts from the measurement taken when it
// began, unless it wrote dry-run records (new files) or the measurement
// failed: then retention lists the directory again.
func (r *Runner) evict(dir *spool.Dir, m *measurement, wroteFiles bool) error {
	opts := retention.Options{MaxBytes: r.Config.Webhooks.MaxSpoolBytes, Now: r.now()}
	if <-m.done; m.err == nil && !wroteFiles {
		opts.Start = &m.size
	}
	_, err := retention.Run(dir, opts)
	return err
}

// workDue reports whether a scan holds something to do now.
func (r *Runner) workDue(sc *scan) bool {
	if len(sc.bad) > 0 && r.Only == nil {
		return true
	}
	now := r.now()
	for _, q := range sc.queues {
		r.restrict(q)
		if len(q.items) > 0 && !q.items[0].Due.After(now) && r.sendable(q.sub) {
			return true
		}
	}
	return false
}

// sendable reports whether deliveries to sub are worked at all: an unknown
// subscription's are (they are dead-lettered), an inactive one's wait.
func (r *Runner) sendable(sub string) bool {
	s, ok := r.Config.Subscription(sub)
	return !ok || s.IsActive()
}

// drain delivers until nothing is due, lingering while a retry is due
// within the linger window. Its first change waits for measured to be
// closed.
func (r *Runner) drain(ctx context.Context, dir *spool.Dir, sem chan struct{}, measured <-chan struct{}) (Summary, error) {
	var sum Summary
	c := newCommitter(dir.LedgerPath(), measured)
	defer c.close()
	sp := newSpoolPaths(dir)
	deadline := r.now().Add(r.Linger)
	for ctx.Err() == nil {
		sc, err := scanSpool(dir)
		if err != nil {
			return sum, err
		}
		sum.Pending = sc.pending
		if r.Only != nil {
			sc.bad = nil // a test run touches nothing but its own deliveries
		}
		for _, name := range sc.bad {
			if err := r.deadBadName(c, sp, name); err != nil {
				return sum, err
			}
			sum.Dead++
		}
		progress, s, err := r.pass(ctx, dir, sp, sc, c, sem)
		sum.add(s)
		if err != nil {
			return sum, err
		}
		if progress || len(sc.bad) > 0 {
			continue
		}
		next, ok := r.nextSendable(sc)
		now := r.now()
		if !ok || next.After(deadline) || !now.Before(deadline) {
			return sum, nil
		}
		poll := r.Poll
		if poll <= 0 {
			poll = 200 * time.Millisecond
		}
		wait := min(max(next.Sub(now), time.Millisecond), poll)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
	return sum, nil
}

func (r *Runner) nextSendable(sc *scan) (time.Time, bool) {
	var due time.Time
	ok := false
	for _, q := range sc.queues {
		r.restrict(q)
		if len(q.items) == 0 || !r.sendable(q.sub) {
			continue
		}
		if d := q.items[0].Due; !ok || d.Before(due) {
			due, ok = d, true
		}
	}
	return due, ok
}

// pass works every subscription queue of a scan, in parallel up to the
// semaphore. progress reports whether any delivery changed state.
func (r *Runner) pass(ctx context.Context, dir *spool.Dir, sp spoolPaths, sc *scan, c *committer, sem chan struct{}) (progress bool, sum Summary, err error) {
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs []error
	)
	rf := newRefiller(dir, sc)
	for _, q := range sc.queues {
		r.restrict(q)
		if !r.sendable(q.sub) || len(q.items) == 0 || q.items[0].Due.After(r.now()) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			s, moved, err := r.work(ctx, dir, sp, q, rf, c)
			mu.Lock()
			defer mu.Unlock()
			sum.add(s)
			progress = progress || moved
			if err != nil {
				errs = append(errs, err)
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return progress, sum, errs[0]
	}
	return progress, sum, nil
}

// work sends one subscription's due deliveries in FIFO order. It stops at
// the first one that is not due, or that failed and was rescheduled: a
// later delivery never overtakes an earlier one. When the scan held only
// the head of the subscription's queue, the refiller gives it the rest.
func (r *Runner) work(ctx context.Context, dir *spool.Dir, sp spoolPaths, q *queue, rf *refiller, c *committer) (sum Summary, moved bool, err error) {
	var fl inflight
	defer func() {
		if werr := fl.wait(); err == nil {
			err = werr
		}
	}()
	defer rf.drop(q.sub)
	for {
		for _, n := range q.items {
			if r.Only != nil && !r.Only[n.ID] {
				continue
			}
			if ctx.Err() != nil || n.Due.After(r.now()) {
				return sum, moved, nil
			}
			outcome, err := r.deliverOne(ctx, dir, sp, n, c, &fl)
			if err != nil {
				return sum, moved, err
			}
			moved = true
			r.report(outcome)
			switch outcome {
			case outDelivered:
				sum.Delivered++
			case outDryRun:
				sum.DryRun++
			case outDead:
				sum.Dead++
			case outRetry:
				sum.Retrying++
				return sum, moved, nil
			}
		}
		if q, err = rf.take(q.sub); err != nil || len(q.items) == 0 {
			return sum, moved, err
		}
		r.restrict(q)
	}
}
