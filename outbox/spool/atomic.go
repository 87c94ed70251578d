package spool

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/spec-kit/outbox/internal/durable"
)

// syncDir fsyncs a directory so that entries created, renamed or removed in
// it survive a crash.
func syncDir(dir string) error { return durable.SyncDir(dir) }

// writeTemp creates name in tmpDir with O_EXCL, writes data and fsyncs it.
func writeTemp(tmpDir, name string, data []byte) (string, error) {
	p := filepath.Join(tmpDir, name)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", err
	}
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(p)
		return "", fmt.Errorf("write %s: %w", p, err)
	}
	return p, nil
}

// WriteFileAtomic writes data to path through tmpDir (same filesystem):
// create with O_EXCL, write, fsync, rename over path, fsync path's directory.
// A reader sees the old content or the new, never a mix.
func WriteFileAtomic(tmpDir, path string, data []byte) error {
	tmp, err := writeTemp(tmpDir, ".tmp-"+filepath.Base(path)+"-"+randSuffix(), data)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

// mkdirAll creates dir and any missing parents, fsyncing each parent whose
// entries changed, so a new directory tree survives a crash.
func mkdirAll(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := mkdirAll(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return syncDir(parent)
}

// syncAll fsyncs the files of items concurrently: journaling filesystems
// group concurrent fsyncs into one commit, so a batch costs about one.
func syncAll[T any](items []T, file func(T) *os.File) error {
	if len(items) == 1 {
		f := file(items[0])
		if err := f.Sync(); err != nil {
			return fmt.Errorf("sync %s: %w", f.Name(), err)
		}
		return nil
	}
	errs := make([]error, len(items))
	var wg sync.WaitGroup
	for i, it := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := file(it)
			if err := f.Sync(); err != nil {
				errs[i] = fmt.Errorf("sync %s: %w", f.Name(), err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
