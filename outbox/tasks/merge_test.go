package tasks

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMergedBranchCreditsTheMerge: a row completed on a feature branch and
// merged with a merge commit is credited to the merge (the commit that
// brought it to the branch outbox watches); a fast-forward credits the
// branch's own commit.
func TestMergedBranchCreditsTheMerge(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	root := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=T", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=T", "GIT_COMMITTER_EMAIL=t@example.com")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		git("add", name)
	}
	git("init", "-q", "-b", "main")
	write("SPEC.md", specMD("Backlog", "Backlog"))
	git("commit", "-q", "-m", "tracker")
	base := git("rev-parse", "HEAD")

	// T60 is completed on a feature branch while main moves on.
	git("checkout", "-q", "-b", "feat")
	write("SPEC.md", specMD("Done", "Backlog"))
	git("commit", "-q", "-m", "T60 done")
	onBranch := git("rev-parse", "HEAD")
	git("checkout", "-q", "main")
	write("notes.md", "other work\n")
	git("commit", "-q", "-m", "other work")
	git("merge", "-q", "--no-ff", "-m", "merge feat", "feat")
	merge := git("rev-parse", "HEAD")

	// T61 is completed on a branch that fast-forwards.
	git("checkout", "-q", "-b", "ff")
	write("SPEC.md", specMD("Done", "Done"))
	git("commit", "-q", "-m", "T61 done")
	ffCommit := git("rev-parse", "HEAD")
	git("checkout", "-q", "main")
	git("merge", "-q", "--ff-only", "ff")

	r := &testRepo{t: t, root: root}
	em := r.emitter(testConfig)
	names := map[string]string{merge: "merge", onBranch: "branch", ffCommit: "ff"}
	rep := r.run(em, Options{From: base, To: "HEAD"})
	check(t, "base..HEAD", rep.Completed, names,
		"SPEC-KIT-060-rotation T60 @merge SPEC.md new",
		"SPEC-KIT-060-rotation T61 @ff SPEC.md new")

	// Idempotent: the same range again finds the same commits and keys.
	rep = r.run(em, Options{From: base, To: "HEAD"})
	check(t, "again", rep.Completed, names,
		"SPEC-KIT-060-rotation T60 @merge SPEC.md dup",
		"SPEC-KIT-060-rotation T61 @ff SPEC.md dup")
}
