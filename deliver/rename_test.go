package deliver

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// folders renames between folders, and still does when a folder was
// removed and made again after it was first used.
func TestFoldersRename(t *testing.T) {
	root := t.TempDir()
	a, b := filepath.Join(root, "spool"), filepath.Join(root, "sent")
	for _, d := range []string{a, b} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p string) {
		t.Helper()
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	exists := func(p string) bool { _, err := os.Lstat(p); return err == nil }
	f := newFolders()
	defer f.close()

	write(filepath.Join(a, "1.yaml"))
	if err := f.rename(filepath.Join(a, "1.yaml"), filepath.Join(b, "1.yaml")); err != nil {
		t.Fatal(err)
	}
	if exists(filepath.Join(a, "1.yaml")) || !exists(filepath.Join(b, "1.yaml")) {
		t.Fatal("1.yaml was not moved")
	}

	// sent/ removed and made again: the file lands in the new one.
	if err := os.RemoveAll(b); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(b, 0o755); err != nil {
		t.Fatal(err)
	}
	write(filepath.Join(a, "2.yaml"))
	if err := f.rename(filepath.Join(a, "2.yaml"), filepath.Join(b, "2.yaml")); err != nil {
		t.Fatal(err)
	}
	if !exists(filepath.Join(b, "2.yaml")) {
		t.Fatal("2.yaml is not in the new sent/")
	}

	// A missing source is an error that says so.
	err := f.rename(filepath.Join(a, "gone.yaml"), filepath.Join(b, "gone.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("rename of a missing file: %v, want not-exist", err)
	}
}
