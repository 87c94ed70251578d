package tasks

// A minimal read-only view of a git repository: just what the tracker
// history needs (refs, commits, trees, blobs). It deliberately avoids the
// top-level go-git package and plumbing/object, whose transitive imports
// (transports, ssh, openpgp) cost every outbox process start-up time.

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"github.com/go-git/go-git/v5/storage/filesystem/dotgit"
	"github.com/spec-kit/outbox/gitops"
)

// Repo is a repository opened read-only for the tracker history.
type Repo struct {
	GitDir    string // the working tree's git directory (holds HEAD and the marker)
	CommonDir string // objects and refs (differs from GitDir in a linked worktree)
	st        *filesystem.Storage
}

// Commit is the part of a commit object the history needs.
type Commit struct {
	Hash         plumbing.Hash
	TreeHash     plumbing.Hash
	ParentHashes []plumbing.Hash
	repo         *Repo
}

// NumParents returns the number of parents of c.
func (c *Commit) NumParents() int { return len(c.ParentHashes) }

// Parent returns the i-th parent of c.
func (c *Commit) Parent(i int) (*Commit, error) {
	if i < 0 || i >= len(c.ParentHashes) {
		return nil, fmt.Errorf("commit %s has no parent %d", c.Hash, i+1)
	}
	return c.repo.CommitObject(c.ParentHashes[i])
}

// treeEntry is one entry of a tree object.
type treeEntry struct {
	Name string
	Mode filemode.FileMode
	Hash plumbing.Hash
}

// gitTree is a parsed tree object.
type gitTree struct {
	Hash    plumbing.Hash
	Entries []treeEntry
}

var errEntryNotFound = errors.New("entry not found")

// FindEntry returns the entry named name (a single path element).
func (t *gitTree) FindEntry(name string) (*treeEntry, error) {
	for i := range t.Entries {
		if t.Entries[i].Name == name {
			return &t.Entries[i], nil
		}
	}
	return nil, errEntryNotFound
}

// Open opens the repository around root (root or its nearest ancestor with
// a .git), following linked worktrees.
func Open(root string) (*Repo, error) {
	gitDir, err := findGitDir(root)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNotRepository, root, err)
	}
	if fi, err := os.Stat(gitDir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("%w: %s: no git directory at %s", ErrNotRepository, root, gitDir)
	}
	common := gitops.CommonGitDir(gitDir)
	var fs billy.Filesystem = osfs.New(gitDir)
	if common != gitDir {
		fs = dotgit.NewRepositoryFilesystem(osfs.New(gitDir), osfs.New(common))
	}
	st := filesystem.NewStorageWithOptions(fs, cache.NewObjectLRUDefault(),
		filesystem.Options{AlternatesFS: osfs.New("/")})
	return &Repo{GitDir: gitDir, CommonDir: common, st: st}, nil
}

// findGitDir returns the git directory of the working tree containing dir.
func findGitDir(dir string) (string, error) {
	root, err := gitops.Discover(dir)
	if err != nil {
		return "", err
	}
	gd, err := gitops.GitDir(root)
	if err != nil {
		return "", err
	}
	return filepath.Clean(gd), nil
}

// readObject returns the content of object h, which must be of type t
// (plumbing.AnyObject: any), and its type.
func (r *Repo) readObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.ObjectType, []byte, error) {
	obj, err := r.st.EncodedObject(t, h)
	if err != nil {
		return plumbing.InvalidObject, nil, fmt.Errorf("object %s: %w", h, err)
	}
	rd, err := obj.Reader()
	if err != nil {
		return plumbing.InvalidObject, nil, fmt.Errorf("object %s: %w", h, err)
	}
	defer rd.Close()
	data, err := io.ReadAll(rd)
	if err != nil {
		return plumbing.InvalidObject, nil, fmt.Errorf("object %s: %w", h, err)
	}
	return obj.Type(), data, nil
}

// CommitObject reads and parses commit h.
func (r *Repo) CommitObject(h plumbing.Hash) (*Commit, error) {
	_, data, err := r.readObject(plumbing.CommitObject, h)
	if err != nil {
		return nil, err
	}
	return parseCommit(r, h, data)
}

func parseCommit(r *Repo, h plumbing.Hash, data []byte) (*Commit, error) {
	c := &Commit{Hash: h, repo: r}
	haveTree := false
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if len(line) == 0 {
			break // end of headers
		}
		key, val, _ := bytes.Cut(line, []byte{' '})
		switch string(key) {
		case "tree":
			th, ok := parseHex(string(val))
			if !ok {
				return nil, fmt.Errorf("commit %s: bad tree %q", h, val)
			}
			c.TreeHash, haveTree = th, true
		case "parent":
			ph, ok := parseHex(string(val))
			if !ok {
				return nil, fmt.Errorf("commit %s: bad parent %q", h, val)
			}
			c.ParentHashes = append(c.ParentHashes, ph)
		}
	}
	if !haveTree {
		return nil, fmt.Errorf("commit %s: no tree", h)
	}
	return c, nil
}

// Tree reads the root tree of c.
func (c *Commit) Tree() (*gitTree, error) { return c.repo.TreeObject(c.TreeHash) }

// TreeObject reads and parses tree h.
func (r *Repo) TreeObject(h plumbing.Hash) (*gitTree, error) {
	_, data, err := r.readObject(plumbing.TreeObject, h)
	if err != nil {
		return nil, err
	}
	t := &gitTree{Hash: h}
	for len(data) > 0 {
		sp := bytes.IndexByte(data, ' ')
		if sp < 0 {
			return nil, fmt.Errorf("tree %s: malformed entry", h)
		}
		mode, err := filemode.New(string(data[:sp]))
		if err != nil {
			return nil, fmt.Errorf("tree %s: %w", h, err)
		}
		data = data[sp+1:]
		nul := bytes.IndexByte(data, 0)
		if nul < 0 || len(data) < nul+1+len(plumbing.ZeroHash) {
			return nil, fmt.Errorf("tree %s: malformed entry", h)
		}
		e := treeEntry{Name: string(data[:nul]), Mode: mode}
		copy(e.Hash[:], data[nul+1:])
		data = data[nul+1+len(plumbing.ZeroHash):]
		t.Entries = append(t.Entries, e)
	}
	return t, nil
}

// BlobContent reads blob h.
func (r *Repo) BlobContent(h plumbing.Hash) ([]byte, error) {
	_, data, err := r.readObject(plumbing.BlobObject, h)
	return data, err
}

// ReadFile returns the content of the file at path (slash-separated) in
// commit c.
func (r *Repo) ReadFile(c *Commit, path string) ([]byte, error) {
	t, err := c.Tree()
	if err != nil {
		return nil, err
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for i, name := range parts {
		e, err := t.FindEntry(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if i == len(parts)-1 {
			if !e.Mode.IsFile() {
				return nil, fmt.Errorf("%s: not a file", path)
			}
			return r.BlobContent(e.Hash)
		}
		if e.Mode != filemode.Dir {
			return nil, fmt.Errorf("%s: %s is not a directory", path, name)
		}
		if t, err = r.TreeObject(e.Hash); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%s: %w", path, errEntryNotFound)
}

// ResolveRevision resolves rev to a commit: HEAD (or @), full or unique
// abbreviated (4+ hex digits) object names, ref names (as git expands
// them: X, refs/X, refs/tags/X, refs/heads/X, refs/remotes/X,
// refs/remotes/X/HEAD), annotated tags peeled to their commit, followed by
// any sequence of ~, ~N, ^, ^N and ^{}/^{commit}.
func (r *Repo) ResolveRevision(rev string) (*Commit, error) {
	if rev == "" {
		return nil, errors.New("empty revision")
	}
	i := strings.IndexAny(rev, "~^")
	base, suffix := rev, ""
	if i >= 0 {
		base, suffix = rev[:i], rev[i:]
	}
	if base == "" || base == "@" {
		base = "HEAD"
	}
	c, err := r.resolveBase(base)
	if err != nil {
		return nil, err
	}
	for suffix != "" {
		op := suffix[0]
		suffix = suffix[1:]
		if op == '^' && strings.HasPrefix(suffix, "{") {
			end := strings.IndexByte(suffix, '}')
			if end < 0 {
				return nil, fmt.Errorf("bad revision %q", rev)
			}
			switch suffix[1:end] {
			case "", "commit":
			default:
				return nil, fmt.Errorf("unsupported revision %q", rev)
			}
			suffix = suffix[end+1:]
			continue
		}
		j := 0
		for j < len(suffix) && suffix[j] >= '0' && suffix[j] <= '9' {
			j++
		}
		n := 1
		if j > 0 {
			if n, err = strconv.Atoi(suffix[:j]); err != nil {
				return nil, fmt.Errorf("bad revision %q", rev)
			}
		}
		suffix = suffix[j:]
		switch op {
		case '~':
			for k := 0; k < n; k++ {
				if c, err = c.Parent(0); err != nil {
					return nil, err
				}
			}
		case '^':
			if n == 0 {
				continue
			}
			if c, err = c.Parent(n - 1); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("bad revision %q", rev)
		}
	}
	return c, nil
}

// resolveBase resolves a revision without suffixes. Object names win over
// ref names, as in git.
func (r *Repo) resolveBase(name string) (*Commit, error) {
	hashes, err := r.hashPrefix(name)
	if err != nil {
		return nil, err
	}
	var found []*Commit
	for _, h := range hashes {
		if c, err := r.peel(h); err == nil {
			found = append(found, c)
		}
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) > 1:
		return nil, fmt.Errorf("short object name %s is ambiguous", name)
	}
	var firstErr error
	for _, rule := range plumbing.RefRevParseRules {
		ref, err := storer.ResolveReference(r.st, plumbing.ReferenceName(fmt.Sprintf(rule, name)))
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		return r.peel(ref.Hash())
	}
	if firstErr == nil {
		firstErr = plumbing.ErrReferenceNotFound
	}
	return nil, firstErr
}

// hashPrefix returns the objects name names: itself if it is a full hash,
// the objects it is a prefix of if it is 4 to 39 hex digits, else none.
func (r *Repo) hashPrefix(name string) ([]plumbing.Hash, error) {
	if h, ok := parseHex(name); ok {
		return []plumbing.Hash{h}, nil
	}
	if len(name) < 4 || len(name) >= 2*len(plumbing.ZeroHash) {
		return nil, nil
	}
	for i := 0; i < len(name); i++ {
		if !strings.ContainsRune("0123456789abcdefABCDEF", rune(name[i])) {
			return nil, nil
		}
	}
	prefix, err := hex.DecodeString(name[:len(name)&^1])
	if err != nil {
		return nil, nil
	}
	cands, err := r.st.HashesWithPrefix(prefix)
	if err != nil {
		return nil, err
	}
	lower := strings.ToLower(name)
	var out []plumbing.Hash
	for _, h := range cands {
		if strings.HasPrefix(h.String(), lower) {
			out = append(out, h)
		}
	}
	return out, nil
}

// peel returns the commit h names, following annotated tags.
func (r *Repo) peel(h plumbing.Hash) (*Commit, error) {
	for depth := 0; depth < 10; depth++ {
		t, data, err := r.readObject(plumbing.AnyObject, h)
		if err != nil {
			return nil, err
		}
		switch t {
		case plumbing.CommitObject:
			return parseCommit(r, h, data)
		case plumbing.TagObject:
			target, ok := tagTarget(data)
			if !ok {
				return nil, fmt.Errorf("tag %s: no target", h)
			}
			h = target
		default:
			return nil, fmt.Errorf("object %s is a %s, not a commit", h, t)
		}
	}
	return nil, fmt.Errorf("object %s: tag chain too deep", h)
}

// tagTarget returns the "object" header of a tag object.
func tagTarget(data []byte) (plumbing.Hash, bool) {
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if len(line) == 0 {
			break
		}
		if v, ok := bytes.CutPrefix(line, []byte("object ")); ok {
			return parseHex(string(v))
		}
	}
	return plumbing.ZeroHash, false
}

// parseHex parses a full 40-digit hex object name.
func parseHex(s string) (plumbing.Hash, bool) {
	var h plumbing.Hash
	if len(s) != 2*len(h) {
		return h, false
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, false
	}
	return h, true
}

// IsAncestor reports whether c is a or an ancestor of b, walking every
// parent of b.
func (c *Commit) IsAncestor(b *Commit) (bool, error) {
	seen := map[plumbing.Hash]bool{b.Hash: true}
	queue := []*Commit{b}
	for len(queue) > 0 {
		x := queue[0]
		queue = queue[1:]
		if x.Hash == c.Hash {
			return true, nil
		}
		for _, p := range x.ParentHashes {
			if seen[p] {
				continue
			}
			seen[p] = true
			pc, err := c.repo.CommitObject(p)
			if err != nil {
				return false, err
			}
			queue = append(queue, pc)
		}
	}
	return false, nil
}
