//go:build linux

package deliver

import (
	"os"
	"path/filepath"
	"syscall"
)

// folders renames files between a drain's state folders with renameat(2)
// on descriptors of the folders, opened once: a rename then resolves two
// names, not two paths (a few microseconds a delivery, measured). A folder
// that cannot be opened falls back to rename(2).
type folders struct {
	open map[string]*os.File // folder path (no trailing separator) -> descriptor
}

func newFolders() *folders { return &folders{open: map[string]*os.File{}} }

// fd returns the descriptor of dir, opening it on first use; -1 when it
// cannot be opened.
func (f *folders) fd(dir string) int {
	d, ok := f.open[dir]
	if !ok {
		var err error
		if d, err = os.Open(dir); err != nil {
			d = nil
		}
		f.open[dir] = d
	}
	if d == nil {
		return -1
	}
	return int(d.Fd())
}

// rename moves from to to, which are never folders.
func (f *folders) rename(from, to string) error {
	fromDir, fromName := filepath.Split(from)
	toDir, toName := filepath.Split(to)
	ffd, tfd := f.fd(fromDir), f.fd(toDir)
	if ffd < 0 || tfd < 0 {
		return syscall.Rename(from, to)
	}
	err := syscall.Renameat(ffd, fromName, tfd, toName)
	if err == syscall.ENOENT {
		// A folder removed and made again since it was opened (a
		// descriptor holds the old one): look the paths up again.
		f.forget(fromDir)
		f.forget(toDir)
		err = syscall.Rename(from, to)
	}
	return err
}

func (f *folders) forget(dir string) {
	if d := f.open[dir]; d != nil {
		d.Close()
	}
	delete(f.open, dir)
}

// close closes the descriptors.
func (f *folders) close() {
	for _, d := range f.open {
		if d != nil {
			d.Close()
		}
	}
	clear(f.open)
}
