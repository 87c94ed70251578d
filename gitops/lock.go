package gitops

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// lockFile is git's lock protocol: <path>.lock created exclusively; the new
// content is written into it and it is renamed over <path> to commit, or
// removed to roll back. A lock file that exists belongs to someone else and
// is never removed by us.
type lockFile struct {
	path string // the file being locked (without .lock)
	f    *os.File
	done bool
}

func acquireLock(target string, timeout time.Duration) (*lockFile, error) {
	name := target + ".lock"
	deadline := time.Now().Add(timeout)
	delay := time.Millisecond
	for {
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if err == nil {
			return &lockFile{path: target, f: f}, nil
		}
		if errors.Is(err, fs.ErrNotExist) {
			// A ref in a directory that does not exist yet.
			if mkErr := os.MkdirAll(filepath.Dir(name), 0o777); mkErr != nil {
				return nil, err
			}
			continue
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%w: %s (waited %v)", ErrLocked, name, timeout)
		}
		// Polling the lock file is git's protocol: there is nothing to wait on.
		time.Sleep(delay)
		if delay < 20*time.Millisecond {
			delay *= 2
		}
	}
}

// commit writes data into the lock file, syncs it when sync is set, and
// renames it over the target.
func (l *lockFile) commit(data []byte, sync bool) error {
	if l.done {
		return errors.New("lock already released")
	}
	if _, err := l.f.Write(data); err != nil {
		return err
	}
	if sync {
		if err := l.f.Sync(); err != nil {
			return err
		}
	}
	return l.finish()
}

// finish closes the lock file, whose content was written into l.f, and
// renames it over the target.
func (l *lockFile) finish() error {
	if l.done {
		return errors.New("lock already released")
	}
	if err := l.f.Close(); err != nil {
		return err
	}
	if err := os.Rename(l.f.Name(), l.path); err != nil {
		return err
	}
	l.done = true
	return nil
}

// rollback removes the lock file unless it was committed; safe to call
// more than once.
func (l *lockFile) rollback() {
	if l == nil || l.done {
		return
	}
	l.done = true
	l.f.Close()
	os.Remove(l.f.Name())
}
