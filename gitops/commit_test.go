package gitops

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const hookDir = "docs/specs/SPEC-KIT-065/webhooks"

func gitEnv() []string {
	return append(os.Environ(),
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com",
	)
}

func runGit(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = gitEnv()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func gitT(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := runGit(dir, args...)
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func newRepo(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	t.Setenv("GIT_CONFIG_GLOBAL", "/dev/null")
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	root := t.TempDir()
	gitT(t, root, "init", "-q", "-b", "main")
	return root
}

func write(t *testing.T, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

func opts(msg string) CommitOptions {
	return CommitOptions{Paths: []string{hookDir}, Exclude: ExcludeScratch, Message: msg,
		Now: time.Unix(1700000000, 0).UTC(), LockTimeout: 300 * time.Millisecond}
}

func fsck(t *testing.T, root string) {
	t.Helper()
	if out := gitT(t, root, "fsck", "--full", "--strict", "--no-dangling"); strings.TrimSpace(out) != "" {
		t.Fatalf("fsck: %s", out)
	}
}

func statusFor(t *testing.T, root, path string) string {
	t.Helper()
	return strings.TrimSpace(gitT(t, root, "status", "--porcelain", "--untracked-files=all", "--", path))
}

func TestCommitUnbornThenChanges(t *testing.T) {
	root := newRepo(t)
	write(t, root, hookDir+"/spool/a.json", "a\n")
	write(t, root, hookDir+"/spool/b.json", "b\n")
	write(t, root, hookDir+"/ledger.jsonl", "1\n")
	write(t, root, hookDir+"/.gitignore", "tmp/\n.lock\n*.lock\n")
	write(t, root, hookDir+"/tmp/half.json", "x")
	write(t, root, hookDir+"/.lock", "")
	write(t, root, hookDir+"/.deliver.lock", "")

	res, err := Commit(root, opts("outbox(SPEC-KIT-065): 2 emitted"))
	if err != nil {
		t.Fatal(err)
	}
	if res.NoChange || res.Branch != "main" || res.Files != 4 || len(res.Hash) != 40 {
		t.Fatalf("first commit: %+v", res)
	}
	if got := strings.TrimSpace(gitT(t, root, "rev-parse", "HEAD")); got != res.Hash {
		t.Fatalf("HEAD %s, want %s", got, res.Hash)
	}
	files := lines(gitT(t, root, "show", "--name-status", "--format=", "HEAD"))
	want := []string{"A\t" + hookDir + "/.gitignore", "A\t" + hookDir + "/ledger.jsonl",
		"A\t" + hookDir + "/spool/a.json", "A\t" + hookDir + "/spool/b.json"}
	if !slices.Equal(files, want) {
		t.Fatalf("first commit files %q, want %q", files, want)
	}
	if s := statusFor(t, root, hookDir); s != "" {
		t.Fatalf("status after first commit: %s", s)
	}
	if msg := strings.TrimSpace(gitT(t, root, "log", "-1", "--format=%s|%an|%ae")); msg != "outbox(SPEC-KIT-065): 2 emitted|outbox|outbox@localhost" {
		t.Fatalf("log: %s", msg)
	}
	fsck(t, root)

	// Add, change, delete, move into a new subdirectory.
	os.Remove(filepath.Join(root, hookDir, "spool/a.json"))
	write(t, root, hookDir+"/sent/a.json", "a\n")
	write(t, root, hookDir+"/ledger.jsonl", "1\n2\n")
	write(t, root, hookDir+"/dead/c.json", "c\n")
	res, err = Commit(root, opts("outbox(SPEC-KIT-065): 1 delivered, 1 dead"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != 4 {
		t.Fatalf("second commit: %+v", res)
	}
	files = lines(gitT(t, root, "show", "--name-status", "--no-renames", "--format=", "HEAD"))
	want = []string{"A\t" + hookDir + "/dead/c.json", "M\t" + hookDir + "/ledger.jsonl",
		"A\t" + hookDir + "/sent/a.json", "D\t" + hookDir + "/spool/a.json"}
	if !slices.Equal(files, want) {
		t.Fatalf("second commit files %q, want %q", files, want)
	}
	if s := statusFor(t, root, hookDir); s != "?? "+hookDir+"/.deliver.lock\n?? "+hookDir+"/.lock\n?? "+hookDir+"/tmp/half.json" && s != "" {
		// Excluded files are untracked (the repository's .gitignore decides
		// whether status lists them); nothing else may show.
		for _, l := range lines(s) {
			if !strings.HasPrefix(l, "?? ") {
				t.Fatalf("status after second commit: %s", s)
			}
		}
	}
	if n := strings.TrimSpace(gitT(t, root, "rev-list", "--count", "HEAD")); n != "2" {
		t.Fatalf("rev-list count %s", n)
	}
	tracked := gitT(t, root, "ls-files")
	if strings.Contains(tracked, "tmp/") || strings.Contains(tracked, ".lock") {
		t.Fatalf("excluded files tracked: %s", tracked)
	}
	fsck(t, root)

	// Nothing changed: no commit.
	res, err = Commit(root, opts("again"))
	if err != nil || !res.NoChange || res.Hash != "" {
		t.Fatalf("no-change commit: %+v, %v", res, err)
	}
	if n := strings.TrimSpace(gitT(t, root, "rev-list", "--count", "HEAD")); n != "2" {
		t.Fatalf("rev-list count %s after no-change", n)
	}
	// Everything deleted: the directory leaves the tree.
	os.RemoveAll(filepath.Join(root, "docs"))
	res, err = Commit(root, opts("gc"))
	if err != nil || res.Files != 5 {
		t.Fatalf("delete-all commit: %+v, %v", res, err)
	}
	if out := gitT(t, root, "ls-tree", "-r", "HEAD"); out != "" {
		t.Fatalf("tree not empty: %s", out)
	}
	if s := statusFor(t, root, "."); s != "" {
		t.Fatalf("status: %s", s)
	}
	fsck(t, root)
}

func TestCommitLeavesOtherChangesAlone(t *testing.T) {
	root := newRepo(t)
	write(t, root, "README.md", "readme\n")
	write(t, root, "src/main.go", "package main\n")
	write(t, root, "docs/specs/SPEC-KIT-065/spec.md", "spec\n")
	write(t, root, hookDir+"/ledger.jsonl", "0\n")
	gitT(t, root, "add", "-A")
	gitT(t, root, "commit", "-q", "-m", "init")

	write(t, root, "README.md", "readme staged\n")
	gitT(t, root, "add", "README.md")
	write(t, root, "src/main.go", "package main // unstaged\n")
	write(t, root, "docs/specs/SPEC-KIT-065/spec.md", "spec staged\n")
	gitT(t, root, "add", "docs/specs/SPEC-KIT-065/spec.md")
	write(t, root, "docs/specs/SPEC-KIT-065/spec.md", "spec staged then edited\n")
	write(t, root, "notes.txt", "untracked\n")
	write(t, root, hookDir+"/ledger.jsonl", "0\n1\n")
	write(t, root, hookDir+"/spool/x.json", "x\n")
	before := map[string]string{}
	for _, f := range []string{"README.md", "src/main.go", "docs/specs/SPEC-KIT-065/spec.md", "notes.txt"} {
		b, _ := os.ReadFile(filepath.Join(root, f))
		before[f] = string(b)
	}
	stagedSpec := gitT(t, root, "show", ":docs/specs/SPEC-KIT-065/spec.md")

	res, err := Commit(root, opts("outbox(SPEC-KIT-065): 1 emitted"))
	if err != nil {
		t.Fatal(err)
	}
	files := lines(gitT(t, root, "show", "--name-only", "--format=", res.Hash))
	if !slices.Equal(files, []string{hookDir + "/ledger.jsonl", hookDir + "/spool/x.json"}) {
		t.Fatalf("commit files %q", files)
	}
	if got := lines(gitT(t, root, "diff", "--cached", "--name-only")); !slices.Equal(got, []string{"README.md", "docs/specs/SPEC-KIT-065/spec.md"}) {
		t.Fatalf("staged after commit: %q", got)
	}
	if got := lines(gitT(t, root, "diff", "--name-only")); !slices.Equal(got, []string{"docs/specs/SPEC-KIT-065/spec.md", "src/main.go"}) {
		t.Fatalf("unstaged after commit: %q", got)
	}
	if got := gitT(t, root, "show", ":docs/specs/SPEC-KIT-065/spec.md"); got != stagedSpec {
		t.Fatalf("staged content changed: %q", got)
	}
	if got := lines(gitT(t, root, "ls-files", "--others", "--exclude-standard")); !slices.Equal(got, []string{"notes.txt"}) {
		t.Fatalf("untracked: %q", got)
	}
	for f, want := range before {
		b, _ := os.ReadFile(filepath.Join(root, f))
		if string(b) != want {
			t.Fatalf("%s changed on disk", f)
		}
	}
	if s := statusFor(t, root, hookDir); s != "" {
		t.Fatalf("status for hooks: %s", s)
	}
	// The user's own commit afterwards still holds exactly their staging.
	gitT(t, root, "commit", "-q", "-m", "user")
	if got := lines(gitT(t, root, "show", "--name-only", "--format=", "HEAD")); !slices.Equal(got, []string{"README.md", "docs/specs/SPEC-KIT-065/spec.md"}) {
		t.Fatalf("user's commit: %q", got)
	}
	fsck(t, root)
}

func TestCommitIndexVersionsAndFlags(t *testing.T) {
	for _, v := range []string{"2", "3", "4"} {
		t.Run("v"+v, func(t *testing.T) {
			root := newRepo(t)
			for i := 0; i < 20; i++ {
				write(t, root, fmt.Sprintf("a/f%02d.txt", i), "x\n")
				write(t, root, fmt.Sprintf("docs/specs/SPEC-KIT-065/z%02d.txt", i), "z\n")
				write(t, root, fmt.Sprintf("%s/sent/s%02d.json", hookDir, i), "s\n")
			}
			write(t, root, "docs/specs/SPEC-KIT-065/webhooks-other/x", "x\n")
			gitT(t, root, "add", "-A")
			gitT(t, root, "commit", "-q", "-m", "init")
			gitT(t, root, "update-index", "--index-version", v)
			gitT(t, root, "update-index", "--assume-unchanged", "a/f03.txt")
			if v != "2" {
				gitT(t, root, "update-index", "--skip-worktree", "a/f04.txt")
			}
			gitT(t, root, "status", "--porcelain") // writes cache tree / untracked data
			os.Remove(filepath.Join(root, hookDir, "sent/s05.json"))
			write(t, root, hookDir+"/sent/s99.json", "new\n")
			write(t, root, hookDir+"/ledger.jsonl", "l\n")
			if _, err := Commit(root, opts("c")); err != nil {
				t.Fatal(err)
			}
			if s := statusFor(t, root, "."); s != "" {
				t.Fatalf("status: %s", s)
			}
			flags := gitT(t, root, "ls-files", "-v", "a/f03.txt", "a/f04.txt")
			if !strings.Contains(flags, "h a/f03.txt") || (v != "2" && !strings.Contains(flags, "S a/f04.txt")) {
				t.Fatalf("index flags lost: %q", flags)
			}
			raw, _ := os.ReadFile(filepath.Join(root, ".git", "index"))
			if !strings.Contains(string(raw), "TREE") {
				t.Fatal("cache tree dropped instead of invalidated")
			}
			if got := strconv.Itoa(int(raw[7])); v == "2" && got != "2" && got != "3" || v != "2" && got != v {
				t.Fatalf("index version %s", got)
			}
			if n := len(lines(gitT(t, root, "ls-files"))); n != 62 {
				t.Fatalf("ls-files: %d entries", n)
			}
			// git can rebuild its cache tree and commit on top.
			write(t, root, "a/f00.txt", "changed\n")
			gitT(t, root, "commit", "-q", "-am", "user")
			fsck(t, root)
			if got := lines(gitT(t, root, "show", "--name-only", "--format=", "HEAD")); !slices.Equal(got, []string{"a/f00.txt"}) {
				t.Fatalf("user's commit: %q", got)
			}
		})
	}
}

func TestCommitRefusals(t *testing.T) {
	root := newRepo(t)
	write(t, root, hookDir+"/ledger.jsonl", "0\n")
	if _, err := Commit(root, opts("first")); err != nil {
		t.Fatal(err)
	}
	head := strings.TrimSpace(gitT(t, root, "rev-parse", "HEAD"))
	write(t, root, hookDir+"/ledger.jsonl", "0\n1\n")

	// Detached HEAD.
	gitT(t, root, "checkout", "-q", "--detach")
	if _, err := Commit(root, opts("x")); !errors.Is(err, ErrDetached) {
		t.Fatalf("detached: %v", err)
	}
	o := opts("detached")
	o.AllowDetached = true
	res, err := Commit(root, o)
	if err != nil || res.Branch != "" {
		t.Fatalf("allow detached: %+v %v", res, err)
	}
	if got := strings.TrimSpace(gitT(t, root, "rev-parse", "HEAD")); got != res.Hash {
		t.Fatalf("detached HEAD %s, want %s", got, res.Hash)
	}
	if got := strings.TrimSpace(gitT(t, root, "rev-parse", "main")); got != head {
		t.Fatalf("main moved: %s", got)
	}
	gitT(t, root, "checkout", "-q", "main")
	write(t, root, hookDir+"/ledger.jsonl", "0\n1\n2\n")

	// Merge in progress.
	os.WriteFile(filepath.Join(root, ".git", "MERGE_HEAD"), []byte(head+"\n"), 0o644)
	if _, err := Commit(root, opts("x")); !errors.Is(err, ErrInProgress) {
		t.Fatalf("merge: %v", err)
	}
	os.Remove(filepath.Join(root, ".git", "MERGE_HEAD"))
	os.MkdirAll(filepath.Join(root, ".git", "rebase-merge"), 0o755)
	if _, err := Commit(root, opts("x")); !errors.Is(err, ErrInProgress) {
		t.Fatalf("rebase: %v", err)
	}
	os.RemoveAll(filepath.Join(root, ".git", "rebase-merge"))

	// index.lock held by another git for longer than we wait.
	lock := filepath.Join(root, ".git", "index.lock")
	os.WriteFile(lock, nil, 0o644)
	if _, err := Commit(root, opts("x")); !errors.Is(err, ErrLocked) {
		t.Fatalf("locked: %v", err)
	}
	if _, err := os.Stat(lock); err != nil {
		t.Fatalf("someone else's lock removed: %v", err)
	}
	os.Remove(lock)
	// Branch ref lock held.
	refLock := filepath.Join(root, ".git", "refs", "heads", "main.lock")
	os.WriteFile(refLock, nil, 0o644)
	if _, err := Commit(root, opts("x")); !errors.Is(err, ErrLocked) {
		t.Fatalf("ref locked: %v", err)
	}
	if _, err := os.Stat(refLock); err != nil {
		t.Fatalf("someone else's ref lock removed: %v", err)
	}
	os.Remove(refLock)
	if _, err := os.Stat(lock); err == nil {
		t.Fatal("our index.lock left behind")
	}
	if got := strings.TrimSpace(gitT(t, root, "rev-parse", "main")); got != head {
		t.Fatalf("refusals committed: %s", got)
	}
	// Split index: a required extension.
	gitT(t, root, "update-index", "--split-index")
	if _, err := Commit(root, opts("x")); !errors.Is(err, ErrIndexUnsupported) {
		t.Fatalf("split index: %v", err)
	}
	gitT(t, root, "update-index", "--no-split-index")
	// Finally it works, and the spool work was never touched.
	res, err = Commit(root, opts("after"))
	if err != nil || res.Files != 1 {
		t.Fatalf("after refusals: %+v %v", res, err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, hookDir, "ledger.jsonl")); string(b) != "0\n1\n2\n" {
		t.Fatalf("ledger: %q", b)
	}
	if _, err := os.Stat(lock); err == nil {
		t.Fatal("index.lock left behind")
	}
	fsck(t, root)
}

func TestCommitIdentity(t *testing.T) {
	root := newRepo(t)
	gitT(t, root, "config", "user.name", "Repo User")
	gitT(t, root, "config", "user.email", "repo@example.com")
	for _, k := range []string{"GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"} {
		t.Setenv(k, "")
	}
	write(t, root, hookDir+"/a", "a")
	if _, err := Commit(root, opts("a")); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(gitT(t, root, "log", "-1", "--format=%an <%ae> %cn <%ce>")); got != "Repo User <repo@example.com> Repo User <repo@example.com>" {
		t.Fatalf("git config identity: %s", got)
	}
	write(t, root, hookDir+"/b", "b")
	o := opts("b")
	o.Author = &Identity{Name: "Bot", Email: "bot@example.com"}
	if _, err := Commit(root, o); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(gitT(t, root, "log", "-1", "--format=%an <%ae> %cn <%ce>")); got != "Bot <bot@example.com> Bot <bot@example.com>" {
		t.Fatalf("configured identity: %s", got)
	}
}

func TestCommitPackedRefAndWorktree(t *testing.T) {
	root := newRepo(t)
	write(t, root, "README.md", "r\n")
	gitT(t, root, "add", "-A")
	gitT(t, root, "commit", "-q", "-m", "init")
	gitT(t, root, "pack-refs", "--all")
	if _, err := os.Stat(filepath.Join(root, ".git", "refs", "heads", "main")); err == nil {
		t.Fatal("ref not packed")
	}
	write(t, root, hookDir+"/a", "a")
	res, err := Commit(root, opts("packed"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(gitT(t, root, "rev-parse", "main~1")); got == res.Hash {
		t.Fatal("parent wrong")
	}
	// A linked worktree on another branch.
	wt := filepath.Join(t.TempDir(), "wt")
	gitT(t, root, "worktree", "add", "-q", "-b", "side", wt)
	write(t, wt, hookDir+"/b", "b")
	res, err = Commit(wt, opts("side"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Branch != "side" || strings.TrimSpace(gitT(t, root, "rev-parse", "side")) != res.Hash {
		t.Fatalf("worktree commit: %+v", res)
	}
	if s := statusFor(t, wt, "."); s != "" {
		t.Fatalf("worktree status: %s", s)
	}
	if s := statusFor(t, root, "."); s != "" {
		t.Fatalf("main worktree status: %s", s)
	}
	if got := lines(gitT(t, root, "reflog", "--format=%gs", "side")); len(got) == 0 || got[0] != "commit: side" {
		t.Fatalf("reflog: %q", got)
	}
	fsck(t, root)
}

// TestCommitConcurrentWithGit runs a git commit loop beside outbox commits:
// no commit of either side may be lost.
func TestCommitConcurrentWithGit(t *testing.T) {
	root := newRepo(t)
	write(t, root, "README.md", "r\n")
	gitT(t, root, "add", "-A")
	gitT(t, root, "commit", "-q", "-m", "init")
	const n = 30
	var wg sync.WaitGroup
	gitErr := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < n; {
			out, err := runGit(root, "commit", "-q", "--allow-empty", "-m", "user "+strconv.Itoa(i))
			if err != nil {
				if strings.Contains(out, ".lock") || strings.Contains(out, "cannot lock ref") {
					// index.lock or the ref lock held by outbox, or the branch
					// moved under git's own compare-and-swap: git refuses
					// rather than losing a commit; retry, as a user would.
					continue
				}
				gitErr <- fmt.Errorf("git commit: %v\n%s", err, out)
				return
			}
			i++
		}
	}()
	for i := 0; i < n; i++ {
		write(t, root, hookDir+"/ledger.jsonl", strings.Repeat("x\n", i+1))
		o := opts("outbox " + strconv.Itoa(i))
		o.LockTimeout = 10 * time.Second
		res, err := Commit(root, o)
		if err != nil || res.NoChange {
			t.Fatalf("outbox commit %d: %+v %v", i, res, err)
		}
	}
	wg.Wait()
	select {
	case err := <-gitErr:
		t.Fatal(err)
	default:
	}
	if got := strings.TrimSpace(gitT(t, root, "rev-list", "--count", "HEAD")); got != strconv.Itoa(2*n+1) {
		t.Fatalf("rev-list count %s, want %d", got, 2*n+1)
	}
	subjects := gitT(t, root, "log", "--format=%s")
	for i := 0; i < n; i++ {
		if !strings.Contains(subjects, "outbox "+strconv.Itoa(i)+"\n") || !strings.Contains(subjects, "user "+strconv.Itoa(i)+"\n") {
			t.Fatalf("commit %d lost:\n%s", i, subjects)
		}
	}
	if s := statusFor(t, root, "."); s != "" {
		t.Fatalf("status: %s", s)
	}
	fsck(t, root)
}
