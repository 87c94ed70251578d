// Package durable holds the one fsync helper that every package writing
// state uses: a rename, create or remove in a directory survives a crash
// only once the directory itself is fsynced. It never writes data itself.
package durable

import (
	"fmt"
	"os"
)

// SyncDir fsyncs the directory dir.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
