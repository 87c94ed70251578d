package gitops

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
)

// HeadCommit returns the hash of the commit checked out in the working tree
// at root, or "" when there is none yet (an unborn branch) or it cannot be
// read. It reads HEAD, the loose ref and packed-refs directly: no object is
// opened, so it costs the same in any repository size.
func HeadCommit(root string) string {
	gd, head := readHeadFile(root)
	ref, ok := strings.CutPrefix(head, "ref:")
	if !ok {
		return hashOrEmpty(head)
	}
	ref = strings.TrimSpace(ref)
	if !validRefName(ref) {
		return ""
	}
	common := CommonGitDir(gd)
	if data, err := os.ReadFile(filepath.Join(common, filepath.FromSlash(ref))); err == nil {
		return hashOrEmpty(strings.TrimSpace(string(data)))
	}
	f, err := os.Open(filepath.Join(common, "packed-refs"))
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Bytes()
		if h, name, ok := bytes.Cut(line, []byte{' '}); ok && string(name) == ref {
			return hashOrEmpty(string(h))
		}
	}
	return ""
}

// hashOrEmpty returns s when it is a full lower-case hex object name.
func hashOrEmpty(s string) string {
	if len(s) != 40 && len(s) != 64 {
		return ""
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return ""
		}
	}
	return s
}
