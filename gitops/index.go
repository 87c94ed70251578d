package gitops

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The index is mapped, walked once and rewritten as a byte splice: the
// entries under the committed paths are replaced, every other entry is
// copied byte for byte (so flags go-git's index codec would lose, such as
// assume-unchanged and skip-worktree, survive), the cache tree (TREE) is
// invalidated along the changed paths, the resolve-undo data (REUC) is kept,
// and the optional extensions that depend on entry positions or worktree
// scans (UNTR, FSMN, EOIE, IEOT and any unknown optional one) are dropped,
// which git accepts and rebuilds. A required extension (lower-case
// signature: "link" split index, "sdir" sparse index) is refused with
// ErrIndexUnsupported.
//
// The walk parses no entry outside the committed paths: it reads each
// entry's name length (version 2 and 3; version 4 rebuilds prefix-compressed
// names in a reused buffer) and compares names only until the committed
// paths are passed. The new index is a list of slices of the old one and a
// few new bytes, written and checksummed concurrently (writeIndex).

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
	unmap      func()
	f          *os.File // the mapped file, kept open until close
	size       int64
	version    uint32
	count      int
	mtime      time.Time
	paths      []string
	spans      []*span           // one per committed path, plus lone removals
	under      map[string]ientry // stage-0 entries under the paths, by name
	noChecksum bool              // the trailing checksum is all zeros
	// The entries after the last span, and the extensions after them, are
	// walked by tail, concurrently with the rest of the commit.
	tail *tailWalk
}

func readIndex(p string, paths []string) (*rawIndex, error) {
	ix := &rawIndex{version: idxDefaultVers, under: map[string]ientry{}, paths: paths}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		for _, q := range paths {
			ix.spans = append(ix.spans, &span{path: q, started: true, closed: true})
		}
		ix.tail = doneTail(idxHeaderLen, nil)
		return ix, nil
	}
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	ix.mtime = st.ModTime()
	ix.data, ix.unmap, err = mapFile(f, st.Size())
	if err != nil {
		f.Close()
		return nil, err
	}
	if canMmap {
		ix.f, ix.size = f, st.Size() // see close
	} else {
		f.Close() // read into memory; where files are not renamed over while open
	}
	ix.exists = true
	if err := ix.parse(paths); err != nil {
		ix.close()
		return nil, err
	}
	return ix, nil
}

// release waits for the tail walk and unmaps the index; nothing spliced
// from it may be used afterwards. Commit releases it before renaming the
// new index over it, so that unmapping costs nothing.
func (ix *rawIndex) release() {
	if ix.tail != nil {
		ix.tail.wait()
	}
	if ix.unmap != nil {
		ix.unmap()
		ix.unmap = nil
	}
	ix.data = nil
}

// close releases the index and closes its file. Once the new index was
// renamed over it, the file is the last reference to the old index, and
// closing it makes the kernel free the old file's pages and blocks, which
// first waits for any writeback of them still in flight (such as the one
// the rename that made it the index started). Nothing needs to wait for
// that, so for a large index the file is closed in the background.
func (ix *rawIndex) close() {
	ix.release()
	if ix.f != nil {
		if ix.size >= asyncCloseMin {
			go ix.f.Close()
		} else {
			ix.f.Close()
		}
		ix.f = nil
	}
}

// asyncCloseMin is the index size from which close closes the file in the
// background.
const asyncCloseMin = 1 << 20

// check waits for the tail walk and returns what it found wrong.
func (ix *rawIndex) check() error {
	_, err := ix.tail.wait()
	return err
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
	ix.noChecksum = bytes.Equal(d[len(body):], make([]byte, idxHashLen))
	ix.count = int(binary.BigEndian.Uint32(d[8:12]))

	spans := make([]*span, len(paths))
	prefixes := make([][]byte, len(paths))
	for i, q := range paths {
		spans[i] = &span{path: q}
		prefixes[i] = []byte(q + "/")
	}
	unclosed := len(spans)
	var removals []*span
	pendingRemoval := false
	v4 := ix.version == 4
	off := idxHeaderLen
	var prev, bufA, bufB []byte
	n := 0
	for ; n < ix.count; n++ {
		if unclosed == 0 && !pendingRemoval {
			break // the rest is the tail's
		}
		if off+idxEntryFixed > len(body) {
			return unsupported("truncated index entry")
		}
		flags := binary.BigEndian.Uint16(d[off+60:])
		hdr := idxEntryFixed
		if flags&idxFlagExt != 0 {
			if ix.version < 3 {
				return unsupported("extended flags in a version 2 index")
			}
			hdr += 2
		}
		if off+hdr >= len(body) {
			return unsupported("truncated index entry")
		}
		var name []byte
		var entLen, encLen int
		if v4 {
			strip, k := decodeVarint(d[off+hdr : len(body)])
			if k == 0 || strip > uint64(len(prev)) {
				return unsupported("bad v4 path prefix")
			}
			z := bytes.IndexByte(d[off+hdr+k:len(body)], 0)
			if z < 0 {
				return unsupported("unterminated index path")
			}
			bufA = append(bufA[:0], prev[:len(prev)-int(strip)]...)
			bufA = append(bufA, d[off+hdr+k:off+hdr+k+z]...)
			name = bufA
			bufA, bufB = bufB, bufA // keep name intact while the next is built
			encLen = k + z + 1
			entLen = hdr + encLen
		} else {
			nl := int(flags & idxNameMask)
			if nl == idxNameMask {
				z := bytes.IndexByte(d[off+hdr:len(body)], 0)
				if z < 0 {
					return unsupported("unterminated index path")
				}
				nl = z
			}
			entLen = (hdr + nl + 8) &^ 7
			if off+entLen > len(body) {
				return unsupported("truncated index entry")
			}
			name = d[off+hdr : off+hdr+nl]
			encLen = entLen - hdr
		}
		if off+entLen > len(body) {
			return unsupported("truncated index entry")
		}
		if pendingRemoval {
			// A removal's next entry is the one just after it.
			pendingRemoval = false
			for _, r := range removals {
				if r.nextHdr == -1 && r.end == off {
					r.nextName, r.nextHdr, r.nextEncLen, r.hasNext = string(name), hdr, encLen, true
				}
			}
		}
		if unclosed > 0 {
			for i, sp := range spans {
				if sp.closed {
					continue
				}
				pre := prefixes[i]
				if !sp.started {
					if len(name) > 0 && name[0] < pre[0] {
						continue // before the path, and not the path itself
					}
					if c := bytes.Compare(name, pre); c < 0 {
						if string(name) == sp.path {
							// A file where the committed directory goes.
							removals = append(removals, &span{start: off, end: off + entLen, started: true,
								closed: true, prevName: string(prev), nextHdr: -1})
							pendingRemoval = true
						}
						continue
					}
				}
				if bytes.HasPrefix(name, pre) {
					if !sp.started {
						sp.started, sp.start, sp.prevName = true, off, string(prev)
					}
					sp.end = off + entLen
					var e ientry
					readStat(d[off:], &e)
					if hdr > idxEntryFixed {
						e.ext = binary.BigEndian.Uint16(d[off+idxEntryFixed:])
					}
					if e.stage() == 0 {
						ix.under[string(name)] = e
					}
					continue
				}
				// The first entry past the path.
				if !sp.started {
					sp.started, sp.start, sp.end, sp.prevName = true, off, off, string(prev)
				}
				sp.closed = true
				unclosed--
				sp.nextName, sp.nextHdr, sp.nextEncLen, sp.hasNext = string(name), hdr, encLen, true
			}
		}
		prev = name
		off += entLen
	}
	for _, sp := range spans {
		if !sp.started {
			sp.started, sp.start, sp.end, sp.prevName = true, off, off, string(prev)
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
	if n == ix.count {
		end, ext, err := ix.walkTail(off, n, len(prev), nil)
		if err != nil {
			return err
		}
		ix.tail = doneTail(end, ext)
		return nil
	}
	ix.tail = newTail(off)
	go func(off, n, prevLen int) {
		end, ext, err := ix.walkTail(off, n, prevLen, ix.tail)
		ix.tail.finish(end, ext, err)
	}(off, n, len(prev))
	return nil
}

// walkTail walks the entries from off (the n-th) to the end, reporting its
// progress to tw when not nil, then the extensions. It returns where the
// entries end and the extensions to write after them: the cache tree
// invalidated along the committed paths, and the resolve-undo data.
// Names are not looked at: for version 4, only their lengths are tracked.
func (ix *rawIndex) walkTail(off, n, prevLen int, tw *tailWalk) (int, [][]byte, error) {
	d := ix.data
	body := d[:len(d)-idxHashLen]
	v4 := ix.version == 4
	const every = 512 << 10
	next := off + every
	for ; n < ix.count; n++ {
		if off+idxEntryFixed > len(body) {
			return 0, nil, unsupported("truncated index entry")
		}
		flags := uint16(d[off+60])<<8 | uint16(d[off+61])
		hdr := idxEntryFixed
		if flags&idxFlagExt != 0 {
			if ix.version < 3 {
				return 0, nil, unsupported("extended flags in a version 2 index")
			}
			hdr += 2
		}
		if off+hdr >= len(body) {
			return 0, nil, unsupported("truncated index entry")
		}
		if v4 {
			strip, k := decodeVarint(d[off+hdr : len(body)])
			if k == 0 || strip > uint64(prevLen) {
				return 0, nil, unsupported("bad v4 path prefix")
			}
			z := bytes.IndexByte(d[off+hdr+k:len(body)], 0)
			if z < 0 {
				return 0, nil, unsupported("unterminated index path")
			}
			prevLen = prevLen - int(strip) + z
			off += hdr + k + z + 1
		} else {
			nl := int(flags & idxNameMask)
			if nl == idxNameMask {
				z := bytes.IndexByte(d[off+hdr:len(body)], 0)
				if z < 0 {
					return 0, nil, unsupported("unterminated index path")
				}
				nl = z
			}
			off += (hdr + nl + 8) &^ 7
			if off > len(body) {
				return 0, nil, unsupported("truncated index entry")
			}
		}
		if tw != nil && off >= next {
			tw.progress(off)
			next = off + every
		}
	}
	end := off
	var treeExt, reucExt []byte
	for off+idxExtSigLen <= len(body) {
		sig := string(d[off : off+4])
		n := int(binary.BigEndian.Uint32(d[off+4 : off+8]))
		if off+idxExtSigLen+n > len(body) {
			return 0, nil, unsupported("truncated index extension %q", sig)
		}
		payload := d[off+idxExtSigLen : off+idxExtSigLen+n]
		switch {
		case sig == "TREE":
			treeExt = payload
		case sig == "REUC":
			reucExt = payload
		case sig[0] < 'A' || sig[0] > 'Z':
			return 0, nil, unsupported("required index extension %q (split or sparse index)", sig)
		}
		off += idxExtSigLen + n
	}
	if off != len(body) {
		return 0, nil, unsupported("trailing bytes in index")
	}
	var ext [][]byte
	if treeExt != nil {
		if t, ok := invalidateTree(treeExt, ix.paths); ok {
			ext = append(ext, extHeader("TREE", len(t)), t)
		}
	}
	if reucExt != nil {
		ext = append(ext, extHeader("REUC", len(reucExt)), reucExt)
	}
	return end, ext, nil
}

// tailWalk is the progress of a tail walk: how far the entries are known
// to be well-formed, and at the end where they end, the extensions to
// write and the error found.
type tailWalk struct {
	mu     sync.Mutex
	cond   sync.Cond
	start  int // the first byte walked
	walked int
	done   bool
	end    int
	ext    [][]byte
	err    error
}

func newTail(start int) *tailWalk {
	tw := &tailWalk{start: start, walked: start}
	tw.cond.L = &tw.mu
	return tw
}

func doneTail(end int, ext [][]byte) *tailWalk {
	tw := newTail(end)
	tw.done, tw.end, tw.ext = true, end, ext
	return tw
}

func (tw *tailWalk) progress(off int) {
	tw.mu.Lock()
	tw.walked = off
	tw.mu.Unlock()
	tw.cond.Broadcast()
}

func (tw *tailWalk) finish(end int, ext [][]byte, err error) {
	tw.mu.Lock()
	tw.done, tw.end, tw.ext, tw.err = true, end, ext, err
	if err == nil {
		tw.walked = end
	}
	tw.mu.Unlock()
	tw.cond.Broadcast()
}

// wait blocks until the walk is done.
func (tw *tailWalk) wait() (end int, err error) {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	for !tw.done {
		tw.cond.Wait()
	}
	return tw.end, tw.err
}

// past blocks until the walk passed pos (or ended), and returns how far
// the entries are known good.
func (tw *tailWalk) past(pos int) (walked int, done bool, err error) {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	for tw.walked <= pos && !tw.done {
		tw.cond.Wait()
	}
	return tw.walked, tw.done, tw.err
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
		if i >= len(b) || v > 1<<56 {
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

// indexEntry is an entry to write: its path and stat data.
type indexEntry struct {
	name string
	e    ientry
}

// encodeEntry appends one stage-0 entry.
func (ix *rawIndex) encodeEntry(out []byte, name, prev string, e *ientry) []byte {
	var b [idxEntryFixed]byte
	vals := [...]uint32{e.ctimeS, e.ctimeNs, e.mtimeS, e.mtimeNs, e.dev, e.ino, e.mode, e.uid, e.gid, e.size}
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

// indexPlan is the new index, without its trailing checksum: head, then
// the old index's entries from from to the end of its entries (as the tail
// walk vouches for them), then the extensions the tail walk prepared.
type indexPlan struct {
	ix   *rawIndex
	head [][]byte
	from int // -1: no old entries follow
}

// each passes the plan's bytes to fn in order.
func (p *indexPlan) each(fn func([]byte) error) error {
	for _, b := range p.head {
		if err := fn(b); err != nil {
			return err
		}
	}
	tw := p.ix.tail
	if p.from >= 0 {
		for pos := p.from; ; {
			walked, done, err := tw.past(pos)
			if err != nil {
				return err
			}
			if walked > pos {
				if err := fn(p.ix.data[pos:walked]); err != nil {
					return err
				}
				pos = walked
			}
			if done {
				break
			}
		}
	}
	if _, err := tw.wait(); err != nil {
		return err
	}
	for _, b := range tw.ext {
		if err := fn(b); err != nil {
			return err
		}
	}
	return nil
}

// splice plans the new index, most of it slices of the mapped old one,
// with the entries under each scanned path replaced by the scan's entries,
// and reports whether any entry changed.
func (ix *rawIndex) splice(scans []*pathScan) (*indexPlan, bool) {
	byPath := map[string]*pathScan{}
	for _, s := range scans {
		byPath[s.path] = s
	}
	d := ix.data
	header := make([]byte, 0, idxHeaderLen)
	header = append(header, "DIRC"...)
	header = binary.BigEndian.AppendUint32(header, ix.version)
	header = append(header, 0, 0, 0, 0) // count, patched below
	plan := &indexPlan{ix: ix, head: [][]byte{header}, from: -1}
	count := ix.count
	changed := false
	pos := idxHeaderLen
	last := "" // name of the last entry written (v4 prefix compression)
	for i, sp := range ix.spans {
		if pos < sp.start {
			plan.head = append(plan.head, d[pos:sp.start])
			last = sp.prevName
		}
		var seg []byte
		if s := byPath[sp.path]; sp.path != "" && s != nil {
			for _, ne := range s.entries {
				seg = ix.encodeEntry(seg, ne.name, last, &ne.e)
				last = ne.name
			}
			count += len(s.entries) - ix.countEntries(sp)
		} else {
			count -= ix.countEntries(sp)
		}
		if !bytes.Equal(seg, d[sp.start:sp.end]) {
			changed = true
		}
		pos = sp.end
		nextStartsHere := i+1 < len(ix.spans) && ix.spans[i+1].start == pos
		if ix.version == 4 && sp.hasNext && !nextStartsHere {
			// Re-encode the next entry's name against its new predecessor.
			seg = append(seg, d[pos:pos+sp.nextHdr]...)
			seg = ix.appendName(seg, sp.nextName, last, sp.nextHdr)
			last = sp.nextName
			pos += sp.nextHdr + sp.nextEncLen
		}
		if len(seg) > 0 {
			plan.head = append(plan.head, seg)
		}
	}
	if ix.exists {
		plan.from = pos
	}
	binary.BigEndian.PutUint32(header[8:12], uint32(count))
	return plan, changed || !ix.exists
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

func extHeader(sig string, n int) []byte {
	return binary.BigEndian.AppendUint32([]byte(sig), uint32(n))
}

// indexWriter writes a new index into index.lock in the background, while
// Commit writes the commit and moves the branch: git's order too (the index
// is prepared in its lock file first, and renamed into place only after the
// branch moved).
type indexWriter struct {
	done chan struct{}
	err  error
}

// writeIndex starts writing the plan and the trailing checksum into f: the
// SHA-1 of the plan's bytes, computed while another goroutine writes them,
// or zeros when checksum is false (index.skipHash). sync syncs the file
// (core.fsync naming the index; git does not sync it by default).
func writeIndex(f *os.File, plan *indexPlan, checksum, sync bool) *indexWriter {
	w := &indexWriter{done: make(chan struct{})}
	go func() {
		defer close(w.done)
		type result struct {
			sum []byte
			err error
		}
		var sums chan result
		if checksum {
			sums = make(chan result, 1)
			go func() {
				h := sha1.New()
				err := plan.each(func(b []byte) error {
					// In slices, letting the commit's goroutine run in
					// between: hashing would hold a CPU for milliseconds.
					for len(b) > 0 {
						n := min(len(b), hashSlice)
						h.Write(b[:n])
						b = b[n:]
						runtime.Gosched()
					}
					return nil
				})
				sums <- result{h.Sum(nil), err}
			}()
		}
		bw := bufio.NewWriterSize(f, 64<<10)
		w.err = plan.each(func(b []byte) error {
			_, err := bw.Write(b)
			return err
		})
		sum := make([]byte, idxHashLen)
		if checksum {
			r := <-sums
			if w.err == nil {
				w.err = r.err
			}
			sum = r.sum
		}
		if w.err == nil {
			bw.Write(sum)
			w.err = bw.Flush()
		}
		if w.err == nil && sync {
			w.err = f.Sync()
		}
	}()
	return w
}

// hashSlice is how much the index checksum hashes between yields.
const hashSlice = 512 << 10

// wait returns once the index is written; safe to call more than once and
// on a nil writer.
func (w *indexWriter) wait() error {
	if w == nil {
		return nil
	}
	<-w.done
	return w.err
}

// invalidateTree rewrites a TREE extension with every node on or under a
// changed path, and every ancestor of one, marked invalid (entry count -1,
// no hash), as git's cache_tree_invalidate_path does. ok is false when the
// extension cannot be parsed; then it is dropped, which is also valid.
// Nodes off the changed paths are copied as they are.
func invalidateTree(t []byte, paths []string) (out []byte, ok bool) {
	out = make([]byte, 0, len(t))
	pos := 0
	// node parses the node at pos: its name, counts and the end of its
	// header (after the hash when there is one).
	node := func() (name []byte, entries, subtrees, end int, ok bool) {
		z := bytes.IndexByte(t[pos:], 0)
		if z < 0 {
			return nil, 0, 0, 0, false
		}
		name = t[pos : pos+z]
		p := pos + z + 1
		nl := bytes.IndexByte(t[p:], '\n')
		if nl < 0 {
			return nil, 0, 0, 0, false
		}
		cnt, sub, found := bytes.Cut(t[p:p+nl], []byte{' '})
		p += nl + 1
		e, err1 := strconv.Atoi(string(cnt))
		s, err2 := strconv.Atoi(string(sub))
		if !found || err1 != nil || err2 != nil || s < 0 {
			return nil, 0, 0, 0, false
		}
		if e >= 0 {
			if p+idxHashLen > len(t) {
				return nil, 0, 0, 0, false
			}
			p += idxHashLen
		}
		return name, e, s, p, true
	}
	// skip passes over the subtree at pos.
	var skip func() bool
	skip = func() bool {
		_, _, subtrees, end, ok := node()
		if !ok {
			return false
		}
		pos = end
		for i := 0; i < subtrees; i++ {
			if !skip() {
				return false
			}
		}
		return true
	}
	var walk func(prefix string) bool
	walk = func(prefix string) bool {
		start := pos
		nameB, entries, subtrees, end, ok := node()
		if !ok {
			return false
		}
		name := string(nameB)
		full := prefix + name
		if !touches(full, paths) {
			// Untouched, and so is everything under it: copied.
			pos = start
			if !skip() {
				return false
			}
			out = append(out, t[start:pos]...)
			return true
		}
		pos = end
		if entries >= 0 {
			entries = -1
		}
		out = append(out, name...)
		out = append(out, 0)
		out = strconv.AppendInt(out, int64(entries), 10)
		out = append(out, ' ')
		out = strconv.AppendInt(out, int64(subtrees), 10)
		out = append(out, '\n')
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
