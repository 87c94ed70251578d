package ledger

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
)

// Append writes entries as lines at the end of the ledger at path, creating
// it if needed. All lines go out in one write under an exclusive flock and
// are fsynced before Append returns, so concurrent appenders never tear or
// interleave lines and an acknowledged line survives a crash.
func Append(path string, entries ...Entry) error {
	if len(entries) == 0 {
		return nil
	}
	now := time.Now()
	var data []byte
	for _, e := range entries {
		var err error
		if data, err = AppendLine(data, e, now); err != nil {
			return err
		}
	}
	return AppendEncoded(path, data)
}

// AppendEncoded writes data, whole lines made by AppendLine, at the end of
// the ledger at path as Append does: in one write under an exclusive flock,
// fsynced before it returns. A caller that batches the lines of many
// changes pays one write and one fsync for all of them.
func AppendEncoded(path string, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	f, err := openLocked(path)
	if err != nil {
		return err
	}
	defer f.Close() // closing drops the flock
	torn, err := endsTorn(f)
	if err != nil {
		return fmt.Errorf("ledger: %s: %w", path, err)
	}
	if torn { // a crash left half a line: start ours on a fresh line
		data = append([]byte{'\n'}, data...)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("ledger: append to %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("ledger: sync %s: %w", path, err)
	}
	return nil
}

// checkSafe refuses free-text fields that carry a URL: the ledger is
// committed and reviewed, and URLs often hold tokens.
func checkSafe(e Entry) error {
	for _, s := range []string{e.Error, e.Reason, e.Response, e.Host} {
		if strings.Contains(s, "://") {
			return fmt.Errorf("%w: %s line for %s", ErrUnsafeField, e.Action, e.Delivery)
		}
	}
	return nil
}

// openLocked opens the ledger for appending and holds an exclusive flock on
// it. If the file was renamed away (rotated) while we waited for the lock,
// it opens the new file instead.
func openLocked(path string) (*os.File, error) {
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("ledger: open %s: %w", path, err)
		}
		if err := flock(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("ledger: lock %s: %w", path, err)
		}
		held, err1 := f.Stat()
		named, err2 := os.Stat(path)
		if err1 == nil && err2 == nil && os.SameFile(held, named) {
			return f, nil
		}
		f.Close()
	}
}

func flock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			return err
		}
	}
}

// endsTorn reports whether the file is non-empty and its last byte is not a
// newline.
func endsTorn(f *os.File) (bool, error) {
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return false, err
	}
	var b [1]byte
	if _, err := f.ReadAt(b[:], st.Size()-1); err != nil {
		return false, err
	}
	return b[0] != '\n', nil
}
