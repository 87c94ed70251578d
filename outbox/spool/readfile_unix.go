//go:build unix

package spool

import (
	"io/fs"
	"syscall"
)

// readFileInto reads the file at p, appending to buf, with plain system
// calls: open, read until EOF, close. A delivery is read on every attempt,
// and os.ReadFile costs three more calls (a poller registration that
// fails for regular files, fstat, and a second read for EOF) and an
// os.File with a cleanup. Errors are *fs.PathError, as os.ReadFile's.
//
// With untilShort, the first read that does not fill buf's spare capacity
// ends it (short reports that): a short read of a regular file is its end
// on local file systems, and saves the read that would return EOF. The
// caller must be able to tell a truncated read (see Dir.ReadPath).
func readFileInto(p string, buf []byte, untilShort bool) (data []byte, short bool, err error) {
	var fd int
	for {
		fd, err = syscall.Open(p, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return buf, false, &fs.PathError{Op: "open", Path: p, Err: err}
	}
	defer syscall.Close(fd)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		spare := cap(buf) - len(buf)
		n, err := syscall.Read(fd, buf[len(buf):cap(buf)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return buf, false, &fs.PathError{Op: "read", Path: p, Err: err}
		}
		if n == 0 {
			return buf, false, nil
		}
		buf = buf[:len(buf)+n]
		if untilShort && n < spare {
			return buf, true, nil
		}
	}
}
