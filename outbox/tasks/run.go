package tasks

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/spec-kit/outbox/ledger"
	"github.com/spec-kit/outbox/outbox"
	"github.com/spec-kit/outbox/outbox/event"
	"github.com/spec-kit/outbox/outbox/spool"
)

// Sentinel errors, so a CLI can map them to exit codes.
var (
	ErrRevision      = errors.New("bad revision")         // usage: a revision that does not resolve to a commit
	ErrUsage         = errors.New("invalid tasks run")    // usage: other bad options
	ErrNotRepository = errors.New("not a git repository") // setup
)

// MarkerFile is the name, in the git directory, of the file that holds the
// last --to commit a run processed.
const MarkerFile = "outbox-tasks-last"

// Options says what a run compares and whether it writes.
type Options struct {
	From, To    string // revisions (anything ResolveRevision takes); "" for the defaults
	Preview     bool   // compute and route, write nothing (no spool, no ledger, no marker)
	DefaultSpec string // SPEC of completed rows that name none; "" skips them
}

// Completion is one completed task and what its emit did.
type Completion struct {
	Spec          string   `json:"spec"`
	TaskID        string   `json:"task_id"`
	Title         string   `json:"title"`
	Commit        string   `json:"commit"`
	Source        string   `json:"source"`
	Line          int      `json:"line"`
	Key           string   `json:"idempotency_key"`
	Duplicate     bool     `json:"duplicate,omitempty"`     // already in the SPEC's ledger: nothing written
	DeliveryIDs   []string `json:"delivery_ids"`            // written deliveries (empty on preview and duplicates)
	Subscriptions []string `json:"subscriptions,omitempty"` // subscriptions the event goes (or would go) to
}

// Report is what a run did.
type Report struct {
	From       string       `json:"from"`        // commit, "" for the empty tree
	To         string       `json:"to"`          // commit
	FromSource string       `json:"from_source"` // flag, marker, parent or empty-tree
	Enabled    bool         `json:"enabled"`
	Preview    bool         `json:"preview,omitempty"`
	Recorded   bool         `json:"recorded,omitempty"` // the marker now holds To
	Completed  []Completion `json:"completed"`
	Skipped    []Transition `json:"skipped"` // completed rows that name no SPEC
}

// IdempotencyKey is the idempotency key of a completion: one per SPEC, task and the
// commit that made it Done, so a re-run over any range that contains the
// same transition enqueues nothing, and a task re-opened and completed
// again later is a new event.
func IdempotencyKey(spec, taskID, commit string) string {
	return spec + "/task/" + taskID + "/done@" + commit
}

// Run compares the tracker tables at opts.From and opts.To and emits
// spec-kit.task.completed through em for each row that became Done.
//
// Defaults: To is HEAD. From is the commit in the marker file when it is an
// ancestor of To, else To's first parent, else (To is a root commit) the
// empty tree. After a run that is not a preview, with webhooks enabled and
// every emit done, the marker is set to To, unless it holds a descendant of
// To (a run over an older range never moves it back).
//
// On an emit error, the report holds the completions done so far; the
// marker is not moved, so the next run retries, and what was enqueued is
// then a duplicate.
func Run(em *outbox.Emitter, opts Options) (*Report, error) {
	if opts.DefaultSpec != "" && !spool.ValidSpecID(opts.DefaultSpec) {
		return nil, fmt.Errorf("%w: --default-spec %q: letters, digits, '.', '-' and '_' only", ErrUsage, opts.DefaultSpec)
	}
	getenv := em.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	enabled, err := em.Config.EnabledWith(getenv)
	if err != nil {
		return nil, err
	}
	repo, err := Open(em.RepoRoot)
	if err != nil {
		return nil, err
	}
	rep := &Report{Enabled: enabled, Preview: opts.Preview, Completed: []Completion{}, Skipped: []Transition{}}
	toRev := opts.To
	if toRev == "" {
		toRev = "HEAD"
	}
	to, err := resolve(repo, "--to", toRev)
	if err != nil {
		return nil, err
	}
	rep.To = to.Hash.String()
	marker := markerPath(repo)
	recorded := readMarker(repo, marker)
	var from *Commit
	switch {
	case opts.From != "":
		if from, err = resolve(repo, "--from", opts.From); err != nil {
			return nil, err
		}
		rep.FromSource = "flag"
	case recorded != nil && isAncestor(recorded, to):
		from, rep.FromSource = recorded, "marker"
	case to.NumParents() > 0:
		if from, err = to.Parent(0); err != nil {
			return nil, fmt.Errorf("parent of %s: %w", to.Hash, err)
		}
		rep.FromSource = "parent"
	default:
		rep.FromSource = "empty-tree"
	}
	if from != nil {
		rep.From = from.Hash.String()
	}

	trs, err := NewHistory(repo).Transitions(from, to)
	if err != nil {
		return nil, err
	}
	for _, t := range trs {
		if t.Spec == "" {
			if opts.DefaultSpec == "" {
				rep.Skipped = append(rep.Skipped, t)
				continue
			}
			t.Spec = opts.DefaultSpec
		}
		c, err := emit(em, t, opts.Preview)
		if err != nil {
			return rep, fmt.Errorf("%s %s: %w", t.Spec, t.TaskID, err)
		}
		rep.Completed = append(rep.Completed, c)
	}
	if !opts.Preview && enabled && (recorded == nil || recorded.Hash == to.Hash || !isAncestor(to, recorded)) {
		if err := writeMarker(marker, to.Hash); err != nil {
			return rep, err
		}
		rep.Recorded = true
	}
	return rep, nil
}

func emit(em *outbox.Emitter, t Transition, preview bool) (Completion, error) {
	c := Completion{Spec: t.Spec, TaskID: t.TaskID, Title: t.Title, Commit: t.Commit, Source: t.Source,
		Line: t.Line, Key: IdempotencyKey(t.Spec, t.TaskID, t.Commit), DeliveryIDs: []string{}}
	res, err := em.Emit(outbox.Request{
		Event: event.TypeTaskCompleted, Spec: t.Spec, TaskID: t.TaskID, TaskTitle: t.Title,
		IdempotencyKey: c.Key, Data: map[string]string{"commit": t.Commit, "source": t.Source},
		Preview: preview,
	})
	if err != nil {
		return c, err
	}
	c.Duplicate = res.Duplicate
	for _, d := range res.Deliveries {
		c.Subscriptions = append(c.Subscriptions, d.Subscription)
		if !preview {
			c.DeliveryIDs = append(c.DeliveryIDs, d.ID)
		}
	}
	if preview && len(res.Deliveries) > 0 {
		// A preview writes nothing, so the Emitter does not look at the
		// ledger; say whether a real run would be a no-op.
		dir, err := em.SpoolDir(t.Spec)
		if err != nil {
			return c, err
		}
		if c.Duplicate, err = ledger.HasKey(dir.LedgerPath(), c.Key); err != nil {
			return c, err
		}
	}
	return c, nil
}

func resolve(repo *Repo, flag, rev string) (*Commit, error) {
	c, err := repo.ResolveRevision(rev)
	if err != nil {
		return nil, fmt.Errorf("%w: %s %q: %v", ErrRevision, flag, rev, err)
	}
	return c, nil
}

// isAncestor reports whether a is b or an ancestor of b; an untraversable
// history counts as no.
func isAncestor(a, b *Commit) bool {
	ok, err := a.IsAncestor(b)
	return err == nil && ok
}

// markerPath is MarkerFile in the repository's git directory (the
// worktree's own, for a linked worktree).
func markerPath(repo *Repo) string {
	if repo.GitDir == "" {
		return ""
	}
	return filepath.Join(repo.GitDir, MarkerFile)
}

// readMarker returns the commit in the marker, or nil when there is none or
// it does not name a commit of repo (garbage-collected, another clone's).
func readMarker(repo *Repo, path string) *Commit {
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	s := strings.TrimSpace(string(data))
	if !plumbing.IsHash(s) {
		return nil
	}
	c, err := repo.CommitObject(plumbing.NewHash(s))
	if err != nil {
		return nil
	}
	return c
}

// LastProcessed returns the commit the marker of the repository at root
// names, or "".
func LastProcessed(root string) string {
	repo, err := Open(root)
	if err != nil {
		return ""
	}
	if c := readMarker(repo, markerPath(repo)); c != nil {
		return c.Hash.String()
	}
	return ""
}

// writeMarker replaces the marker atomically.
func writeMarker(path string, h plumbing.Hash) error {
	if path == "" {
		return fmt.Errorf("%w: no git directory for %s", ErrNotRepository, MarkerFile)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), MarkerFile+".tmp-*")
	if err != nil {
		return fmt.Errorf("tasks marker: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(h.String() + "\n"); err != nil {
		tmp.Close()
		return fmt.Errorf("tasks marker: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("tasks marker: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("tasks marker: %w", err)
	}
	return nil
}
