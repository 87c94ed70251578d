package retention

import (
	"bytes"
	"fmt"
	"io"
)

// viewBufSize is the size of a view's buffer: the most of a ledger that a
// rotation holds in memory at once (but for one long line, see line).
const viewBufSize = 64 << 10

// maxLineRead is the longest line a view reads whole: as long as the
// longest line the package's line scanner (eachLine) reads.
const maxLineRead = 1 << 20

// A view reads a section of a file, its first size bytes, through one
// fixed buffer, so that what a rotation costs in memory does not depend on
// the ledger's size: it searches the section for a byte, reads one line of
// it, and streams a range of it to a writer. The section must not change
// while it is read (a ledger only grows past its end).
type view struct {
	ra   io.ReaderAt
	size int64
	name string // the file's name, for errors
	buf  []byte
}

// newView is a view of the first size bytes of ra, the file called name.
func newView(ra io.ReaderAt, size int64, name string) *view {
	return &view{ra: ra, size: size, name: name, buf: make([]byte, viewBufSize)}
}

// readAt fills b with the bytes at off. A short read (the file shrank) is
// an error.
func (v *view) readAt(b []byte, off int64) error {
	n, err := v.ra.ReadAt(b, off)
	if n == len(b) {
		return nil // io.ReaderAt may return io.EOF with the last bytes
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("read %s: %d bytes at %d: %w", v.name, len(b), off, err)
}

// index returns the offset of the first c in [from, to), or -1.
func (v *view) index(from, to int64, c byte) (int64, error) {
	for from < to {
		b := v.buf[:min(int64(len(v.buf)), to-from)]
		if err := v.readAt(b, from); err != nil {
			return -1, err
		}
		if i := bytes.IndexByte(b, c); i >= 0 {
			return from + int64(i), nil
		}
		from += int64(len(b))
	}
	return -1, nil
}

// lastIndex returns the offset of the last byte in [from, to) that find
// finds, or -1, reading backwards from to. find returns the index of the
// last such byte in a piece of the section, or -1.
func (v *view) lastIndex(from, to int64, find func([]byte) int) (int64, error) {
	for from < to {
		b := v.buf[:min(int64(len(v.buf)), to-from)]
		to -= int64(len(b))
		if err := v.readAt(b, to); err != nil {
			return -1, err
		}
		if i := find(b); i >= 0 {
			return to + int64(i), nil
		}
	}
	return -1, nil
}

// lastIndexByte returns the offset of the last c in [from, to), or -1.
func (v *view) lastIndexByte(from, to int64, c byte) (int64, error) {
	return v.lastIndex(from, to, func(b []byte) int { return bytes.LastIndexByte(b, c) })
}

// line returns the bytes [from, to), a line, valid until the view's next
// use; ok is false, and nothing is read, when the line is longer than
// maxLineRead. A line longer than the view's buffer is read into a buffer
// of its own.
func (v *view) line(from, to int64) (l []byte, ok bool, err error) {
	n := to - from
	switch {
	case n > maxLineRead:
		return nil, false, nil
	case n <= int64(len(v.buf)):
		l = v.buf[:n]
	default:
		l = make([]byte, n)
	}
	if err := v.readAt(l, from); err != nil {
		return nil, false, err
	}
	return l, true, nil
}

// copyTo writes the bytes [from, to) to w, a buffer at a time.
func (v *view) copyTo(w io.Writer, from, to int64) error {
	for from < to {
		b := v.buf[:min(int64(len(v.buf)), to-from)]
		if err := v.readAt(b, from); err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		from += int64(len(b))
	}
	return nil
}
