package spool

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/gofrs/flock"
)

// State is a delivery's state, named for the folder that holds it.
type State string

// The states of a delivery.
const (
	Pending State = "spool"
	Sent    State = "sent"
	Dead    State = "dead"
)

// States lists every state folder.
var States = []State{Pending, Sent, Dead}

const (
	tmpDir     = "tmp"
	lockFile   = ".lock"
	ledgerFile = "ledger.jsonl"
	ignoreFile = ".gitignore"
)

// gitignore keeps half-written files and lock files out of git.
const gitignore = `# Written by outbox. Half-written files and lock files are never committed.
tmp/
.lock
*.lock
`

// Dir is one SPEC's webhooks directory.
type Dir struct {
	Root string // the webhooks directory
	Spec string // the SPEC id
}

// Open returns the Dir for spec at root. It does not touch the disk.
func Open(root, spec string) (*Dir, error) {
	if !ValidSpecID(spec) {
		return nil, fmt.Errorf("%w: %q (letters, digits, '.', '-', '_'; no '/' or '..')", ErrBadSpecID, spec)
	}
	return &Dir{Root: root, Spec: spec}, nil
}

// LedgerPath is the path of the SPEC's ledger.
func (d *Dir) LedgerPath() string { return filepath.Join(d.Root, ledgerFile) }

// StatePath is the folder of a state.
func (d *Dir) StatePath(s State) string { return filepath.Join(d.Root, string(s)) }

// Path is the path of a delivery file in a state folder.
func (d *Dir) Path(s State, n Name) string { return filepath.Join(d.Root, string(s), n.String()) }

// Init creates the directory tree and its .gitignore if they are missing.
// It is cheap when they exist.
func (d *Dir) Init() error {
	if _, err := os.Stat(filepath.Join(d.Root, ignoreFile)); err == nil {
		return nil
	}
	for _, sub := range []string{tmpDir, string(Pending), string(Sent), string(Dead)} {
		if err := mkdirAll(filepath.Join(d.Root, sub)); err != nil {
			return fmt.Errorf("spool: %w", err)
		}
	}
	err := WriteFileAtomic(filepath.Join(d.Root, tmpDir), filepath.Join(d.Root, ignoreFile), []byte(gitignore))
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	return nil
}

// Lock takes the SPEC's exclusive lock, waiting for it, and returns the
// function that releases it. Hold it only for short changes of the
// directory, never across network calls.
func (d *Dir) Lock() (unlock func(), err error) {
	l := flock.New(filepath.Join(d.Root, lockFile))
	if err := l.Lock(); err != nil {
		return nil, fmt.Errorf("spool: lock %s: %w", l.Path(), err)
	}
	return func() { _ = l.Unlock() }, nil
}

// Enqueue writes one new pending file per delivery, due at due with attempt
// 1, and returns their names. Each file is complete and fsynced in tmp/
// before it is renamed into spool/, and spool/ is fsynced before Enqueue
// returns. On error no file of the batch is left in tmp/.
//
// All files are created and written before they are fsynced, and the
// fsyncs run concurrently, so the filesystem can commit them together.
func (d *Dir) Enqueue(ds []*Delivery, due time.Time) ([]Name, error) {
	tmp := filepath.Join(d.Root, tmpDir)
	type written struct {
		f *os.File
		n Name
	}
	ws := make([]written, 0, len(ds))
	fail := func(err error) ([]Name, error) {
		for _, w := range ws {
			if w.f != nil {
				w.f.Close()
				os.Remove(w.f.Name())
			}
		}
		return nil, fmt.Errorf("spool: %w", err)
	}
	for _, dl := range ds {
		data, err := dl.Encode()
		if err != nil {
			return fail(fmt.Errorf("encode %s: %w", dl.ID, err))
		}
		n := Name{Due: due, Attempt: 1, ID: dl.ID, Subscription: dl.Subscription}
		f, err := os.OpenFile(filepath.Join(tmp, n.String()), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return fail(err)
		}
		ws = append(ws, written{f, n})
		if _, err := f.Write(data); err != nil {
			return fail(fmt.Errorf("write %s: %w", f.Name(), err))
		}
	}
	if err := syncAll(ws, func(w written) *os.File { return w.f }); err != nil {
		return fail(err)
	}
	for i := range ws {
		err := ws[i].f.Close()
		if err != nil {
			return fail(fmt.Errorf("close %s: %w", ws[i].f.Name(), err))
		}
	}
	names := make([]Name, 0, len(ws))
	for i, w := range ws {
		if err := noReplaceRename(w.f.Name(), d.Path(Pending, w.n)); err != nil {
			for _, rest := range ws[i:] {
				os.Remove(rest.f.Name())
			}
			// Files already renamed are complete deliveries: keep them.
			return names, fmt.Errorf("spool: enqueue %s: %w", w.n.ID, err)
		}
		names = append(names, w.n)
	}
	if err := syncDir(d.StatePath(Pending)); err != nil {
		return names, fmt.Errorf("spool: %w", err)
	}
	return names, nil
}

// noReplaceRename renames src to dst unless dst exists.
func noReplaceRename(src, dst string) error {
	if _, err := os.Lstat(dst); err == nil {
		return fmt.Errorf("%w: %s", ErrExists, dst)
	}
	return os.Rename(src, dst)
}

// List returns the names of the delivery files in a state folder, sorted
// by file name (due time first). Entries that are not delivery file names
// are returned in bad, so a caller can dead-letter or report them.
func (d *Dir) List(s State) (names []Name, bad []string, err error) {
	ents, err := os.ReadDir(d.StatePath(s))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("spool: %w", err)
	}
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		n, perr := ParseName(e.Name())
		if perr != nil {
			bad = append(bad, e.Name())
			continue
		}
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b Name) int {
		if c := a.Due.Compare(b.Due); c != 0 {
			return c
		}
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return names, bad, nil
}

// Read opens and decodes a delivery file.
func (d *Dir) Read(s State, n Name) (*Delivery, error) {
	return d.ReadPath(d.Path(s, n), n)
}

// readBufs holds buffers for delivery files: Decode copies what it keeps,
// so the file's bytes can be reused at once.
var readBufs = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

// ReadPath is Read for the delivery file at p, which must be named n (a
// caller that already has the path saves building it again).
func (d *Dir) ReadPath(p string, n Name) (*Delivery, error) {
	return readPath(p, n, readFileInto)
}

// readFunc reads the file at p, appending to buf; with untilShort it may
// stop at a short read (readFileInto).
type readFunc func(p string, buf []byte, untilShort bool) (data []byte, short bool, err error)

func readPath(p string, n Name, read readFunc) (*Delivery, error) {
	bp := readBufs.Get().(*[]byte)
	data, short, err := read(p, (*bp)[:0], true)
	if err != nil {
		readBufs.Put(bp)
		return nil, fmt.Errorf("spool: %w", err)
	}
	dl, err := Decode(p, data)
	if err != nil && short {
		// The short read may not have been the end (a network or FUSE
		// file system): read to EOF, and decide on that.
		if data, _, err = read(p, data[:0], false); err != nil {
			readBufs.Put(bp)
			return nil, fmt.Errorf("spool: %w", err)
		}
		dl, err = Decode(p, data)
	}
	if cap(data) <= 1<<20 {
		*bp = data[:0]
		readBufs.Put(bp)
	}
	if err != nil {
		return nil, err
	}
	if dl.ID != n.ID || dl.Subscription != n.Subscription {
		return nil, fmt.Errorf("%w: %s: file name does not match its id or subscription", ErrBadFile, p)
	}
	return dl, nil
}

func randSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// TmpPath is the folder for half-written files and process logs.
func (d *Dir) TmpPath() string { return filepath.Join(d.Root, tmpDir) }

// RunLockPath is the flock file that one delivery run at a time holds.
func (d *Dir) RunLockPath() string { return filepath.Join(d.Root, ".deliver.lock") }

// SyncState fsyncs a state folder, making renames into and out of it durable.
func (d *Dir) SyncState(s State) error { return syncDir(d.StatePath(s)) }
