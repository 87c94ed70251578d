package tasks

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/spec-kit/outbox/internal/schematest"
	"github.com/spec-kit/outbox/ledger"
	"github.com/spec-kit/outbox/outbox"
	"github.com/spec-kit/outbox/outbox/config"
	"github.com/spec-kit/outbox/outbox/spool"
)

const testConfig = `[spec_ops.webhooks]
enabled = true
kick = false
spool_dir = "hooks/{spec_id}"

[[spec_ops.webhooks.subscriptions]]
id = "ops"
url = "https://hooks.example.com/speckit"
secret_env = "SPECKIT_WEBHOOK_SECRET"
`

// testRepo is a real repository in a temporary directory, built with go-git.
type testRepo struct {
	t    *testing.T
	root string
	repo *git.Repository
	n    int
}

func newTestRepo(t *testing.T) *testRepo {
	t.Helper()
	root := t.TempDir()
	repo, err := git.PlainInit(root, false)
	if err != nil {
		t.Fatal(err)
	}
	return &testRepo{t: t, root: root, repo: repo}
}

// commit writes files (path -> content) and commits them; it returns the hash.
func (r *testRepo) commit(files map[string]string) string {
	r.t.Helper()
	wt, err := r.repo.Worktree()
	if err != nil {
		r.t.Fatal(err)
	}
	for p, content := range files {
		abs := filepath.Join(r.root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(abs, []byte(content), 0o644); err != nil {
			r.t.Fatal(err)
		}
		if _, err := wt.Add(p); err != nil {
			r.t.Fatal(err)
		}
	}
	r.n++
	sig := &object.Signature{Name: "T", Email: "t@example.com", When: time.Date(2026, 11, 20, 10, r.n, 0, 0, time.UTC)}
	h, err := wt.Commit("commit", &git.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		r.t.Fatal(err)
	}
	return h.String()
}

func (r *testRepo) emitter(cfgText string) *outbox.Emitter {
	r.t.Helper()
	cfg, err := config.Parse("config.toml", []byte(cfgText))
	if err != nil {
		r.t.Fatal(err)
	}
	return &outbox.Emitter{Config: cfg, RepoRoot: r.root, Getenv: func(string) string { return "" }}
}

func (r *testRepo) run(em *outbox.Emitter, opts Options) *Report {
	r.t.Helper()
	rep, err := Run(em, opts)
	if err != nil {
		r.t.Fatalf("Run(%+v): %v", opts, err)
	}
	return rep
}

func specMD(t60, t61 string) string {
	return `# Tracker

| Order | Task ID | Title | Status | Owners | PRD | Branch | PR | Last Validation | Evidence | Notes |
|-------|---------|-------|--------|--------|-----|--------|----|-----------------|----------|-------|
| 1 | T60 | Evidence archive rotation | ` + t60 + ` | Code | docs/SPEC-KIT-060-rotation/spec.md | feat/rotation | | | | |
| 2 | T61 | Telemetry lint | ` + t61 + ` | Code | | | | | docs/SPEC-OPS-004-hooks/evidence/commands/SPEC-KIT-060-rotation/ | |
| 3 | T63 | Runbook | Backlog | Ops | | | | | | No SPEC yet. |
`
}

const tasksPath = "docs/SPEC-KIT-070-hooks/tasks.md"

func tasksMD(rows ...string) string {
	return "# Tasks: SPEC-KIT-070-hooks\n\n| Order | Task ID | Title | Status | Owners | Validation | Notes |\n|---|---|---|---|---|---|---|\n" +
		strings.Join(rows, "\n") + "\n"
}

// got renders completions as "SPEC TASK @commit source dup|new".
func got(cs []Completion, names map[string]string) []string {
	var out []string
	for _, c := range cs {
		state := "new"
		if c.Duplicate {
			state = "dup"
		} else if len(c.DeliveryIDs) == 0 {
			state = "none"
		}
		commit := c.Commit
		if n, ok := names[commit]; ok {
			commit = n
		}
		out = append(out, c.Spec+" "+c.TaskID+" @"+commit+" "+c.Source+" "+state)
	}
	return out
}

func check(t *testing.T, what string, cs []Completion, names map[string]string, want ...string) {
	t.Helper()
	g := got(cs, names)
	if !slices.Equal(g, want) {
		t.Errorf("%s:\ngot  %q\nwant %q", what, g, want)
	}
}

// history builds commits 1..3 of the brief: all Backlog; T60 Done and T61
// In Progress; T61 **Done** and T70 added Done in a SPEC's tasks.md.
func history(r *testRepo) (names map[string]string, c1, c2, c3 string) {
	c1 = r.commit(map[string]string{"SPEC.md": specMD("Backlog", "Backlog"), tasksPath: tasksMD("| 1 | T70.1 | Spool | Backlog | Code | | |")})
	c2 = r.commit(map[string]string{"SPEC.md": specMD("**Done**", "In Progress")})
	c3 = r.commit(map[string]string{"SPEC.md": specMD("**Done**", "**Done**"),
		tasksPath: tasksMD("| 1 | T70.1 | Spool | Backlog | Code | | |", "| 2 | T70 | [Deliver](https://x.example/70) | ✅ Done | Code | | |")})
	return map[string]string{c1: "c1", c2: "c2", c3: "c3"}, c1, c2, c3
}

func TestExplicitRanges(t *testing.T) {
	r := newTestRepo(t)
	names, c1, c2, c3 := history(r)
	em := r.emitter(testConfig)

	rep := r.run(em, Options{From: c1, To: c2})
	check(t, "1..2", rep.Completed, names, "SPEC-KIT-060-rotation T60 @c2 SPEC.md new")
	if rep.FromSource != "flag" || rep.From != c1 || rep.To != c2 || !rep.Recorded {
		t.Errorf("report: %+v", rep)
	}
	rep = r.run(em, Options{From: c2, To: c3})
	check(t, "2..3", rep.Completed, names,
		"SPEC-KIT-060-rotation T61 @c3 SPEC.md new",
		"SPEC-KIT-070-hooks T70 @c3 "+tasksPath+" new")
	// The wider range finds the same transitions at the same commits: the
	// keys match, nothing is enqueued again.
	rep = r.run(em, Options{From: c1, To: c3})
	check(t, "1..3", rep.Completed, names,
		"SPEC-KIT-060-rotation T60 @c2 SPEC.md dup",
		"SPEC-KIT-060-rotation T61 @c3 SPEC.md dup",
		"SPEC-KIT-070-hooks T70 @c3 "+tasksPath+" dup")
	// From the empty tree (--from unset, marker on c3 = To... use the root's
	// own range): the root commit has nothing Done.
	rep = r.run(em, Options{To: c1})
	if len(rep.Completed) != 0 || rep.FromSource != "empty-tree" || rep.From != "" {
		t.Errorf("root: %+v", rep)
	}
	if m := LastProcessed(r.root); m != c3 {
		t.Errorf("marker = %s, want c3 (an older --to never moves it back)", names[m])
	}

	// Every line parses, one enqueued line per completion, and each payload
	// carries the task, the commit and the source.
	entries, err := ledger.ReadAll(filepath.Join(r.root, "hooks/SPEC-KIT-060-rotation/ledger.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Errorf("SPEC-KIT-060 ledger: %d lines, want 2", len(entries))
	}
	if entries[0].Key != "SPEC-KIT-060-rotation/task/T60/done@"+c2 {
		t.Errorf("key = %q", entries[0].Key)
	}
	body := payload(t, filepath.Join(r.root, "hooks/SPEC-KIT-070-hooks/spool"))
	var p struct {
		Event struct {
			Type           string
			IdempotencyKey string `json:"idempotency_key"`
		}
		Spec struct{ ID string }
		Task struct{ ID, Title, Status string }
		Data map[string]string
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Event.Type != "spec-kit.task.completed" || p.Spec.ID != "SPEC-KIT-070-hooks" || p.Task.ID != "T70" ||
		p.Task.Title != "Deliver" || p.Task.Status != "Done" || p.Data["commit"] != c3 || p.Data["source"] != tasksPath ||
		p.Event.IdempotencyKey != "SPEC-KIT-070-hooks/task/T70/done@"+c3 {
		t.Errorf("payload:\n%s", body)
	}
}

// payload returns the body of the only delivery in dir, checked against
// the schema.
func payload(t *testing.T, dir string) []byte {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 {
		t.Fatalf("%s: %d files, want 1", dir, len(ents))
	}
	data, err := os.ReadFile(filepath.Join(dir, ents[0].Name()))
	if err != nil {
		t.Fatal(err)
	}
	d, err := spool.Decode(ents[0].Name(), data)
	if err != nil {
		t.Fatal(err)
	}
	if err := schematest.Check(d.Body); err != nil {
		t.Fatalf("schema: %v\n%s", err, d.Body)
	}
	return d.Body
}

func TestDefaultRangeIdempotentAndReopened(t *testing.T) {
	r := newTestRepo(t)
	em := r.emitter(testConfig)
	c1 := r.commit(map[string]string{"SPEC.md": specMD("Backlog", "Backlog"), tasksPath: tasksMD("| 1 | T70.1 | Spool | Backlog | Code | | |")})
	rep := r.run(em, Options{}) // root commit: against the empty tree
	if rep.FromSource != "empty-tree" || len(rep.Completed) != 0 || LastProcessed(r.root) != c1 {
		t.Fatalf("first run: %+v", rep)
	}
	c2 := r.commit(map[string]string{"SPEC.md": specMD("**Done**", "In Progress")})
	c3 := r.commit(map[string]string{"SPEC.md": specMD("**Done**", "**Done**"),
		tasksPath: tasksMD("| 1 | T70.1 | Spool | Backlog | Code | | |", "| 2 | T70 | Deliver | ✅ Done | Code | | |")})
	names := map[string]string{c1: "c1", c2: "c2", c3: "c3"}

	// Marker c1..HEAD: both commits' completions, each at its own commit.
	rep = r.run(em, Options{})
	if rep.FromSource != "marker" || rep.From != c1 {
		t.Errorf("from: %s %s", rep.FromSource, names[rep.From])
	}
	check(t, "c1..c3", rep.Completed, names,
		"SPEC-KIT-060-rotation T60 @c2 SPEC.md new",
		"SPEC-KIT-060-rotation T61 @c3 SPEC.md new",
		"SPEC-KIT-070-hooks T70 @c3 "+tasksPath+" new")
	// Twice: the range is empty.
	rep = r.run(em, Options{})
	check(t, "again", rep.Completed, names)
	// Without the marker (a fresh clone): HEAD~1..HEAD, and the ledger
	// dedupes what the first run already enqueued.
	if err := os.Remove(filepath.Join(r.root, ".git", MarkerFile)); err != nil {
		t.Fatal(err)
	}
	rep = r.run(em, Options{})
	if rep.FromSource != "parent" {
		t.Errorf("from: %s", rep.FromSource)
	}
	check(t, "no marker", rep.Completed, names,
		"SPEC-KIT-060-rotation T61 @c3 SPEC.md dup",
		"SPEC-KIT-070-hooks T70 @c3 "+tasksPath+" dup")

	// T60 re-opened, seen by a run; then Done again, then an unrelated
	// commit: the new completion is attributed to c5, and is a new event.
	c4 := r.commit(map[string]string{"SPEC.md": specMD("In Progress", "**Done**")})
	rep = r.run(em, Options{})
	check(t, "reopened", rep.Completed, names)
	c5 := r.commit(map[string]string{"SPEC.md": specMD("Done", "**Done**")})
	c6 := r.commit(map[string]string{"README.md": "unrelated\n"})
	names[c4], names[c5], names[c6] = "c4", "c5", "c6"
	rep = r.run(em, Options{Preview: true})
	check(t, "preview", rep.Completed, names, "SPEC-KIT-060-rotation T60 @c5 SPEC.md none")
	if rep.Completed[0].Duplicate || !slices.Equal(rep.Completed[0].Subscriptions, []string{"ops"}) || rep.Recorded {
		t.Errorf("preview: %+v", rep)
	}
	rep = r.run(em, Options{})
	check(t, "done again", rep.Completed, names, "SPEC-KIT-060-rotation T60 @c5 SPEC.md new")
	rep = r.run(em, Options{From: c4, Preview: true})
	check(t, "preview after", rep.Completed, names, "SPEC-KIT-060-rotation T60 @c5 SPEC.md dup")

	keys := map[string]bool{}
	for _, spec := range []string{"SPEC-KIT-060-rotation", "SPEC-KIT-070-hooks"} {
		entries, err := ledger.ReadAll(filepath.Join(r.root, "hooks", spec, "ledger.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if keys[e.Key] {
				t.Errorf("key %s enqueued twice", e.Key)
			}
			keys[e.Key] = true
		}
	}
	if len(keys) != 4 || !keys["SPEC-KIT-060-rotation/task/T60/done@"+c2] || !keys["SPEC-KIT-060-rotation/task/T60/done@"+c5] {
		t.Errorf("keys: %v", keys)
	}
}

func TestSkippedDefaultSpecDisabledAndErrors(t *testing.T) {
	r := newTestRepo(t)
	c1 := r.commit(map[string]string{"SPEC.md": specMD("Backlog", "Backlog")})
	md := strings.Replace(specMD("Backlog", "Backlog"), "| Ops | | | | | | No SPEC yet. |", "| Ops | | | | | | No SPEC yet. |", 1)
	md = strings.Replace(md, "| T63 | Runbook | Backlog |", "| T63 | Runbook | Done |", 1)
	c2 := r.commit(map[string]string{"SPEC.md": md})

	// Disabled: computed and reported, nothing written, marker not moved.
	off := r.emitter(strings.Replace(testConfig, "enabled = true", "enabled = false", 1))
	rep := r.run(off, Options{From: c1})
	if rep.Enabled || len(rep.Skipped) != 1 || rep.Skipped[0].TaskID != "T63" || rep.Recorded || LastProcessed(r.root) != "" {
		t.Errorf("disabled: %+v", rep)
	}
	if _, err := os.Stat(filepath.Join(r.root, "hooks")); !os.IsNotExist(err) {
		t.Errorf("disabled run wrote hooks/: %v", err)
	}

	em := r.emitter(testConfig)
	rep = r.run(em, Options{From: c1, To: c2, DefaultSpec: "SPEC-OPS-004"})
	check(t, "default spec", rep.Completed, map[string]string{c2: "c2"}, "SPEC-OPS-004 T63 @c2 SPEC.md new")

	for _, tc := range []struct {
		opts Options
		want error
		name string
	}{
		{Options{From: "nope"}, ErrRevision, `--from "nope"`},
		{Options{To: "HEAD~9"}, ErrRevision, `--to "HEAD~9"`},
		{Options{DefaultSpec: "a/b"}, ErrUsage, "--default-spec"},
	} {
		_, err := Run(em, tc.opts)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.name) {
			t.Errorf("Run(%+v) = %v, want %v naming %s", tc.opts, err, tc.want, tc.name)
		}
	}
	em.RepoRoot = t.TempDir()
	if _, err := Run(em, Options{}); !errors.Is(err, ErrNotRepository) {
		t.Errorf("not a repository: %v", err)
	}
}

func TestResolveShort(t *testing.T) {
	dirs := []string{"SPEC-KIT-065-add-webhooks", "SPEC-KIT-066-a", "SPEC-KIT-066-b"}
	for in, want := range map[string]string{
		"SPEC-KIT-065":              "SPEC-KIT-065-add-webhooks",
		"SPEC-KIT-065-add-webhooks": "SPEC-KIT-065-add-webhooks",
		"SPEC-KIT-066":              "SPEC-KIT-066", // ambiguous
		"SPEC-KIT-099":              "SPEC-KIT-099",
		"":                          "",
	} {
		if got := resolveShort(in, dirs); got != want {
			t.Errorf("resolveShort(%q) = %q, want %q", in, got, want)
		}
	}
}
