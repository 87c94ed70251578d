package gitops

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// dirNode is a directory as found on disk, with its tree hash.
type dirNode struct {
	children []treeEnt
	hash     oid
	files    int // files at any depth
}

// treeEnt is one tree entry; dir is set for a directory scanned from disk.
type treeEnt struct {
	name string
	mode uint32
	hash oid
	dir  *dirNode
}

// pathScan is one committed path as found on disk: its tree (nil when it
// holds no file) and its index entries, sorted by name.
type pathScan struct {
	path    string
	root    *dirNode
	entries []indexEntry
}

func scanPath(repoRoot, p string, exclude func(string) bool, ix *rawIndex, ow *objectWriter) (*pathScan, error) {
	s := &pathScan{path: p}
	abs := filepath.Join(repoRoot, filepath.FromSlash(p))
	fi, err := os.Lstat(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%w: %s is not a directory", ErrBadPath, p)
	}
	s.root, err = s.scanDir(abs, p, exclude, ix, ow)
	if err != nil {
		return nil, err
	}
	sort.Slice(s.entries, func(i, j int) bool { return s.entries[i].name < s.entries[j].name })
	return s, nil
}

func (s *pathScan) scanDir(abs, rel string, exclude func(string) bool, ix *rawIndex, ow *objectWriter) (*dirNode, error) {
	des, err := os.ReadDir(abs)
	if err != nil {
		return nil, err
	}
	n := &dirNode{}
	for _, de := range des {
		name := de.Name()
		if name == ".git" {
			continue
		}
		crel := rel + "/" + name
		if exclude != nil && exclude(crel) {
			continue
		}
		cabs := filepath.Join(abs, name)
		switch t := de.Type(); {
		case t.IsDir():
			sub, err := s.scanDir(cabs, crel, exclude, ix, ow)
			if err != nil {
				return nil, err
			}
			if sub != nil {
				n.children = append(n.children, treeEnt{name: name, mode: modeDir, hash: sub.hash, dir: sub})
				n.files += sub.files
			}
		case t.IsRegular() || t&fs.ModeSymlink != 0:
			ent, ok, err := s.scanFile(cabs, crel, t&fs.ModeSymlink != 0, ix, ow)
			if err != nil {
				return nil, err
			}
			if ok {
				ent.name = name
				n.children = append(n.children, ent)
				n.files++
			}
		}
	}
	if len(n.children) == 0 {
		return nil, nil
	}
	sortTree(n.children)
	n.hash, err = ow.writeTree(n.children)
	return n, err
}

// scanFile hashes one file (reusing the index's hash when its stat data
// shows the file unchanged since git hashed it), writes the blob when the
// object store lacks it and records the file's index entry. ok is false when
// the file vanished meanwhile.
func (s *pathScan) scanFile(abs, rel string, symlink bool, ix *rawIndex, ow *objectWriter) (treeEnt, bool, error) {
	var e ientry
	var data []byte
	if symlink {
		fi, err := os.Lstat(abs)
		if err != nil {
			return treeEnt{}, false, ignoreGone(err)
		}
		target, err := os.Readlink(abs)
		if err != nil {
			return treeEnt{}, false, ignoreGone(err)
		}
		data = []byte(target)
		fillStat(fi, &e)
		e.mode = uint32(modeSymlink)
	} else {
		f, err := os.Open(abs)
		if err != nil {
			return treeEnt{}, false, ignoreGone(err)
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return treeEnt{}, false, err
		}
		fillStat(fi, &e)
		e.mode = uint32(modeRegular)
		if fi.Mode()&0o111 != 0 {
			e.mode = uint32(modeExecutable)
		}
		if old, ok := ix.under[rel]; ok && ix.statClean(&old, &e) {
			e.hash = old.hash
			s.entries = append(s.entries, indexEntry{name: rel, e: e})
			return treeEnt{mode: uint32(e.mode), hash: oid(e.hash)}, true, nil
		}
		// Read until the stat data before and after the read agree, so the
		// index never pairs stat data with content it does not describe.
		for try := 0; ; try++ {
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return treeEnt{}, false, err
			}
			data, err = io.ReadAll(f)
			if err != nil {
				return treeEnt{}, false, err
			}
			fi2, err := f.Stat()
			if err != nil {
				return treeEnt{}, false, err
			}
			var e2 ientry
			fillStat(fi2, &e2)
			e2.mode = e.mode
			if (e2 == e && int64(len(data)) == fi2.Size()) || try == 5 {
				e = e2
				break
			}
			e = e2
		}
	}
	h, err := ow.write(objBlob, data)
	if err != nil {
		return treeEnt{}, false, err
	}
	e.hash = h
	s.entries = append(s.entries, indexEntry{name: rel, e: e})
	return treeEnt{mode: uint32(e.mode), hash: h}, true, nil
}

func ignoreGone(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// statClean reports whether the index entry old still describes the file
// whose fresh stat data is cur, and was not written racily (in the same
// instant as the index, when git itself would not trust it).
func (ix *rawIndex) statClean(old, cur *ientry) bool {
	if ix.mtime.IsZero() || old.ext != 0 || old.mode != cur.mode || old.size != cur.size ||
		old.mtimeS != cur.mtimeS || old.mtimeNs != cur.mtimeNs || old.ctimeS != cur.ctimeS ||
		old.ctimeNs != cur.ctimeNs || old.ino != cur.ino || old.dev != cur.dev {
		return false
	}
	m := time.Unix(int64(old.mtimeS), int64(old.mtimeNs))
	return m.Before(ix.mtime)
}

// sortTree sorts entries in git's tree order: by name, a directory's name
// compared as if it ended in "/".
func sortTree(es []treeEnt) {
	key := func(e treeEnt) string {
		if e.mode == modeDir {
			return e.name + "/"
		}
		return e.name
	}
	sort.Slice(es, func(i, j int) bool { return key(es[i]) < key(es[j]) })
}

// objectWriter writes objects into the repository's object store. While
// defer is set, write only computes the object's name and keeps the object
// for flush: the scan names the blobs and trees it finds, the index can be
// built from those names, and the object files are written meanwhile.
type objectWriter struct {
	st      *objectStore
	defer_  bool
	pending []pendingObject
}

type pendingObject struct {
	t    objType
	data []byte
	h    oid
}

func (w *objectWriter) write(t objType, data []byte) (oid, error) {
	if w.defer_ {
		h := hashObject(t, data)
		w.pending = append(w.pending, pendingObject{t, data, h})
		return h, nil
	}
	return w.st.write(t, data)
}

// flush writes the deferred objects and stops deferring.
func (w *objectWriter) flush() error {
	w.defer_ = false
	seen := make(map[oid]bool, len(w.pending))
	for _, p := range w.pending {
		if seen[p.h] {
			continue
		}
		seen[p.h] = true
		if err := w.st.writeNamed(p.t, p.data, p.h); err != nil {
			return err
		}
	}
	w.pending = nil
	return nil
}

func (w *objectWriter) writeTree(es []treeEnt) (oid, error) {
	n := 0
	for _, e := range es {
		n += 8 + len(e.name) + len(e.hash)
	}
	b := make([]byte, 0, n)
	for _, e := range es {
		b = strconv.AppendUint(b, uint64(e.mode), 8)
		b = append(b, ' ')
		b = append(b, e.name...)
		b = append(b, 0)
		b = append(b, e.hash[:]...)
	}
	return w.write(objTree, b)
}

// readObject returns the content of an object of type t.
func (w *objectWriter) readObject(t objType, h oid) ([]byte, error) {
	return w.st.readTyped(t, h)
}

// readTree parses a tree object: "<octal mode> <name>\x00<20-byte hash>"
// entries. (Parsed here rather than with go-git's object package, which
// would link OpenPGP and its start-up cost into every outbox process.)
func (w *objectWriter) readTree(h oid) ([]treeEnt, error) {
	data, err := w.readObject(objTree, h)
	if err != nil {
		return nil, fmt.Errorf("reading tree %s: %w", h, err)
	}
	var es []treeEnt
	for len(data) > 0 {
		sp := bytes.IndexByte(data, ' ')
		nul := bytes.IndexByte(data, 0)
		if sp <= 0 || nul < sp || len(data) < nul+1+20 {
			return nil, fmt.Errorf("reading tree %s: malformed entry", h)
		}
		mode, err := strconv.ParseUint(string(data[:sp]), 8, 32)
		if err != nil {
			return nil, fmt.Errorf("reading tree %s: bad mode %q", h, data[:sp])
		}
		var eh oid
		copy(eh[:], data[nul+1:nul+21])
		es = append(es, treeEnt{name: string(data[sp+1 : nul]), mode: uint32(mode), hash: eh})
		data = data[nul+21:]
	}
	return es, nil
}

// commitTree returns the tree of a commit: its first header line.
func (w *objectWriter) commitTree(h oid) (oid, error) {
	data, err := w.readObject(objCommit, h)
	if err != nil {
		return zeroOID, fmt.Errorf("reading commit %s: %w", h, err)
	}
	hexTree, ok := bytes.CutPrefix(data, []byte("tree "))
	if !ok || len(hexTree) < 40 {
		return zeroOID, fmt.Errorf("reading commit %s: no tree", h)
	}
	t, ok := parseOID(string(hexTree[:40]))
	if !ok {
		return zeroOID, fmt.Errorf("reading commit %s: bad tree", h)
	}
	return t, nil
}

// commit writes a commit object in git's format.
func (w *objectWriter) commit(tree, parent oid, msg string, author, committer Identity, now time.Time) (oid, error) {
	if !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "tree %s\n", tree)
	if !parent.IsZero() {
		fmt.Fprintf(&b, "parent %s\n", parent)
	}
	stamp := fmt.Sprintf("%d %s", now.Unix(), now.Format("-0700"))
	fmt.Fprintf(&b, "author %s <%s> %s\n", crud(author.Name), crud(author.Email), stamp)
	fmt.Fprintf(&b, "committer %s <%s> %s\n", crud(committer.Name), crud(committer.Email), stamp)
	b.WriteString("\n")
	b.WriteString(msg)
	return w.write(objCommit, b.Bytes())
}

// emptyTree is git's empty tree, for a root whose last file was removed.
var emptyTree, _ = parseOID("4b825dc642cb6eb9a060e54bf8d69288fbee4904")

// apply returns the root tree of oldRoot with each scanned path replaced by
// its scan, writing new trees along the changed paths only, and the number
// of files that differ.
func (w *objectWriter) apply(oldRoot oid, scans []*pathScan) (oid, int, error) {
	changes := make([]change, len(scans))
	for i, s := range scans {
		changes[i] = change{comps: strings.Split(s.path, "/"), node: s.root}
	}
	h, n, err := w.rewrite(oldRoot, changes)
	if err == nil && h.IsZero() && !oldRoot.IsZero() {
		h, err = w.write(objTree, nil)
	}
	return h, n, err
}

type change struct {
	comps []string
	node  *dirNode
}

func (w *objectWriter) rewrite(old oid, changes []change) (oid, int, error) {
	var es []treeEnt
	if !old.IsZero() && old != emptyTree {
		var err error
		if es, err = w.readTree(old); err != nil {
			return zeroOID, 0, err
		}
	}
	groups := map[string][]change{}
	var names []string
	for _, c := range changes {
		if _, ok := groups[c.comps[0]]; !ok {
			names = append(names, c.comps[0])
		}
		groups[c.comps[0]] = append(groups[c.comps[0]], c)
	}
	files := 0
	for _, name := range names {
		group := groups[name]
		at := -1
		for i := range es {
			if es[i].name == name {
				at = i
				break
			}
		}
		var cur treeEnt
		if at >= 0 {
			cur = es[at]
		}
		var next *treeEnt
		if len(group) == 1 && len(group[0].comps) == 1 {
			node := group[0].node
			n, err := w.countDiff(cur, node)
			if err != nil {
				return zeroOID, 0, err
			}
			files += n
			if node != nil {
				next = &treeEnt{name: name, mode: modeDir, hash: node.hash}
			}
		} else {
			sub := zeroOID
			if at >= 0 && cur.mode == modeDir {
				sub = cur.hash
			}
			rest := make([]change, len(group))
			for i, c := range group {
				rest[i] = change{comps: c.comps[1:], node: c.node}
			}
			h, n, err := w.rewrite(sub, rest)
			if err != nil {
				return zeroOID, 0, err
			}
			files += n
			switch {
			case !h.IsZero():
				if at >= 0 && cur.mode != modeDir {
					files++ // a file replaced by the directory
				}
				next = &treeEnt{name: name, mode: modeDir, hash: h}
			case at >= 0 && cur.mode != modeDir:
				next = &cur // nothing to commit there: keep the file
			}
		}
		switch {
		case next != nil && at >= 0:
			es[at] = *next
		case next != nil:
			es = append(es, *next)
		case at >= 0:
			es = append(es[:at], es[at+1:]...)
		}
	}
	if len(es) == 0 {
		return zeroOID, files, nil
	}
	sortTree(es)
	h, err := w.writeTree(es)
	return h, files, err
}

// countDiff counts the files that differ between the old entry at a
// committed path (zero value: none) and the directory found on disk (nil:
// none).
func (w *objectWriter) countDiff(old treeEnt, node *dirNode) (int, error) {
	switch {
	case node == nil && old.hash.IsZero():
		return 0, nil
	case node == nil:
		return w.countFiles(old)
	case old.hash.IsZero():
		return node.files, nil
	case old.mode != modeDir:
		return 1 + node.files, nil
	case old.hash == node.hash:
		return 0, nil
	}
	oes, err := w.readTree(old.hash)
	if err != nil {
		return 0, err
	}
	byName := make(map[string]treeEnt, len(oes))
	for _, e := range oes {
		byName[e.name] = e
	}
	n := 0
	for _, c := range node.children {
		o, ok := byName[c.name]
		delete(byName, c.name)
		switch {
		case c.dir != nil:
			k, err := w.countDiff(o, c.dir)
			if err != nil {
				return 0, err
			}
			n += k
		case !ok:
			n++
		case o.mode == modeDir:
			k, err := w.countFiles(o)
			if err != nil {
				return 0, err
			}
			n += 1 + k
		case o.hash != c.hash || o.mode != c.mode:
			n++
		}
	}
	for _, o := range byName {
		k, err := w.countFiles(o)
		if err != nil {
			return 0, err
		}
		n += k
	}
	return n, nil
}

func (w *objectWriter) countFiles(e treeEnt) (int, error) {
	if e.mode != modeDir {
		return 1, nil
	}
	es, err := w.readTree(e.hash)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range es {
		k, err := w.countFiles(c)
		if err != nil {
			return 0, err
		}
		n += k
	}
	return n, nil
}

// crud drops what would break a commit header's identity, as git does.
func crud(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		switch r {
		case '<', '>', '\n', '\r', 0:
			return -1
		}
		return r
	}, s))
}
