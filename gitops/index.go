package gitops

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The index is read once and rewritten as a byte splice: the entries under
// the committed paths are replaced, every other entry is copied byte for
// byte (so flags go-git's index codec would lose, such as assume-unchanged
// and skip-worktree, survive), the cache tree (TREE) is invalidated along
// the changed paths, the resolve-undo data (REUC) is kept, and the optional
// extensions that depend on entry positions or worktree scans (UNTR, FSMN,
// EOIE, IEOT and any unknown optional one) are dropped, which git accepts
// and rebuilds. A required extension (lower-case signature: "link" split
// index, "sdir" sparse index) is refused with ErrIndexUnsupported.

const (
	idxHeaderLen   = 12
	idxEntryFixed  = 62 // stat data (40) + hash (20) + flags (2)
	idxFlagExt     = 0x4000
	idxNameMask    = 0x0fff
	idxHashLen     = 20
	idxExtSigLen   = 8
	idxMaxNamelen  = 0xfff
	idxDefaultVers = 2
)

// ientry is an index entry's stat data and hash.
type ientry struct {
	ctimeS, ctimeNs, mtimeS, mtimeNs uint32
	dev, ino, mode, uid, gid, size   uint32
	hash                             [idxHashLen]byte
	flags, ext                       uint16
}

func (e *ientry) stage() int { return int(e.flags>>12) & 3 }

// span is a run of index bytes replaced by new entries.
type span struct {
	path       string // the committed path ("" for a lone removal)
	start, end int    // byte offsets of the entries replaced
	started    bool
	closed     bool
	prevName   string // v4: name of the entry before start
	// v4: the entry at end, whose name must be re-encoded after the splice.
	nextName   string
	nextHdr    int // length of its fixed part
	nextEncLen int // length of its encoded name
	hasNext    bool
}

type rawIndex struct {
	exists     bool
	data       []byte
	version    uint32
	count      int
	entriesEnd int
	mtime      time.Time
	spans      []*span           // one per committed path, plus lone removals
	under      map[string]ientry // stage-0 entries under the paths, by name
	treeExt    []byte            // TREE payload
	reucExt    []byte            // REUC payload
}

func readIndex(p string, paths []string) (*rawIndex, error) {
	ix := &rawIndex{version: idxDefaultVers, under: map[string]ientry{}}
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		for _, q := range paths {
			ix.spans = append(ix.spans, &span{path: q, started: true, closed: true})
		}
		return ix, nil
	}
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(p); err == nil {
		ix.mtime = st.ModTime()
	}
	ix.exists = true
	ix.data = data
	if err := ix.parse(paths); err != nil {
		return nil, err
	}
	return ix, nil
}

func unsupported(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrIndexUnsupported, fmt.Sprintf(format, a...))
}

func (ix *rawIndex) parse(paths []string) error {
	d := ix.data
	if len(d) < idxHeaderLen+idxHashLen || string(d[:4]) != "DIRC" {
		return unsupported("not an index file")
	}
	ix.version = binary.BigEndian.Uint32(d[4:8])
	if ix.version < 2 || ix.version > 4 {
		return unsupported("index version %d", ix.version)
	}
	// The trailing checksum is not verified (that would hash the whole
	// index a second time); the walk below checks the structure, and the
	// entries outbox does not own are copied as they are.
	body := d[:len(d)-idxHashLen]
	ix.count = int(binary.BigEndian.Uint32(d[8:12]))

	spans := make([]*span, len(paths))
	prefixes := make([]string, len(paths))
	for i, q := range paths {
		spans[i] = &span{path: q}
		prefixes[i] = q + "/"
	}
	var removals []*span
	off := idxHeaderLen
	prev := ""
	for n := 0; n < ix.count; n++ {
		if off+idxEntryFixed > len(body) {
			return unsupported("truncated index entry")
		}
		var e ientry
		readStat(d[off:], &e)
		hdr := idxEntryFixed
		if e.flags&idxFlagExt != 0 {
			if ix.version < 3 {
				return unsupported("extended flags in a version 2 index")
			}
			e.ext = binary.BigEndian.Uint16(d[off+62:])
			hdr += 2
		}
		var name string
		var entLen, encLen int
		if ix.version == 4 {
			strip, k := decodeVarint(d[off+hdr:])
			if k == 0 || strip > uint64(len(prev)) {
				return unsupported("bad v4 path prefix")
			}
			z := bytes.IndexByte(d[off+hdr+k:len(body)], 0)
			if z < 0 {
				return unsupported("unterminated index path")
			}
			name = prev[:len(prev)-int(strip)] + string(d[off+hdr+k:off+hdr+k+z])
			encLen = k + z + 1
			entLen = hdr + encLen
		} else {
			nl := int(e.flags & idxNameMask)
			if nl == idxNameMask {
				z := bytes.IndexByte(d[off+hdr:len(body)], 0)
				if z < 0 {
					return unsupported("unterminated index path")
				}
				nl = z
			}
			if off+hdr+nl > len(body) {
				return unsupported("truncated index entry")
			}
			name = string(d[off+hdr : off+hdr+nl])
			entLen = (hdr + nl + 8) &^ 7
			encLen = entLen - hdr
		}
		if off+entLen > len(body) {
			return unsupported("truncated index entry")
		}
		for i, sp := range spans {
			pre := prefixes[i]
			switch {
			case strings.HasPrefix(name, pre):
				if !sp.started {
					sp.started, sp.start, sp.prevName = true, off, prev
				}
				sp.end = off + entLen
				if e.stage() == 0 {
					ix.under[name] = e
				}
			case sp.started && !sp.closed:
				sp.closed = true
				sp.nextName, sp.nextHdr, sp.nextEncLen, sp.hasNext = name, hdr, encLen, true
			case !sp.started && name > pre:
				sp.started, sp.closed, sp.start, sp.end, sp.prevName = true, true, off, off, prev
				sp.nextName, sp.nextHdr, sp.nextEncLen, sp.hasNext = name, hdr, encLen, true
			}
			if name == sp.path {
				// A file where the committed directory goes.
				removals = append(removals, &span{start: off, end: off + entLen, started: true, closed: true,
					prevName: prev, nextHdr: -1})
			}
		}
		// A removal's next entry is the one just after it.
		for _, r := range removals {
			if r.nextHdr == -1 && r.end == off {
				r.nextName, r.nextHdr, r.nextEncLen, r.hasNext = name, hdr, encLen, true
			}
		}
		prev = name
		off += entLen
	}
	ix.entriesEnd = off
	for _, sp := range spans {
		if !sp.started {
			sp.started, sp.start, sp.end, sp.prevName = true, off, off, prev
		}
		sp.closed = true
	}
	for _, r := range removals {
		if r.nextHdr == -1 {
			r.nextHdr = 0
		}
	}
	ix.spans = append(spans, removals...)
	sort.SliceStable(ix.spans, func(i, j int) bool {
		a, b := ix.spans[i], ix.spans[j]
		if a.start != b.start {
			return a.start < b.start
		}
		return a.end < b.end || (a.end == b.end && a.path < b.path)
	})

	// Extensions.
	for off+idxExtSigLen <= len(body) {
		sig := string(d[off : off+4])
		n := int(binary.BigEndian.Uint32(d[off+4 : off+8]))
		if off+idxExtSigLen+n > len(body) {
			return unsupported("truncated index extension %q", sig)
		}
		payload := d[off+idxExtSigLen : off+idxExtSigLen+n]
		switch {
		case sig == "TREE":
			ix.treeExt = payload
		case sig == "REUC":
			ix.reucExt = payload
		case sig[0] < 'A' || sig[0] > 'Z':
			return unsupported("required index extension %q (split or sparse index)", sig)
		}
		off += idxExtSigLen + n
	}
	if off != len(body) {
		return unsupported("trailing bytes in index")
	}
	return nil
}

func readStat(b []byte, e *ientry) {
	u := func(i int) uint32 { return binary.BigEndian.Uint32(b[i*4:]) }
	e.ctimeS, e.ctimeNs, e.mtimeS, e.mtimeNs = u(0), u(1), u(2), u(3)
	e.dev, e.ino, e.mode, e.uid, e.gid, e.size = u(4), u(5), u(6), u(7), u(8), u(9)
	copy(e.hash[:], b[40:60])
	e.flags = binary.BigEndian.Uint16(b[60:])
}

// decodeVarint is git's offset varint (index v4 path prefix lengths).
func decodeVarint(b []byte) (uint64, int) {
	if len(b) == 0 {
		return 0, 0
	}
	i := 0
	c := b[i]
	i++
	v := uint64(c & 127)
	for c&128 != 0 {
		if i >= len(b) {
			return 0, 0
		}
		v++
		c = b[i]
		i++
		v = v<<7 + uint64(c&127)
	}
	return v, i
}

func encodeVarint(v uint64) []byte {
	var buf [16]byte
	pos := len(buf) - 1
	buf[pos] = byte(v & 127)
	for v >>= 7; v != 0; v >>= 7 {
		v--
		pos--
		buf[pos] = 128 | byte(v&127)
	}
	return buf[pos:]
}

// indexName is an entry to write: its path and stat data.
type indexEntry struct {
	name string
	e    ientry
}

// encodeEntry appends one stage-0 entry.
func (ix *rawIndex) encodeEntry(out []byte, name, prev string, e *ientry) []byte {
	var b [idxEntryFixed]byte
	vals := []uint32{e.ctimeS, e.ctimeNs, e.mtimeS, e.mtimeNs, e.dev, e.ino, e.mode, e.uid, e.gid, e.size}
	for i, v := range vals {
		binary.BigEndian.PutUint32(b[i*4:], v)
	}
	copy(b[40:60], e.hash[:])
	nl := len(name)
	if nl > idxMaxNamelen {
		nl = idxMaxNamelen
	}
	binary.BigEndian.PutUint16(b[60:], uint16(nl))
	out = append(out, b[:]...)
	return ix.appendName(out, name, prev, idxEntryFixed)
}

// appendName appends an entry's encoded name after a fixed part of hdr
// bytes (padding included for v2/v3).
func (ix *rawIndex) appendName(out []byte, name, prev string, hdr int) []byte {
	if ix.version == 4 {
		common := 0
		for common < len(name) && common < len(prev) && name[common] == prev[common] {
			common++
		}
		out = append(out, encodeVarint(uint64(len(prev)-common))...)
		out = append(out, name[common:]...)
		return append(out, 0)
	}
	out = append(out, name...)
	pad := ((hdr + len(name) + 8) &^ 7) - hdr - len(name)
	return append(out, make([]byte, pad)...)
}

// splice returns the new index with the entries under each scanned path
// replaced by the scan's entries, and whether any entry changed.
func (ix *rawIndex) splice(scans []*pathScan) ([]byte, bool) {
	byPath := map[string]*pathScan{}
	var paths []string
	for _, s := range scans {
		byPath[s.path] = s
		paths = append(paths, s.path)
	}
	d := ix.data
	out := make([]byte, 0, len(d)+4096)
	out = append(out, "DIRC"...)
	out = binary.BigEndian.AppendUint32(out, ix.version)
	out = append(out, 0, 0, 0, 0) // count, patched below
	count := ix.count
	changed := false
	pos := idxHeaderLen
	last := "" // name of the last entry written (v4 prefix compression)
	for i, sp := range ix.spans {
		if pos < sp.start {
			out = append(out, d[pos:sp.start]...)
			last = sp.prevName
		}
		mark := len(out)
		if s := byPath[sp.path]; sp.path != "" && s != nil {
			for _, ne := range s.entries {
				out = ix.encodeEntry(out, ne.name, last, &ne.e)
				last = ne.name
			}
			count += len(s.entries) - ix.countEntries(sp)
		} else {
			count -= ix.countEntries(sp)
		}
		if !bytes.Equal(out[mark:], d[sp.start:sp.end]) {
			changed = true
		}
		pos = sp.end
		nextStartsHere := i+1 < len(ix.spans) && ix.spans[i+1].start == pos
		if ix.version == 4 && sp.hasNext && pos < ix.entriesEnd && !nextStartsHere {
			// Re-encode the next entry's name against its new predecessor.
			out = append(out, d[pos:pos+sp.nextHdr]...)
			out = ix.appendName(out, sp.nextName, last, sp.nextHdr)
			last = sp.nextName
			pos += sp.nextHdr + sp.nextEncLen
		}
	}
	if ix.exists {
		out = append(out, d[pos:ix.entriesEnd]...)
	}
	binary.BigEndian.PutUint32(out[8:12], uint32(count))
	if ix.treeExt != nil {
		if t, ok := invalidateTree(ix.treeExt, paths); ok {
			out = appendExt(out, "TREE", t)
		}
	}
	if ix.reucExt != nil {
		out = appendExt(out, "REUC", ix.reucExt)
	}
	sum := sha1.Sum(out)
	return append(out, sum[:]...), changed || !ix.exists
}

// countEntries counts the entries in a span by walking it.
func (ix *rawIndex) countEntries(sp *span) int {
	n := 0
	d := ix.data
	for off := sp.start; off < sp.end; n++ {
		flags := binary.BigEndian.Uint16(d[off+60:])
		hdr := idxEntryFixed
		if flags&idxFlagExt != 0 {
			hdr += 2
		}
		if ix.version == 4 {
			_, k := decodeVarint(d[off+hdr:])
			z := bytes.IndexByte(d[off+hdr+k:], 0)
			off += hdr + k + z + 1
			continue
		}
		nl := int(flags & idxNameMask)
		if nl == idxNameMask {
			nl = bytes.IndexByte(d[off+hdr:], 0)
		}
		off += (hdr + nl + 8) &^ 7
	}
	return n
}

func appendExt(out []byte, sig string, payload []byte) []byte {
	out = append(out, sig...)
	out = binary.BigEndian.AppendUint32(out, uint32(len(payload)))
	return append(out, payload...)
}

// invalidateTree rewrites a TREE extension with every node on or under a
// changed path, and every ancestor of one, marked invalid (entry count -1,
// no hash), as git's cache_tree_invalidate_path does. ok is false when the
// extension cannot be parsed; then it is dropped, which is also valid.
func invalidateTree(t []byte, paths []string) (out []byte, ok bool) {
	pos := 0
	var walk func(prefix string) bool
	walk = func(prefix string) bool {
		z := bytes.IndexByte(t[pos:], 0)
		if z < 0 {
			return false
		}
		name := string(t[pos : pos+z])
		pos += z + 1
		nl := bytes.IndexByte(t[pos:], '\n')
		if nl < 0 {
			return false
		}
		cnt, sub, found := strings.Cut(string(t[pos:pos+nl]), " ")
		pos += nl + 1
		entries, err1 := strconv.Atoi(cnt)
		subtrees, err2 := strconv.Atoi(sub)
		if !found || err1 != nil || err2 != nil || subtrees < 0 {
			return false
		}
		full := prefix + name
		var hash []byte
		if entries >= 0 {
			if pos+idxHashLen > len(t) {
				return false
			}
			hash = t[pos : pos+idxHashLen]
			pos += idxHashLen
		}
		if hash != nil && touches(full, paths) {
			entries, hash = -1, nil
		}
		out = append(out, name...)
		out = append(out, 0)
		out = append(out, fmt.Sprintf("%d %d\n", entries, subtrees)...)
		out = append(out, hash...)
		childPrefix := prefix
		if name != "" || prefix != "" {
			childPrefix = full + "/"
		}
		for i := 0; i < subtrees; i++ {
			if !walk(childPrefix) {
				return false
			}
		}
		return true
	}
	if !walk("") || pos != len(t) {
		return nil, false
	}
	return out, true
}

// touches reports whether the cache-tree node at dir (repository-relative,
// "" for the root) contains or lies inside one of paths.
func touches(dir string, paths []string) bool {
	for _, p := range paths {
		if dir == "" || dir == p || strings.HasPrefix(p, dir+"/") || strings.HasPrefix(dir, p+"/") {
			return true
		}
	}
	return false
}
