package gitops

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The object store: loose objects (zlib files under objects/xx/) and packs
// (pack.go), in the repository's objects directory and its alternates. It
// replaces go-git's storage, which decodes a pack's whole .idx on first use
// (milliseconds in a repository of 100,000 files) where Commit needs a
// handful of lookups.

// oid is a SHA-1 object name.
type oid [20]byte

var zeroOID oid

func (h oid) String() string { return hex.EncodeToString(h[:]) }
func (h oid) IsZero() bool   { return h == zeroOID }

// parseOID parses a 40-digit hex object name.
func parseOID(s string) (oid, bool) {
	var h oid
	if len(s) != 2*len(h) {
		return h, false
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, false
	}
	return h, true
}

func isHash(s string) bool {
	_, ok := parseOID(s)
	return ok
}

// objType is a git object type as numbered in pack files.
type objType int8

const (
	objCommit   objType = 1
	objTree     objType = 2
	objBlob     objType = 3
	objTag      objType = 4
	objOfsDelta objType = 6
	objRefDelta objType = 7
)

func (t objType) String() string {
	switch t {
	case objCommit:
		return "commit"
	case objTree:
		return "tree"
	case objBlob:
		return "blob"
	case objTag:
		return "tag"
	}
	return "type" + strconv.Itoa(int(t))
}

func parseObjType(s []byte) objType {
	switch string(s) {
	case "commit":
		return objCommit
	case "tree":
		return objTree
	case "blob":
		return objBlob
	case "tag":
		return objTag
	}
	return 0
}

// objHeader is the "<type> <size>\x00" that precedes an object's content
// in its hash and in a loose object file.
func objHeader(t objType, size int) []byte {
	b := make([]byte, 0, 32)
	b = append(b, t.String()...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(size), 10)
	return append(b, 0)
}

func hashObject(t objType, data []byte) oid {
	h := sha1.New()
	h.Write(objHeader(t, len(data)))
	h.Write(data)
	var id oid
	h.Sum(id[:0])
	return id
}

// errObjectNotFound is returned for an object in no loose file and no pack.
var errObjectNotFound = errors.New("object not found")

// Git's tree entry modes.
const (
	modeDir        uint32 = 0o040000
	modeRegular    uint32 = 0o100644
	modeExecutable uint32 = 0o100755
	modeSymlink    uint32 = 0o120000
	modeGitlink    uint32 = 0o160000
)

// objectDir is one object directory: the repository's own or an alternate.
type objectDir struct {
	path  string
	packs []*packFile
}

// objectStore reads and writes objects. It is not safe for concurrent use.
type objectStore struct {
	dirs        []*objectDir // dirs[0] is written to; the rest are alternates
	packsLoaded bool
	zr          io.ReadCloser
	buf         bytes.Buffer
	// fsyncLoose syncs each loose object before it is renamed into place
	// (core.fsyncObjectFiles, or core.fsync naming loose objects).
	fsyncLoose bool
}

// openObjectStore opens the object directory objDir and, lazily, its packs.
// Alternates (objects/info/alternates, followed recursively as git does, up
// to five levels) are read at once.
func openObjectStore(objDir string) *objectStore {
	s := &objectStore{}
	seen := map[string]bool{}
	var add func(dir string, depth int)
	add = func(dir string, depth int) {
		dir = filepath.Clean(dir)
		if seen[dir] {
			return
		}
		seen[dir] = true
		s.dirs = append(s.dirs, &objectDir{path: dir})
		if depth >= 5 {
			return
		}
		data, err := os.ReadFile(filepath.Join(dir, "info", "alternates"))
		if err != nil {
			return
		}
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || line[0] == '#' {
				continue
			}
			if line[0] == '"' {
				if u, err := strconv.Unquote(line); err == nil {
					line = u
				}
			}
			if !filepath.IsAbs(line) {
				line = filepath.Join(dir, line)
			}
			add(line, depth+1)
		}
	}
	add(objDir, 0)
	return s
}

// Close releases the mapped pack files.
func (s *objectStore) Close() error {
	for _, d := range s.dirs {
		for _, p := range d.packs {
			p.close()
		}
		d.packs = nil
	}
	s.packsLoaded = false
	return nil
}

func (s *objectStore) loadPacks() {
	if s.packsLoaded {
		return
	}
	s.packsLoaded = true
	for _, d := range s.dirs {
		d.packs = scanPacks(filepath.Join(d.path, "pack"), d.packs)
	}
}

// reloadPacks looks for packs again (a concurrent repack may have moved
// loose objects into a new pack and removed them), keeping the open ones.
func (s *objectStore) reloadPacks() {
	s.packsLoaded = true
	for _, d := range s.dirs {
		d.packs = scanPacks(filepath.Join(d.path, "pack"), d.packs)
	}
}

func loosePath(dir string, h oid) string {
	x := h.String()
	return filepath.Join(dir, x[:2], x[2:])
}

// findPacked returns the pack holding h and its offset there.
func (s *objectStore) findPacked(h oid) (*packFile, int64, bool) {
	s.loadPacks()
	for _, d := range s.dirs {
		for _, p := range d.packs {
			if off, ok := p.find(h); ok {
				return p, off, true
			}
		}
	}
	return nil, 0, false
}

// read returns an object's type and content.
func (s *objectStore) read(h oid) (objType, []byte, error) {
	return s.readDepth(h, 0)
}

func (s *objectStore) readDepth(h oid, depth int) (objType, []byte, error) {
	if depth > maxDeltaDepth {
		return 0, nil, fmt.Errorf("object %s: delta chain too deep", h)
	}
	// A copy that cannot be read (a pack removed by a concurrent repack
	// after its index was listed, a corrupt loose file) is passed over for
	// another; its error is returned when there is none.
	var firstErr error
	for retry := 0; retry < 2; retry++ {
		for _, d := range s.dirs {
			t, data, err := s.readLoose(loosePath(d.path, h))
			if err == nil {
				return t, data, nil
			}
			if !errors.Is(err, fs.ErrNotExist) && firstErr == nil {
				firstErr = fmt.Errorf("object %s: %w", h, err)
			}
		}
		if retry == 0 {
			s.loadPacks()
		} else {
			s.reloadPacks()
		}
		for _, d := range s.dirs {
			for _, p := range d.packs {
				if off, ok := p.find(h); ok {
					t, data, err := p.readObject(s, off, depth)
					if err == nil {
						return t, data, nil
					}
					if firstErr == nil {
						firstErr = fmt.Errorf("object %s in %s: %w", h, filepath.Base(p.packPath), err)
					}
				}
			}
		}
	}
	if firstErr != nil {
		return 0, nil, firstErr
	}
	return 0, nil, fmt.Errorf("object %s: %w", h, errObjectNotFound)
}

// readTyped returns the content of an object that must be of type t.
func (s *objectStore) readTyped(t objType, h oid) ([]byte, error) {
	got, data, err := s.read(h)
	if err != nil {
		return nil, err
	}
	if got != t {
		return nil, fmt.Errorf("object %s is a %s, not a %s", h, got, t)
	}
	return data, nil
}

func (s *objectStore) readLoose(p string) (objType, []byte, error) {
	raw, err := os.ReadFile(p)
	if err != nil {
		return 0, nil, err
	}
	zr, err := s.zlibReader(bytes.NewReader(raw))
	if err != nil {
		return 0, nil, fmt.Errorf("loose object: %w", err)
	}
	br := bufio.NewReaderSize(zr, 64)
	hdr, err := br.ReadSlice(0)
	if err != nil {
		return 0, nil, fmt.Errorf("loose object: bad header: %w", err)
	}
	typ, size, ok := bytes.Cut(hdr[:len(hdr)-1], []byte{' '})
	t := parseObjType(typ)
	n, err := strconv.Atoi(string(size))
	if !ok || t == 0 || err != nil || n < 0 {
		return 0, nil, fmt.Errorf("loose object: bad header %q", hdr)
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(br, data); err != nil {
		return 0, nil, fmt.Errorf("loose object: %w", err)
	}
	if err := expectEOF(br); err != nil {
		return 0, nil, fmt.Errorf("loose object: %w", err)
	}
	return t, data, nil
}

// expectEOF checks that a zlib stream ends here (which also verifies its
// checksum).
func expectEOF(r io.Reader) error {
	var one [1]byte
	for {
		n, err := r.Read(one[:])
		if n > 0 {
			return errors.New("trailing data after object content")
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (s *objectStore) zlibReader(r io.Reader) (io.Reader, error) {
	if s.zr == nil {
		zr, err := zlib.NewReader(r)
		if err != nil {
			return nil, err
		}
		s.zr = zr
		return zr, nil
	}
	if err := s.zr.(zlib.Resetter).Reset(r, nil); err != nil {
		return nil, err
	}
	return s.zr, nil
}

// freshen reports whether the object exists, and as git does before
// skipping a write, bumps the modification time of the file holding it, so
// that a concurrent `git gc` does not prune an old unreachable object that
// a new commit is about to reference.
func (s *objectStore) freshen(h oid) bool {
	now := time.Now()
	s.loadPacks()
	for _, d := range s.dirs {
		for _, p := range d.packs {
			if _, ok := p.find(h); !ok {
				continue
			}
			if p.freshened || os.Chtimes(p.packPath, now, now) == nil {
				p.freshened = true
				return true
			}
		}
	}
	for _, d := range s.dirs {
		if os.Chtimes(loosePath(d.path, h), now, now) == nil {
			return true
		}
	}
	return false
}

// has reports whether the object exists (without freshening it).
func (s *objectStore) has(h oid) bool {
	for _, d := range s.dirs {
		if _, err := os.Lstat(loosePath(d.path, h)); err == nil {
			return true
		}
	}
	_, _, ok := s.findPacked(h)
	return ok
}

var tmpObjSeq atomic.Uint64

// zlibWriters keeps deflaters at git's default loose object level
// (core.looseCompression: best speed); a new one costs more than
// compressing a small object.
var zlibWriters = sync.Pool{New: func() any {
	zw, _ := zlib.NewWriterLevel(nil, zlib.BestSpeed)
	return zw
}}

// write stores an object as a loose object, unless it exists already, the
// way git does: deflated at git's default loose compression level into a
// temporary file (read-only, in the object's fan-out directory), then
// renamed into place. Like git by default (core.fsync), the object file is
// not synced: the branch update that makes it reachable is.
func (s *objectStore) write(t objType, data []byte) (oid, error) {
	h := hashObject(t, data)
	return h, s.writeNamed(t, data, h)
}

// writeNamed is write for an object whose name h was computed already.
func (s *objectStore) writeNamed(t objType, data []byte, h oid) error {
	if s.freshen(h) {
		return nil
	}
	s.buf.Reset()
	zw := zlibWriters.Get().(*zlib.Writer)
	zw.Reset(&s.buf)
	zw.Write(objHeader(t, len(data)))
	zw.Write(data)
	err := zw.Close()
	zlibWriters.Put(zw)
	if err != nil {
		return err
	}
	final := loosePath(s.dirs[0].path, h)
	dir := filepath.Dir(final)
	var f *os.File
	var tmp string
	for attempt := 0; ; attempt++ {
		tmp = filepath.Join(dir, fmt.Sprintf("tmp_obj_%d_%d", os.Getpid(), tmpObjSeq.Add(1)))
		var err error
		f, err = os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o444)
		if err == nil {
			break
		}
		switch {
		case errors.Is(err, fs.ErrNotExist) && attempt < 3:
			if mkErr := os.MkdirAll(dir, 0o777); mkErr != nil {
				return mkErr
			}
		case errors.Is(err, fs.ErrExist) && attempt < 100:
		default:
			return err
		}
	}
	_, err = f.Write(s.buf.Bytes())
	if err == nil && s.fsyncLoose {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
