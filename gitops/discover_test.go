package gitops

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
)

func TestDiscoverAndBranchWithGoGit(t *testing.T) {
	root := t.TempDir()
	repo, err := git.PlainInit(root, false)
	if err != nil {
		t.Fatal(err)
	}
	// Point HEAD at an unborn branch with a slash in its name.
	ref := plumbing.NewSymbolicReference(plumbing.HEAD, "refs/heads/feat/spec-auto-telemetry")
	if err := repo.Storer.SetReference(ref); err != nil {
		t.Fatal(err)
	}
	deep := filepath.Join(root, "docs", "a", "b")
	os.MkdirAll(deep, 0o755)
	got, err := Discover(deep)
	if err != nil || got != root {
		t.Fatalf("Discover = %q, %v; want %q", got, err, root)
	}
	if b := Branch(root); b != "feat/spec-auto-telemetry" {
		t.Fatalf("Branch = %q", b)
	}
}

func TestDiscoverOutsideRepository(t *testing.T) {
	_, err := Discover(t.TempDir())
	if !errors.Is(err, ErrNoRepository) {
		t.Fatalf("err = %v, want ErrNoRepository", err)
	}
}

// TestLinkedWorktree checks the .git file of `git worktree add` with what the
// git CLI itself reports.
func TestLinkedWorktree(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git CLI not installed")
	}
	main := t.TempDir()
	run := func(dir string, args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	run(main, "init", "-q", "-b", "main")
	run(main, "commit", "-q", "--allow-empty", "-m", "init")
	wt := filepath.Join(t.TempDir(), "wt")
	run(main, "worktree", "add", "-q", "-b", "side", wt)
	got, err := Discover(filepath.Join(wt))
	if err != nil || got != wt {
		t.Fatalf("Discover = %q, %v; want %q", got, err, wt)
	}
	if b := Branch(wt); b != "side" {
		t.Fatalf("Branch(worktree) = %q, want side", b)
	}
	if b := Branch(main); b != "main" {
		t.Fatalf("Branch(main) = %q, want main", b)
	}
}
