package tasks

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
)

func gitCmd(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=T", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=T", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestResolveRevision checks the resolver against git rev-parse and go-git.
func TestResolveRevision(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	root := t.TempDir()
	gitCmd(t, root, "init", "-q", "-b", "main")
	if _, err := Open(root); err != nil {
		t.Fatal(err)
	}
	if r, _ := Open(root); r != nil {
		if _, err := r.ResolveRevision("HEAD"); err == nil {
			t.Fatal("unborn HEAD resolved")
		}
	}
	write := func(name, content string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		gitCmd(t, root, "add", name)
	}
	write("SPEC.md", "one\n")
	gitCmd(t, root, "commit", "-q", "-m", "c1")
	write("docs/X/tasks.md", "two\n")
	gitCmd(t, root, "commit", "-q", "-m", "c2")
	gitCmd(t, root, "tag", "-a", "-m", "annotated", "v1")
	gitCmd(t, root, "checkout", "-q", "-b", "side")
	write("side.txt", "s\n")
	gitCmd(t, root, "commit", "-q", "-m", "side")
	gitCmd(t, root, "tag", "light")
	gitCmd(t, root, "checkout", "-q", "main")
	write("SPEC.md", "three\n")
	gitCmd(t, root, "commit", "-q", "-m", "c3")
	gitCmd(t, root, "merge", "-q", "--no-ff", "-m", "merge", "side")
	head := gitCmd(t, root, "rev-parse", "HEAD")

	gg, err := git.PlainOpen(root)
	if err != nil {
		t.Fatal(err)
	}
	repo, err := Open(filepath.Join(root, "docs"))
	if err != nil {
		t.Fatal(err)
	}
	revs := []string{"HEAD", "main", "side", "v1", "light", "refs/tags/v1", "refs/heads/side", "heads/main",
		"HEAD~1", "HEAD^", "HEAD^2", "HEAD^1", "HEAD~2", "HEAD^2~1", "v1~1", "main~^", "HEAD^0", "v1^{}", "@~1",
		head, head[:7], head[:4], head[:9]}
	for _, rev := range revs {
		want := gitCmd(t, root, "rev-parse", "--verify", "-q", rev+"^{commit}")
		c, err := repo.ResolveRevision(rev)
		if err != nil {
			t.Errorf("%s: %v", rev, err)
			continue
		}
		if c.Hash.String() != want {
			t.Errorf("%s = %s, want %s", rev, c.Hash, want)
		}
		if !strings.ContainsAny(rev, "{@") {
			if h, err := gg.ResolveRevision(plumbing.Revision(rev)); err == nil && h.String() != want {
				t.Logf("go-git differs on %s", rev)
			}
		}
	}
	for _, rev := range []string{"nope", "HEAD~9", "HEAD^3", "zzzz", head[:3]} {
		if c, err := repo.ResolveRevision(rev); err == nil {
			t.Errorf("%s resolved to %s", rev, c.Hash)
		}
	}

	c, err := repo.ResolveRevision("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	if data, err := repo.ReadFile(c, "docs/X/tasks.md"); err != nil || string(data) != "two\n" {
		t.Errorf("ReadFile = %q, %v", data, err)
	}
	c1, _ := repo.ResolveRevision("HEAD~2")
	if !isAncestor(c1, c) || isAncestor(c, c1) {
		t.Error("isAncestor")
	}
	sideOnly, _ := repo.ResolveRevision("side")
	if !isAncestor(sideOnly, c) {
		t.Error("isAncestor via second parent")
	}

	// Packed objects and refs.
	gitCmd(t, root, "gc", "-q")
	repo, _ = Open(root)
	if c2, err := repo.ResolveRevision("v1"); err != nil || c2.Hash.String() != gitCmd(t, root, "rev-parse", "v1^{commit}") {
		t.Errorf("after gc: v1 = %v, %v", c2, err)
	}
	if c2, err := repo.ResolveRevision(head[:8] + "~1"); err != nil || c2.Hash.String() != gitCmd(t, root, "rev-parse", "HEAD~1") {
		t.Errorf("after gc: prefix = %v, %v", c2, err)
	}

	// A linked worktree: HEAD is its own, objects and refs are shared.
	wt := filepath.Join(t.TempDir(), "wt")
	gitCmd(t, root, "worktree", "add", "-q", "-b", "wtb", wt, "HEAD~1")
	wrepo, err := Open(wt)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := wrepo.ResolveRevision("HEAD"); err != nil || got.Hash.String() != gitCmd(t, wt, "rev-parse", "HEAD") {
		t.Errorf("worktree HEAD = %v, %v", got, err)
	}
	if got, err := wrepo.ResolveRevision("side"); err != nil || got.Hash.String() != gitCmd(t, root, "rev-parse", "side") {
		t.Errorf("worktree side = %v, %v", got, err)
	}
	if markerPath(wrepo) != filepath.Join(gitCmd(t, wt, "rev-parse", "--absolute-git-dir"), MarkerFile) {
		t.Errorf("worktree marker = %s", markerPath(wrepo))
	}
	if _, err := Open(t.TempDir()); err == nil {
		t.Error("Open outside a repository succeeded")
	}
}
