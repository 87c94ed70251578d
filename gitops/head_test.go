package gitops

import (
	"strings"
	"testing"
)

func TestHeadCommit(t *testing.T) {
	root := newRepo(t)
	if got := HeadCommit(root); got != "" {
		t.Fatalf("unborn branch: HeadCommit = %q, want \"\"", got)
	}
	write(t, root, "a.txt", "a\n")
	gitT(t, root, "add", "a.txt")
	gitT(t, root, "commit", "-q", "-m", "one")
	rev := func() string { return strings.TrimSpace(gitT(t, root, "rev-parse", "HEAD")) }

	steps := []struct {
		name string
		do   func()
	}{
		{"loose ref", func() {}},
		{"packed ref", func() { gitT(t, root, "pack-refs", "--all") }},
		{"detached", func() { gitT(t, root, "checkout", "-q", "--detach") }},
	}
	for _, s := range steps {
		s.do()
		if got, want := HeadCommit(root), rev(); got != want {
			t.Errorf("%s: HeadCommit = %q, want %q", s.name, got, want)
		}
	}
	if got := HeadCommit(t.TempDir()); got != "" {
		t.Errorf("outside a repository: HeadCommit = %q, want \"\"", got)
	}
}
