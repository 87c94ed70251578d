//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package gitops

import (
	"os"
	"syscall"
)

// canMmap tells whether mapFile maps (rather than reads) the file.
const canMmap = true

// mapFile maps the file read-only into memory. The bytes stay valid until
// unmap is called, even when the file is renamed over or removed meanwhile
// (git replaces the files outbox maps, the index, pack indexes and packs,
// by renaming new files over them, never by writing into them).
func mapFile(f *os.File, size int64) (data []byte, unmap func(), err error) {
	if size == 0 {
		return nil, func() {}, nil
	}
	if int64(int(size)) != size {
		return nil, nil, syscall.EFBIG
	}
	data, err = syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, &os.PathError{Op: "mmap", Path: f.Name(), Err: err}
	}
	return data, func() { syscall.Munmap(data) }, nil
}
