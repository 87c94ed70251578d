//go:build !linux

package deliver

import "os"

// folders renames files between a drain's state folders (rename_linux.go
// uses descriptors of the folders).
type folders struct{}

func newFolders() *folders { return &folders{} }

// rename moves from to to, which are never folders.
func (f *folders) rename(from, to string) error { return os.Rename(from, to) }

func (f *folders) close() {}
