package gitops

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Sentinel errors.
var (
	ErrNoRepository = errors.New("not inside a git repository")
	ErrBadGitFile   = errors.New("malformed .git file")
)

// Discover returns the root of the working tree that contains dir: the
// nearest ancestor (or dir itself) holding a .git directory or a .git file
// (linked worktrees and submodules).
func Discover(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := abs; ; {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("%w: %s (or any parent)", ErrNoRepository, abs)
		}
		d = parent
	}
}

// GitDir returns the git directory of the working tree at root, following a
// .git file ("gitdir: <path>") when there is one.
func GitDir(root string) (string, error) {
	p := filepath.Join(root, ".git")
	st, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("%w: %s", ErrNoRepository, root)
	}
	if st.IsDir() {
		return p, nil
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return "", err
	}
	dir, ok := strings.CutPrefix(strings.TrimSpace(string(data)), "gitdir:")
	if !ok {
		return "", fmt.Errorf("%w: %s", ErrBadGitFile, p)
	}
	dir = strings.TrimSpace(dir)
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(root, dir)
	}
	return dir, nil
}

// Branch returns the short name of the branch checked out in the working
// tree at root ("main"), or "" when HEAD is detached or unreadable.
func Branch(root string) string {
	_, head := readHeadFile(root)
	ref, ok := strings.CutPrefix(head, "ref:")
	if !ok {
		return ""
	}
	return strings.TrimPrefix(strings.TrimSpace(ref), "refs/heads/")
}

// readHeadFile returns the git directory of the working tree at root and
// its HEAD file's content, trimmed; "" for both when either is unreadable.
func readHeadFile(root string) (gitDir, head string) {
	gd, err := GitDir(root)
	if err != nil {
		return "", ""
	}
	data, err := os.ReadFile(filepath.Join(gd, "HEAD"))
	if err != nil {
		return "", ""
	}
	return gd, strings.TrimSpace(string(data))
}
