package retention

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spec-kit/outbox/internal/uuidv7"
	"github.com/spec-kit/outbox/ledger"
	"github.com/spec-kit/outbox/outbox/spool"
)

var t0 = time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)

// fixture is a webhooks directory built file by file. Eviction never reads
// delivery files, so their content is filler of the wanted size.
type fixture struct {
	t   testing.TB
	dir *spool.Dir
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	d, err := spool.Open(filepath.Join(t.TempDir(), "webhooks"), "SPEC-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Init(); err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, dir: d}
}

// add writes a delivery file of size bytes in state s, created at (its id's
// time) created, due at due, and returns its id.
func (f *fixture) add(s spool.State, created, due time.Time, size int) string {
	f.t.Helper()
	id := uuidv7.New(created)
	n := spool.Name{Due: due, Attempt: 1, ID: id, Subscription: "ops"}
	f.write(f.dir.Path(s, n), size)
	return id
}

// addN adds n deliveries to s, created a minute apart from start, each due
// at a time that sorts them in the opposite order (eviction must go by
// creation, not by the due time in the name).
func (f *fixture) addN(s spool.State, start time.Time, n, size int) []string {
	var ids []string
	for i := 0; i < n; i++ {
		created := start.Add(time.Duration(i) * time.Minute)
		ids = append(ids, f.add(s, created, start.Add(time.Duration(n-i)*time.Hour), size))
	}
	return ids
}

func (f *fixture) addDryRun(id string, size int) {
	f.t.Helper()
	p := filepath.Join(f.dir.Root, DryRunDir, id+".http")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		f.t.Fatal(err)
	}
	f.write(p, size)
}

func (f *fixture) write(p string, size int) {
	f.t.Helper()
	if err := os.WriteFile(p, bytes.Repeat([]byte("x"), size), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

// ledgerLines appends n attempt lines of about 200 bytes each.
func (f *fixture) ledgerLines(n int) {
	f.t.Helper()
	var es []ledger.Entry
	for i := 0; i < n; i++ {
		es = append(es, ledger.Entry{Time: t0.Add(time.Duration(i) * time.Second), Action: ledger.ActionAttempt,
			Delivery: uuidv7.New(t0), Subscription: "ops", Attempt: 1, Status: 503,
			Error: "HTTP 503 " + strings.Repeat("e", 60)})
	}
	if err := ledger.Append(f.dir.LedgerPath(), es...); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) size() int64 {
	f.t.Helper()
	s, err := measure(f.dir.Root)
	if err != nil {
		f.t.Fatal(err)
	}
	return s.Total
}

func (f *fixture) run(o Options) Report {
	f.t.Helper()
	if o.Now.IsZero() {
		o.Now = t0.Add(24 * time.Hour)
	}
	rep, err := Run(f.dir, o)
	if err != nil {
		f.t.Fatal(err)
	}
	return rep
}

// ids returns the delivery ids in state s.
func (f *fixture) ids(s spool.State) []string {
	f.t.Helper()
	names, _, err := f.dir.List(s)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, n := range names {
		out = append(out, n.ID)
	}
	slices.Sort(out)
	return out
}

// evicted returns the evicted lines of the live ledger.
func (f *fixture) evicted() []ledger.Entry {
	f.t.Helper()
	es, err := ledger.ReadAll(f.dir.LedgerPath())
	if err != nil {
		f.t.Fatal(err)
	}
	var out []ledger.Entry
	for _, e := range es {
		if e.Action == ledger.ActionEvicted {
			out = append(out, e)
		}
	}
	return out
}

// snapshot maps every file under the directory to its size and mtime.
func (f *fixture) snapshot() map[string]string {
	f.t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(f.dir.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out[p] = fmt.Sprint(info.Size(), info.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

// history returns the lines of the archives, oldest first, then of the live
// ledger: the whole history left in the working tree.
func history(t *testing.T, dir *spool.Dir) []string {
	t.Helper()
	as, err := listArchives(dir.Root)
	if err != nil {
		t.Fatal(err)
	}
	var all []byte
	for _, a := range as {
		all = append(all, gunzip(t, filepath.Join(dir.Root, a.name))...)
	}
	live, err := os.ReadFile(dir.LedgerPath())
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	all = append(all, live...)
	return strings.Split(strings.TrimSuffix(string(all), "\n"), "\n")
}

func gunzip(t *testing.T, p string) []byte {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
