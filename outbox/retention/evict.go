package retention

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
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

// victim is one delivery's files in a class (a sent file and its dry-run
// record go together), or one file that is not a delivery's.
type victim struct {
	at      time.Time // creation (UUIDv7) of a delivery; mtime of another file
	id, sub string    // empty for a file that is not a delivery's
	name    string    // that file's name
	paths   []string
	size    int64
	primary bool // holds the class's own file, not only a dry-run record
}

// victims lists a class's files, oldest first.
func (r *run) victims(c class) ([]*victim, error) {
	byID := map[string]*victim{}
	var out []*victim
	for _, folder := range c.folders {
		dir := filepath.Join(r.dir.Root, folder)
		files, err := listFiles(dir, false)
		if err != nil {
			return nil, fmt.Errorf("list %s/: %w", folder, err)
		}
		for _, f := range files {
			id, sub := "", ""
			if folder == DryRunDir {
				if s, ok := strings.CutSuffix(f.name, ".http"); ok && uuidv7.Valid(s) {
					id = s
				}
			} else if n, err := spool.ParseName(f.name); err == nil {
				id, sub = n.ID, n.Subscription
			}
			p := filepath.Join(dir, f.name)
			if id == "" {
				out = append(out, &victim{at: f.mtime, name: f.name, paths: []string{p}, size: f.size, primary: true})
				continue
			}
			v := byID[id]
			if v == nil {
				at, _ := uuidv7.Time(id)
				v = &victim{at: at, id: id}
				byID[id] = v
				out = append(out, v)
			}
			v.paths = append(v.paths, p)
			v.size += f.size
			if folder != DryRunDir {
				v.primary = true
				v.sub = sub
			}
		}
	}
	slices.SortFunc(out, func(a, b *victim) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return strings.Compare(a.id+a.name, b.id+b.name)
	})
	return out, nil
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

// batchLines bounds the ledger lines of one append (and the files removed
// after it).
const batchLines = 2000

// evictClass evicts a class's files, oldest first, until the directory is
// under the low-water mark: for each batch, the ledger lines are appended
// and fsynced, then the files are removed and their folders fsynced.
func (r *run) evictClass(c class) error {
	vs, err := r.victims(c)
	if err != nil {
		return err
	}
	est := r.total
	var chosen []*victim
	for _, v := range vs {
		if est <= r.o.LowWater {
			break
		}
		chosen = append(chosen, v)
		est -= v.size - lineSize(r.entry(c, v))
	}
	for len(chosen) > 0 {
		batch := chosen[:min(len(chosen), batchLines)]
		chosen = chosen[len(batch):]
		if err := r.commitBatch(c, batch); err != nil {
			return err
		}
	}
	return nil
}

// commitBatch records and removes one batch of victims. It holds the
// SPEC's lock (spool.Dir.Lock) meanwhile: replay moves files out of sent/
// and dead/ under that lock, not under the delivery lock, so a file is
// looked at again under it, and one that was moved is left alone.
func (r *run) commitBatch(c class, batch []*victim) error {
	unlock, err := r.dir.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	var (
		kept    []*victim
		entries []ledger.Entry
	)
	for _, v := range batch {
		if !v.stillThere() {
			continue
		}
		kept = append(kept, v)
		entries = append(entries, r.entry(c, v))
	}
	if err := ledger.Append(r.dir.LedgerPath(), entries...); err != nil {
		return err
	}
	r.ledgerGrew()
	for _, v := range kept {
		for _, p := range v.paths {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		r.total -= v.size
		c.count(r.rep).add(1, v.size)
	}
	for _, folder := range c.folders {
		if err := syncDir(filepath.Join(r.dir.Root, folder)); err != nil {
			return err
		}
	}
	return nil
}

// stillThere drops from v the files that are gone since they were listed
// (replayed, or removed by hand) and reports whether any is left.
func (v *victim) stillThere() bool {
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
	return len(paths) > 0
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
