package retention

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spec-kit/outbox/internal/durable"
	"github.com/spec-kit/outbox/outbox/spool"
)

// Size is what one listing of a webhooks directory found.
type Size struct {
	Total  int64 // every file under the directory (apparent sizes, not blocks)
	Ledger int64 // ledger.jsonl
}

// Measure adds up the sizes of every file under dir's webhooks directory
// from directory listings and lstat, without opening a file. Directories
// themselves and files that vanish while it looks are not counted. A
// directory that does not exist is an error that wraps fs.ErrNotExist.
func Measure(dir *spool.Dir) (Size, error) { return measure(dir.Root) }

func measure(root string) (Size, error) {
	var s Size
	total, err := dirSize(root, func(name string, size int64) {
		if name == ledgerName {
			s.Ledger = size
		}
	})
	s.Total = total
	return s, err
}

// ledgerName is ledger.jsonl's name (spool.Dir.LedgerPath).
const ledgerName = "ledger.jsonl"

// dirSize returns the total size of the files under dir; top, when not
// nil, sees each file directly in dir.
func dirSize(dir string, top func(name string, size int64)) (int64, error) {
	var total int64
	err := eachEntry(dir, func(e fs.DirEntry) error {
		if e.IsDir() {
			n, err := dirSize(filepath.Join(dir, e.Name()), nil)
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			total += n
			return err
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		total += info.Size()
		if top != nil {
			top(e.Name(), info.Size())
		}
		return nil
	})
	return total, err
}

// eachEntry calls fn for each entry of dir, in directory order (not
// sorted: a spool can hold 100,000 files), reading the listing in chunks.
func eachEntry(dir string, fn func(fs.DirEntry) error) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	for {
		ents, err := f.ReadDir(1024)
		for _, e := range ents {
			if ferr := fn(e); ferr != nil {
				return ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// fileInfo is one regular file of a listing.
type fileInfo struct {
	name  string
	size  int64
	mtime time.Time
}

// listFiles returns the regular files directly in dir; dot files only with
// dots (deliver ignores them in the state folders: they are not
// deliveries). A missing folder is empty.
func listFiles(dir string, dots bool) ([]fileInfo, error) {
	var out []fileInfo
	err := eachEntry(dir, func(e fs.DirEntry) error {
		if !e.Type().IsRegular() || !dots && strings.HasPrefix(e.Name(), ".") {
			return nil
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		out = append(out, fileInfo{name: e.Name(), size: info.Size(), mtime: info.ModTime()})
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return out, err
}

// cleanTmp removes the files in tmp/ whose last change is older than
// StaleTmp: what a crashed process left half-written. A file a live
// process writes has a fresh mtime; logs (deliver.log of kicked runs) are
// never removed here (the kick bounds them). Ages are by the wall clock,
// which is what mtimes are, whatever Options.Now says.
func (r *run) cleanTmp() error {
	files, err := listFiles(r.dir.TmpPath(), true)
	if err != nil {
		return fmt.Errorf("list tmp/: %w", err)
	}
	cutoff := time.Now().Add(-r.o.StaleTmp)
	for _, f := range files {
		if strings.HasSuffix(f.name, ".log") || !f.mtime.Before(cutoff) {
			continue
		}
		err := os.Remove(filepath.Join(r.dir.TmpPath(), f.name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		r.rep.StaleTmp.add(1, f.size)
		r.total -= f.size
	}
	return nil
}

// syncDir fsyncs a directory so that removals and renames in it survive a
// crash; a directory that does not exist has nothing to sync.
func syncDir(dir string) error {
	if err := durable.SyncDir(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
