//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package gitops

import (
	"io"
	"os"
)

// canMmap tells whether mapFile maps (rather than reads) the file.
const canMmap = false

// mapFile reads the whole file into memory (there is no mmap here).
func mapFile(f *os.File, size int64) (data []byte, unmap func(), err error) {
	data = make([]byte, size)
	if _, err := io.ReadFull(io.NewSectionReader(f, 0, size), data); err != nil {
		return nil, nil, err
	}
	return data, func() {}, nil
}
