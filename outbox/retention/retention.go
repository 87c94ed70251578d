package retention

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/gofrs/flock"
	"github.com/spec-kit/outbox/outbox/spool"
)

// Defaults.
const (
	DefaultMaxBytes = 5_000_000        // max_spool_bytes
	DefaultStaleTmp = 10 * time.Minute // tmp/ files older than this are debris of a crash
)

// DryRunDir is the folder, beside sent/, where dry runs record requests
// (deliver.DryRunDir; this package cannot import deliver, which calls it).
const DryRunDir = "dry-run"

// ErrBusy is returned by RunLocked when another process held the SPEC's
// .deliver.lock until the context ended.
var ErrBusy = errors.New("another run holds the SPEC's delivery lock")

// Options tune a run. Only MaxBytes is required.
type Options struct {
	MaxBytes        int64         // the cap on everything under webhooks/, in bytes (> 0)
	LowWater        int64         // evict down to this; 0: 90% of MaxBytes
	LedgerKeepBytes int64         // a rotation keeps the newest this many bytes of ledger.jsonl; 0: MaxBytes/10
	ArchiveBytes    int64         // archives kept ahead of dead letters; 0: MaxBytes/5
	StaleTmp        time.Duration // tmp/ files last changed longer ago than this (by the wall clock) are removed; 0: DefaultStaleTmp
	Now             time.Time     // time of the ledger lines; zero: time.Now()

	// Start, when set, is what Measure found before the caller changed the
	// directory, under the same .deliver.lock, while the caller's only
	// changes since were renames and ledger lines: Run counts from it and
	// the ledger's growth instead of listing the tree again. Files that
	// other processes added meanwhile (emit) are counted by the next run.
	Start *Size
}

func (o Options) withDefaults() (Options, error) {
	if o.MaxBytes <= 0 {
		return o, fmt.Errorf("retention: max bytes must be > 0, not %d", o.MaxBytes)
	}
	if o.LowWater <= 0 || o.LowWater > o.MaxBytes {
		o.LowWater = o.MaxBytes / 10 * 9
	}
	if o.LedgerKeepBytes <= 0 {
		o.LedgerKeepBytes = o.MaxBytes / 10
	}
	if o.ArchiveBytes <= 0 {
		o.ArchiveBytes = o.MaxBytes / 5
	}
	if o.StaleTmp <= 0 {
		o.StaleTmp = DefaultStaleTmp
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	o.Now = o.Now.UTC()
	return o, nil
}

// Count is a number of things removed and the bytes that freed.
type Count struct {
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"`
}

func (c *Count) add(files int, bytes int64) {
	c.Files += files
	c.Bytes += bytes
}

// Rotation is one rotation of ledger.jsonl into an archive.
type Rotation struct {
	Archive      string `json:"archive,omitempty"` // file name beside ledger.jsonl; empty when only a crashed rotation was completed
	Lines        int    `json:"lines"`             // lines moved out of ledger.jsonl
	LedgerBytes  int64  `json:"ledger_bytes"`      // their bytes
	ArchiveBytes int64  `json:"archive_bytes"`     // size of the archive written
}

// Report says what a run found and did.
type Report struct {
	Spec            string     `json:"spec"`
	MaxBytes        int64      `json:"max_bytes"`
	Before          int64      `json:"bytes_before"` // everything under webhooks/
	After           int64      `json:"bytes_after"`
	Sent            Count      `json:"sent"`    // sent deliveries evicted (Files: deliveries; Bytes: with their dry-run records)
	Dead            Count      `json:"dead"`    // dead letters evicted
	Pending         Count      `json:"pending"` // pending deliveries evicted
	Rotations       []Rotation `json:"rotations"`
	ArchivesDropped Count      `json:"archives_dropped"`
	StaleTmp        Count      `json:"stale_tmp"`
	OverCap         bool       `json:"over_cap"` // still over MaxBytes: the cap is below what cannot be evicted
}

// Evicted is the number of deliveries evicted.
func (r *Report) Evicted() int { return r.Sent.Files + r.Dead.Files + r.Pending.Files }

// Changed reports whether the run removed or rewrote anything.
func (r *Report) Changed() bool {
	return r.Evicted() > 0 || len(r.Rotations) > 0 || r.ArchivesDropped.Files > 0 || r.StaleTmp.Files > 0
}

// Run keeps dir under opts.MaxBytes: it removes stale tmp/ files, and when
// everything under the directory weighs more than the cap, evicts oldest
// first (see the package documentation) down to the low-water mark,
// recording each eviction in the ledger before the removal. Under the cap it
// costs one listing of the directory tree (none with Options.Start) and
// writes nothing (stale tmp/ files apart). The caller must hold the SPEC's .deliver.lock; a directory
// that does not exist is empty.
func Run(dir *spool.Dir, opts Options) (Report, error) {
	rep := Report{Spec: dir.Spec, MaxBytes: opts.MaxBytes, Rotations: []Rotation{}}
	o, err := opts.withDefaults()
	if err != nil {
		return rep, err
	}
	sz, err := o.size(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return rep, nil
	}
	if err != nil {
		return rep, fmt.Errorf("retention: %w", err)
	}
	rep.Before, rep.After = sz.Total, sz.Total
	r := &run{dir: dir, o: o, rep: &rep, total: sz.Total, ledger: sz.Ledger}
	err = r.cleanTmp()
	if err == nil && r.total > o.MaxBytes {
		err = r.evict()
	}
	rep.After = r.total
	if rep.Evicted() > 0 || len(rep.Rotations) > 0 || rep.ArchivesDropped.Files > 0 {
		if after, merr := measure(dir.Root); merr == nil {
			rep.After = after.Total // with what emit processes added meanwhile
		}
	}
	rep.OverCap = rep.After > o.MaxBytes
	if err != nil {
		return rep, fmt.Errorf("retention: %s: %w", dir.Spec, err)
	}
	return rep, nil
}

// size is the directory's size now: measured, or Start with the ledger's
// growth since.
func (o Options) size(dir *spool.Dir) (Size, error) {
	if o.Start == nil {
		return measure(dir.Root)
	}
	sz := *o.Start
	st, err := os.Lstat(dir.LedgerPath())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return sz, err
	}
	if err == nil {
		sz.Total += st.Size() - sz.Ledger
		sz.Ledger = st.Size()
	}
	return sz, nil
}

// RunLocked is Run under the SPEC's .deliver.lock, waiting for it until ctx
// ends (ErrBusy). It is for callers that are not a delivery run, such as
// `outbox gc`. A directory that does not exist is left alone.
func RunLocked(ctx context.Context, dir *spool.Dir, opts Options) (Report, error) {
	if _, err := os.Stat(dir.Root); errors.Is(err, fs.ErrNotExist) {
		return Report{Spec: dir.Spec, MaxBytes: opts.MaxBytes, Rotations: []Rotation{}}, nil
	}
	lock := flock.New(dir.RunLockPath())
	ok, err := lock.TryLockContext(ctx, 20*time.Millisecond)
	if err != nil && ctx.Err() == nil {
		return Report{Spec: dir.Spec}, fmt.Errorf("retention: lock %s: %w", dir.RunLockPath(), err)
	}
	if !ok {
		return Report{Spec: dir.Spec}, fmt.Errorf("retention: %s: %w", dir.Spec, ErrBusy)
	}
	defer lock.Unlock()
	return Run(dir, opts)
}

// run is the state of one Run.
type run struct {
	dir    *spool.Dir
	o      Options
	rep    *Report
	total  int64 // running estimate of everything under webhooks/
	ledger int64 // size of ledger.jsonl when last looked at
}

// evict works through the classes in order until the directory is under
// the low-water mark.
func (r *run) evict() error {
	steps := []func() error{
		func() error { return r.evictClass(classSent) },
		r.ledgerStep,
		func() error { return r.evictClass(classDead) },
		func() error { return r.evictClass(classPending) },
		r.lastResort,
	}
	for _, step := range steps {
		if r.total <= r.o.LowWater {
			return nil
		}
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// reason is the start of every eviction's reason.
func (r *run) reason() string {
	return fmt.Sprintf("spool over %d bytes: ", r.o.MaxBytes)
}

// ledgerGrew accounts for what was appended to ledger.jsonl since it was
// last looked at (by this run or, concurrently, by emit processes).
func (r *run) ledgerGrew() {
	st, err := os.Lstat(r.dir.LedgerPath())
	if err != nil {
		return
	}
	r.total += st.Size() - r.ledger
	r.ledger = st.Size()
}
