package tasks

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"

	"github.com/spec-kit/outbox/outbox/spool"
)

// Tracker files, relative to the repository root.
const (
	TrackerFile = "SPEC.md"  // the root tracker
	DocsDir     = "docs"     // docs/<SPEC-ID>/TasksFile
	TasksFile   = "tasks.md" // a SPEC's own task list
)

// MaxWalk bounds the first-parent walk that looks for the commit where a
// row became Done; past it, the --to commit is used.
const MaxWalk = 2000

// Snapshot is the task rows of one commit, by SPEC and task id. A row of a
// docs/<SPEC-ID>/tasks.md wins over a SPEC.md row for the same SPEC and
// task id; within one file, the first row wins. Rows that name no SPEC are
// kept under an empty SPEC.
type Snapshot map[Key]Row

// Key identifies a task across revisions.
type Key struct{ Spec, TaskID string }

// History reads tracker tables out of a repository's commits, caching what
// it parsed by blob and tree hash (files that did not change between two
// commits are parsed once).
type History struct {
	Repo   *Repo
	blobs  map[blobKey][]Row             // parsed files
	snaps  map[[2]plumbing.Hash]Snapshot // by (SPEC.md blob, docs tree)
	byHash map[plumbing.Hash]Snapshot    // by commit
}

// NewHistory reads from repo.
func NewHistory(repo *Repo) *History {
	return &History{Repo: repo, blobs: map[blobKey][]Row{},
		snaps: map[[2]plumbing.Hash]Snapshot{}, byHash: map[plumbing.Hash]Snapshot{}}
}

// At returns the snapshot of commit c; a nil c is the empty tree.
func (h *History) At(c *Commit) (Snapshot, error) {
	if c == nil {
		return Snapshot{}, nil
	}
	if s, ok := h.byHash[c.Hash]; ok {
		return s, nil
	}
	tree, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", c.Hash, err)
	}
	var key [2]plumbing.Hash
	if e, err := tree.FindEntry(TrackerFile); err == nil && e.Mode.IsFile() {
		key[0] = e.Hash
	}
	var docs *gitTree
	if e, err := tree.FindEntry(DocsDir); err == nil && e.Mode == filemode.Dir {
		key[1] = e.Hash
		if docs, err = h.Repo.TreeObject(e.Hash); err != nil {
			return nil, fmt.Errorf("commit %s: %s: %w", c.Hash, DocsDir, err)
		}
	}
	if s, ok := h.snaps[key]; ok {
		h.byHash[c.Hash] = s
		return s, nil
	}
	s, err := h.build(key[0], docs)
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", c.Hash, err)
	}
	h.snaps[key] = s
	h.byHash[c.Hash] = s
	return s, nil
}

func (h *History) build(specMD plumbing.Hash, docs *gitTree) (Snapshot, error) {
	s := Snapshot{}
	var specDirs []string
	if docs != nil {
		// docs/<SPEC-ID>/tasks.md first: their rows win.
		for _, e := range docs.Entries {
			if e.Mode != filemode.Dir || !spool.ValidSpecID(e.Name) {
				continue
			}
			specDirs = append(specDirs, e.Name)
			sub, err := h.Repo.TreeObject(e.Hash)
			if err != nil {
				return nil, fmt.Errorf("%s/%s: %w", DocsDir, e.Name, err)
			}
			te, err := sub.FindEntry(TasksFile)
			if err != nil || !te.Mode.IsFile() {
				continue
			}
			src := path.Join(DocsDir, e.Name, TasksFile)
			rows, err := h.parse(te.Hash, src, e.Name)
			if err != nil {
				return nil, err
			}
			add(s, rows)
		}
	}
	if !specMD.IsZero() {
		rows, err := h.parse(specMD, TrackerFile, "")
		if err != nil {
			return nil, err
		}
		for i := range rows {
			rows[i].Spec = resolveShort(rows[i].Spec, specDirs)
		}
		add(s, rows)
	}
	return s, nil
}

func add(s Snapshot, rows []Row) {
	for _, r := range rows {
		k := Key{r.Spec, r.TaskID}
		if _, dup := s[k]; !dup {
			s[k] = r
		}
	}
}

// resolveShort maps a short SPEC id (SPEC-KIT-065) to the one docs/ folder
// named after it (SPEC-KIT-065-add-webhook-...), so a SPEC.md row and its
// SPEC's tasks.md agree on the id. Anything else is kept.
func resolveShort(spec string, dirs []string) string {
	if spec == "" {
		return ""
	}
	found := ""
	for _, d := range dirs {
		if d == spec {
			return spec
		}
		if strings.HasPrefix(d, spec+"-") {
			if found != "" {
				return spec // ambiguous
			}
			found = d
		}
	}
	if found != "" {
		return found
	}
	return spec
}

type blobKey struct {
	hash   plumbing.Hash
	source string
}

// parse returns the rows of a blob; the result is a fresh copy.
func (h *History) parse(blob plumbing.Hash, source, spec string) ([]Row, error) {
	rows, ok := h.blobs[blobKey{blob, source}]
	if !ok {
		data, err := h.Repo.BlobContent(blob)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
		rows = Parse(data, source, spec)
		h.blobs[blobKey{blob, source}] = rows
	}
	return append([]Row(nil), rows...), nil
}

// Transition is a row that is Done at the end of a range and was not Done,
// or did not exist, at its start.
type Transition struct {
	Row
	Commit string `json:"commit"` // the commit that made it Done (see Transitions)
	Exact  bool   `json:"-"`      // Commit was found by the walk (false: the --to commit, as a fallback)
}

// Transitions compares the snapshots of from (nil: the empty tree) and to,
// and returns the rows Done at to and not Done at from, sorted by SPEC,
// source and line. Each one's Commit is the first-parent commit in
// from..to where the row became Done and stayed Done up to to: the walk
// goes back from to along first parents while the row is Done in the
// parent, and stops at from, at a root commit, or after MaxWalk commits
// (then Commit is to). A row completed on a merged branch gets the merge
// commit; one Done, re-opened and Done again within the range gets the last
// completion.
func (h *History) Transitions(from, to *Commit) ([]Transition, error) {
	before, err := h.At(from)
	if err != nil {
		return nil, err
	}
	after, err := h.At(to)
	if err != nil {
		return nil, err
	}
	var out []Transition
	pending := map[Key]int{}
	for k, r := range after {
		if !r.Done {
			continue
		}
		if b, ok := before[k]; ok && b.Done {
			continue
		}
		pending[k] = len(out)
		out = append(out, Transition{Row: r, Commit: to.Hash.String()})
	}
	if err := h.walk(from, to, pending, out); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Spec != b.Spec {
			return a.Spec < b.Spec
		}
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		return a.Line < b.Line
	})
	return out, nil
}

// walk fills in the commit of each pending transition (see Transitions).
func (h *History) walk(from, to *Commit, pending map[Key]int, out []Transition) error {
	c := to
	for steps := 0; len(pending) > 0; steps++ {
		if from != nil && c.Hash == from.Hash {
			break // cannot happen while rows are pending; defensive
		}
		if c.NumParents() == 0 {
			// Done in a root commit: that commit made it Done.
			for k, i := range pending {
				out[i].Commit, out[i].Exact = c.Hash.String(), true
				delete(pending, k)
			}
			break
		}
		if steps >= MaxWalk {
			break
		}
		p, err := c.Parent(0)
		if err != nil {
			if errors.Is(err, plumbing.ErrObjectNotFound) { // shallow clone
				break
			}
			return fmt.Errorf("parent of %s: %w", c.Hash, err)
		}
		snap, err := h.At(p)
		if err != nil {
			return err
		}
		for k, i := range pending {
			if r, ok := snap[k]; !ok || !r.Done {
				out[i].Commit, out[i].Exact = c.Hash.String(), true
				delete(pending, k)
			}
		}
		if from != nil && p.Hash == from.Hash {
			break
		}
		c = p
	}
	return nil
}
