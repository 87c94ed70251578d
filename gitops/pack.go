package gitops

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Pack files, read in place: an object is looked up by binary search in the
// pack's .idx (fan-out table, sorted names, then its offset, with the 64-bit
// table for packs over 2 GiB), and read from the .pack at that offset,
// following OFS_DELTA and REF_DELTA chains to their base. Both files are
// mapped, not read, so a lookup touches a few pages whatever the size of
// the pack.

const (
	idxV2Header   = 8 // "\377tOc" + version
	idxFanoutLen  = 256 * 4
	maxDeltaDepth = 10000 // git's pack.depth is at most 4095
)

var idxMagic = []byte{0xff, 't', 'O', 'c'}

type packFile struct {
	idxPath, packPath string
	idx               []byte
	unmapIdx          func()
	version           int // of the .idx: 1 or 2
	n                 int
	freshened         bool

	opened   bool
	openErr  error
	pack     io.ReaderAt
	mapped   []byte // the .pack when mapped
	packSize int64
	release  func()
}

// scanPacks returns the packs in dir (objects/pack): the ones in have that
// are still listed, then the new ones. A pack that cannot be opened is left
// out.
func scanPacks(dir string, have []*packFile) []*packFile {
	des, err := os.ReadDir(dir)
	if err != nil {
		return have
	}
	known := map[string]bool{}
	for _, p := range have {
		known[p.idxPath] = true
	}
	out := have
	for _, de := range des {
		name := de.Name()
		if !strings.HasPrefix(name, "pack-") || !strings.HasSuffix(name, ".idx") {
			continue
		}
		ip := filepath.Join(dir, name)
		if known[ip] {
			continue
		}
		p, err := openPackIndex(ip, strings.TrimSuffix(ip, ".idx")+".pack")
		if err != nil {
			continue
		}
		out = append(out, p)
	}
	return out
}

func openPackIndex(idxPath, packPath string) (*packFile, error) {
	f, err := os.Open(idxPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	data, unmap, err := mapFile(f, st.Size())
	if err != nil {
		return nil, err
	}
	p := &packFile{idxPath: idxPath, packPath: packPath, idx: data, unmapIdx: unmap}
	if err := p.parseIdx(); err != nil {
		unmap()
		return nil, fmt.Errorf("%s: %w", idxPath, err)
	}
	return p, nil
}

func (p *packFile) parseIdx() error {
	d := p.idx
	fanout := 0
	switch {
	case len(d) >= idxV2Header && bytes.Equal(d[:4], idxMagic):
		if v := binary.BigEndian.Uint32(d[4:8]); v != 2 {
			return fmt.Errorf("unsupported pack index version %d", v)
		}
		p.version, fanout = 2, idxV2Header
	default:
		p.version = 1
	}
	if len(d) < fanout+idxFanoutLen {
		return errors.New("truncated pack index")
	}
	prev := uint32(0)
	for i := 0; i < 256; i++ {
		v := binary.BigEndian.Uint32(d[fanout+4*i:])
		if v < prev {
			return errors.New("corrupt pack index fan-out")
		}
		prev = v
	}
	p.n = int(prev)
	var min int
	if p.version == 2 {
		min = idxV2Header + idxFanoutLen + p.n*(20+4+4) + 40
	} else {
		min = idxFanoutLen + p.n*24 + 40
	}
	if len(d) < min || (p.version == 2 && (len(d)-min)%8 != 0) {
		return errors.New("pack index has the wrong size")
	}
	return nil
}

func (p *packFile) fanout(b int) int {
	base := 0
	if p.version == 2 {
		base = idxV2Header
	}
	return int(binary.BigEndian.Uint32(p.idx[base+4*b:]))
}

// name returns the i-th object name in the index.
func (p *packFile) name(i int) []byte {
	if p.version == 2 {
		o := idxV2Header + idxFanoutLen + i*20
		return p.idx[o : o+20]
	}
	o := idxFanoutLen + i*24 + 4
	return p.idx[o : o+20]
}

// find returns the offset of object h in the pack.
func (p *packFile) find(h oid) (int64, bool) {
	lo := 0
	if h[0] > 0 {
		lo = p.fanout(int(h[0]) - 1)
	}
	hi := p.fanout(int(h[0]))
	i := lo + sort.Search(hi-lo, func(k int) bool { return bytes.Compare(p.name(lo+k), h[:]) >= 0 })
	if i >= hi || !bytes.Equal(p.name(i), h[:]) {
		return 0, false
	}
	return p.offset(i), true
}

func (p *packFile) offset(i int) int64 {
	if p.version == 1 {
		return int64(binary.BigEndian.Uint32(p.idx[idxFanoutLen+i*24:]))
	}
	offs := idxV2Header + idxFanoutLen + p.n*24
	v := binary.BigEndian.Uint32(p.idx[offs+i*4:])
	if v&0x80000000 == 0 {
		return int64(v)
	}
	large := offs + p.n*4 + int(v&0x7fffffff)*8
	if large+8 > len(p.idx)-40 {
		return -1
	}
	return int64(binary.BigEndian.Uint64(p.idx[large:]))
}

// open maps (or opens) the .pack and checks that it is the one the index
// describes.
func (p *packFile) open() error {
	if p.opened {
		return p.openErr
	}
	p.opened = true
	p.openErr = p.doOpen()
	return p.openErr
}

func (p *packFile) doOpen() error {
	f, err := os.Open(p.packPath)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	p.packSize = st.Size()
	if canMmap {
		data, unmap, err := mapFile(f, p.packSize)
		f.Close()
		if err != nil {
			return err
		}
		p.mapped, p.pack, p.release = data, bytes.NewReader(data), unmap
	} else {
		p.pack, p.release = f, func() { f.Close() }
	}
	var hdr [12]byte
	if _, err := p.pack.ReadAt(hdr[:], 0); err != nil || string(hdr[:4]) != "PACK" {
		return errors.New("not a pack file")
	}
	if v := binary.BigEndian.Uint32(hdr[4:8]); v != 2 && v != 3 {
		return fmt.Errorf("unsupported pack version %d", v)
	}
	if n := binary.BigEndian.Uint32(hdr[8:12]); int(n) != p.n {
		return fmt.Errorf("pack holds %d objects, its index %d", n, p.n)
	}
	var sum [20]byte
	if p.packSize < 32 {
		return errors.New("truncated pack")
	}
	if _, err := p.pack.ReadAt(sum[:], p.packSize-20); err != nil {
		return err
	}
	if !bytes.Equal(sum[:], p.idx[len(p.idx)-40:len(p.idx)-20]) {
		return errors.New("pack does not match its index")
	}
	return nil
}

func (p *packFile) close() {
	if p.release != nil {
		p.release()
		p.release = nil
	}
	if p.unmapIdx != nil {
		p.unmapIdx()
		p.unmapIdx = nil
	}
	p.idx, p.mapped, p.pack = nil, nil, nil
}

// entryHeader is a pack entry's header.
type entryHeader struct {
	typ      objType
	size     int64 // of the inflated data (for a delta: of the delta)
	dataOff  int64 // where the zlib stream starts
	baseOff  int64 // OFS_DELTA: the base's offset
	baseHash oid   // REF_DELTA: the base's name
}

func (p *packFile) readHeader(off int64) (entryHeader, error) {
	var e entryHeader
	if off < 12 || off >= p.packSize-20 {
		return e, fmt.Errorf("bad object offset %d", off)
	}
	var buf [40]byte
	n, err := p.pack.ReadAt(buf[:], off)
	if n == 0 {
		return e, err
	}
	b := buf[:n]
	i := 0
	c := b[i]
	i++
	e.typ = objType((c >> 4) & 7)
	e.size = int64(c & 15)
	shift := uint(4)
	for c&0x80 != 0 {
		if i >= len(b) || shift > 56 {
			return e, errors.New("bad object header")
		}
		c = b[i]
		i++
		e.size |= int64(c&0x7f) << shift
		shift += 7
	}
	switch e.typ {
	case objCommit, objTree, objBlob, objTag:
	case objOfsDelta:
		if i >= len(b) {
			return e, errors.New("bad delta header")
		}
		c = b[i]
		i++
		rel := int64(c & 0x7f)
		for c&0x80 != 0 {
			if i >= len(b) || rel > 1<<55 {
				return e, errors.New("bad delta offset")
			}
			c = b[i]
			i++
			rel = (rel+1)<<7 | int64(c&0x7f)
		}
		e.baseOff = off - rel
		if rel <= 0 || e.baseOff < 12 {
			return e, errors.New("bad delta offset")
		}
	case objRefDelta:
		if i+20 > len(b) {
			return e, errors.New("bad delta header")
		}
		copy(e.baseHash[:], b[i:i+20])
		i += 20
	default:
		return e, fmt.Errorf("bad object type %d", e.typ)
	}
	e.dataOff = off + int64(i)
	if e.dataOff >= p.packSize-20 {
		return e, errors.New("truncated object")
	}
	return e, nil
}

// inflate returns the size bytes of the zlib stream at off.
func (p *packFile) inflate(s *objectStore, off, size int64) ([]byte, error) {
	if size > p.packSize*1032 || int64(int(size)) != size {
		return nil, errors.New("implausible object size")
	}
	var r io.Reader
	if p.mapped != nil {
		r = bytes.NewReader(p.mapped[off:])
	} else {
		r = bufio.NewReader(io.NewSectionReader(p.pack, off, p.packSize-off))
	}
	zr, err := s.zlibReader(r)
	if err != nil {
		return nil, err
	}
	out := make([]byte, size)
	if _, err := io.ReadFull(zr, out); err != nil {
		return nil, err
	}
	if err := expectEOF(zr); err != nil {
		return nil, err
	}
	return out, nil
}

// readObject returns the object at off, with its deltas applied.
func (p *packFile) readObject(s *objectStore, off int64, depth int) (objType, []byte, error) {
	if err := p.open(); err != nil {
		return 0, nil, err
	}
	var deltas []entryHeader
	var typ objType
	var data []byte
	for {
		if depth+len(deltas) > maxDeltaDepth {
			return 0, nil, errors.New("delta chain too deep")
		}
		e, err := p.readHeader(off)
		if err != nil {
			return 0, nil, err
		}
		if e.typ == objOfsDelta {
			deltas = append(deltas, e)
			off = e.baseOff
			continue
		}
		if e.typ == objRefDelta {
			deltas = append(deltas, e)
			if boff, ok := p.find(e.baseHash); ok {
				off = boff
				continue
			}
			// A base outside this pack.
			typ, data, err = s.readDepth(e.baseHash, depth+len(deltas))
			if err != nil {
				return 0, nil, err
			}
			break
		}
		typ = e.typ
		if data, err = p.inflate(s, e.dataOff, e.size); err != nil {
			return 0, nil, err
		}
		break
	}
	for i := len(deltas) - 1; i >= 0; i-- {
		delta, err := p.inflate(s, deltas[i].dataOff, deltas[i].size)
		if err != nil {
			return 0, nil, err
		}
		if data, err = applyDelta(data, delta); err != nil {
			return 0, nil, err
		}
	}
	return typ, data, nil
}

var errBadDelta = errors.New("corrupt delta")

// applyDelta applies git's delta format: the base and result sizes as
// little-endian base-128 varints, then copy instructions (high bit set:
// offset and size bytes selected by the low seven bits, size 0 meaning
// 0x10000) and insert instructions (1 to 127 literal bytes).
func applyDelta(base, delta []byte) ([]byte, error) {
	varint := func() (uint64, bool) {
		var v uint64
		for shift := uint(0); shift < 64; shift += 7 {
			if len(delta) == 0 {
				return 0, false
			}
			c := delta[0]
			delta = delta[1:]
			v |= uint64(c&0x7f) << shift
			if c&0x80 == 0 {
				return v, true
			}
		}
		return 0, false
	}
	srcSize, ok1 := varint()
	dstSize, ok2 := varint()
	if !ok1 || !ok2 || srcSize != uint64(len(base)) || dstSize > 1<<40 {
		return nil, errBadDelta
	}
	out := make([]byte, 0, dstSize)
	for len(delta) > 0 {
		op := delta[0]
		delta = delta[1:]
		switch {
		case op&0x80 != 0:
			var off, size uint64
			for i := uint(0); i < 4; i++ {
				if op&(1<<i) != 0 {
					if len(delta) == 0 {
						return nil, errBadDelta
					}
					off |= uint64(delta[0]) << (8 * i)
					delta = delta[1:]
				}
			}
			for i := uint(0); i < 3; i++ {
				if op&(0x10<<i) != 0 {
					if len(delta) == 0 {
						return nil, errBadDelta
					}
					size |= uint64(delta[0]) << (8 * i)
					delta = delta[1:]
				}
			}
			if size == 0 {
				size = 0x10000
			}
			if off+size > uint64(len(base)) || uint64(len(out))+size > dstSize {
				return nil, errBadDelta
			}
			out = append(out, base[off:off+size]...)
		case op != 0:
			n := int(op)
			if n > len(delta) || uint64(len(out)+n) > dstSize {
				return nil, errBadDelta
			}
			out = append(out, delta[:n]...)
			delta = delta[n:]
		default:
			return nil, errBadDelta
		}
	}
	if uint64(len(out)) != dstSize {
		return nil, errBadDelta
	}
	return out, nil
}
