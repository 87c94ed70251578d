package retention

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spec-kit/outbox/internal/lazyre"
	"github.com/spec-kit/outbox/ledger"
)

// archiveRe matches an archive's name: ledger-<seq>-<first-ts>.jsonl.gz,
// seq from 1, first-ts the time of its first line (UTC, to the second).
var archiveRe = lazyre.New(`^ledger-([0-9]{6,})-([0-9]{8}T[0-9]{6}Z)\.jsonl\.gz$`)

const archiveTSLayout = "20060102T150405Z"

// archive is one archive file beside ledger.jsonl.
type archive struct {
	name string
	seq  int
	size int64
}

// listArchives returns the archives in dir, oldest (lowest seq) first.
func listArchives(dir string) ([]archive, error) {
	files, err := listFiles(dir, false)
	if err != nil {
		return nil, err
	}
	var out []archive
	for _, f := range files {
		m := archiveRe().FindStringSubmatch(f.name)
		if m == nil {
			continue
		}
		seq, err := strconv.Atoi(m[1])
		if err != nil {
			continue
		}
		out = append(out, archive{name: f.name, seq: seq, size: f.size})
	}
	slices.SortFunc(out, func(a, b archive) int {
		if a.seq != b.seq {
			return a.seq - b.seq
		}
		return strings.Compare(a.name, b.name)
	})
	return out, nil
}

// archivesSize is the total size of as.
func archivesSize(as []archive) int64 {
	var n int64
	for _, a := range as {
		n += a.size
	}
	return n
}

// ledgerStep rotates the ledger when it holds more than LedgerKeepBytes,
// then drops archives beyond their budget, oldest first, while the
// directory is over the low-water mark.
func (r *run) ledgerStep() error {
	if r.ledger > r.o.LedgerKeepBytes {
		if err := r.rotate(r.o.LedgerKeepBytes); err != nil {
			return err
		}
	}
	return r.dropArchives(r.o.ArchiveBytes)
}

// minLastRotation is the least ledger size worth rotating as a last resort.
const minLastRotation = 1024

// lastResort runs when everything evictable is gone and the directory is
// still over: the whole live ledger is rotated, and archives are dropped,
// oldest first, until it is under the low-water mark or none is left.
func (r *run) lastResort() error {
	if r.ledger > minLastRotation {
		if err := r.rotate(0); err != nil {
			return err
		}
	}
	return r.dropArchives(0)
}

// dropArchives drops archives, oldest first, while they weigh more than
// budget and the directory is over the low-water mark.
func (r *run) dropArchives(budget int64) error {
	as, err := listArchives(r.dir.Root)
	if err != nil {
		return err
	}
	left := archivesSize(as)
	for _, a := range as {
		if left <= budget || r.total <= r.o.LowWater {
			return nil
		}
		if err := r.drop(a); err != nil {
			return err
		}
		left -= a.size
	}
	return nil
}

// drop removes an archive after recording, in the live ledger, what it
// held: its lines, their time span, and the evictions it recorded (carried
// into Tally's totals).
func (r *run) drop(a archive) error {
	p := filepath.Join(r.dir.Root, a.name)
	var t tallier
	st, err := readArchive(p, t.add)
	var reason string
	if err != nil {
		reason = fmt.Sprintf(whatArchive+"%s dropped: unreadable after %d lines", a.name, st.lines)
	} else {
		reason = fmt.Sprintf(whatArchive+"%s dropped: %d lines (%s .. %s)", a.name, st.lines, st.first, st.last)
	}
	reason += carried(t.totals())
	e := ledger.Entry{Time: r.o.Now, Action: ledger.ActionEvicted, Reason: r.reason() + reason, Bytes: a.size}
	if err := ledger.Append(r.dir.LedgerPath(), e); err != nil {
		return err
	}
	r.ledgerGrew()
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := syncDir(r.dir.Root); err != nil {
		return err
	}
	r.total -= a.size
	r.rep.ArchivesDropped.add(1, a.size)
	return nil
}

// archiveStats describes the lines of an archive.
type archiveStats struct {
	lines       int
	first, last string // timestamps of the first and last line
}

// readArchive calls fn for each line of the archive at p.
func readArchive(p string, fn func(wireLine)) (archiveStats, error) {
	var st archiveStats
	f, err := os.Open(p)
	if err != nil {
		return st, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		return st, err
	}
	err = eachLine(zr, func(l wireLine) {
		st.lines++
		if st.first == "" {
			st.first = l.TS
		}
		st.last = l.TS
		fn(l)
	})
	return st, err
}

// archiveComment is the gzip header comment of an archive: the length and
// SHA-256 of the ledger prefix it completes (counted from the start of
// ledger.jsonl as it was when the archive was written), which lets the
// next rotation recognise a rotation interrupted before ledger.jsonl was
// rewritten.
var archiveCommentRe = lazyre.New(`covers ([0-9]+) bytes sha256 ([0-9a-f]{64})`)

func archiveComment(lines int, covers int, sum [32]byte) string {
	return fmt.Sprintf("outbox ledger archive: %d lines; ledger.jsonl prefix: covers %d bytes sha256 %s",
		lines, covers, hex.EncodeToString(sum[:]))
}

// covered returns how many leading bytes of the ledger v the archive at p
// already holds (with the archives before it): the prefix it covers, if the
// ledger starts with exactly that prefix; otherwise 0. Only an error
// reading the ledger is returned; an unreadable archive covers nothing.
func covered(p string, v *view) (int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, nil
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		return 0, nil
	}
	m := archiveCommentRe().FindStringSubmatch(zr.Comment)
	if m == nil {
		return 0, nil
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || n <= 0 || n > v.size {
		return 0, nil
	}
	var d digest
	if err := d.read(v, 0, n); err != nil {
		return 0, err
	}
	if sum := d.sum(); hex.EncodeToString(sum[:]) != m[2] {
		return 0, nil
	}
	return n, nil
}

// cutAt is where the ledger v is cut so that at most keep bytes (whole
// lines) stay live: after the first newline at or past v.size-keep. It
// never cuts inside a line (a torn last line always stays) and never
// before done. It reads backwards from the end to the last newline, and
// forwards from the target to the next one.
func cutAt(v *view, keep, done int64) (int64, error) {
	target := v.size - keep
	if target <= done {
		return done, nil
	}
	last, err := v.lastIndexByte(done, v.size, '\n')
	if err != nil || last < 0 { // no whole line past done
		return done, err
	}
	end := last + 1
	if target >= end {
		return end, nil
	}
	// A newline at target-1 ends the line before the target; else the cut
	// is after the line that holds it, which ends at end-1 or before (so
	// the search finds a newline).
	nl, err := v.index(target-1, end, '\n')
	if err != nil {
		return 0, err
	}
	return nl + 1, nil
}

// rotate moves the oldest lines of ledger.jsonl, all but the newest keep
// bytes, into a new archive. It holds the flock that ledger.Append takes
// from before it checks the ledger until the kept tail has been renamed
// over it, so no appended line is lost: an appender waiting on the old
// file finds that it is no longer ledger.jsonl and reopens. The archive is
// compressed before the flock is taken (the ledger only grows at its end,
// and the flocked check compares the SHA-256 of the prefix that leaves),
// so appenders wait for a hash of that prefix, a copy of the tail and two
// renames, not for the compression.
//
// The ledger is streamed through buffers of a fixed size (see view), never
// read whole: memory does not grow with the ledger.
//
// Order, for crashes: the archive is written in tmp/, fsynced and renamed
// into place first; then the kept tail, with the rotation's ledger line
// appended, is written in tmp/ and renamed over ledger.jsonl. A crash in
// between leaves the rotated lines in both; the archive's header says which
// prefix it covers, and the next rotation drops that prefix without
// archiving it again.
func (r *run) rotate(keep int64) error {
	path := r.dir.LedgerPath()
	pl, err := r.planUnlocked(path, keep)
	if err != nil || pl == nil {
		return err
	}
	defer pl.cleanup()
	f, err := lockLedger(path)
	if err != nil || f == nil {
		return err
	}
	defer f.Close() // drops the flock, after the rename
	size, err := fileSize(f)
	if err != nil {
		return err
	}
	same, err := pl.matches(newView(f, size, path))
	if err != nil {
		return err
	}
	if !same { // rewritten meanwhile (by git?): plan again, under the flock
		pl.cleanup()
		if pl, err = r.plan(f, size, keep); err != nil || pl == nil {
			return err
		}
		defer pl.cleanup()
	}
	return r.commit(pl, f, size)
}

// planUnlocked plans a rotation of the ledger at path without its flock;
// nil when there is nothing to rotate (or no ledger). The plan reads one
// open file: appenders only add to its end, and whatever replaces it (git,
// another rotation) is a new file, so the bytes it plans on do not change
// while it reads them.
func (r *run) planUnlocked(path string, keep int64) (*rotation, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size, err := fileSize(f)
	if err != nil {
		return nil, err
	}
	return r.plan(f, size, keep)
}

// fileSize is the size of the open file f.
func fileSize(f *os.File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// rotation is a rotation planned on a ledger's content. It keeps what it
// decided and the SHA-256 of the prefix that leaves the ledger, never the
// ledger's bytes.
type rotation struct {
	Rotation
	cut     int64    // bytes of the ledger that leave it
	sum     [32]byte // SHA-256 of those bytes
	archTmp string   // the compressed archive in tmp/, "" when the lines are already archived
	reason  string
}

func (pl *rotation) cleanup() {
	if pl.archTmp != "" {
		os.Remove(pl.archTmp) // a no-op after the rename
	}
}

// matches reports whether the ledger v still starts with the bytes pl was
// planned on.
func (pl *rotation) matches(v *view) (bool, error) {
	if v.size < pl.cut {
		return false, nil
	}
	var d digest
	if err := d.read(v, 0, pl.cut); err != nil {
		return false, err
	}
	return d.sum() == pl.sum, nil
}

// plan decides the cut in the first size bytes of the ledger ra and writes
// the archive to tmp/; nil when there is nothing to rotate.
func (r *run) plan(ra io.ReaderAt, size, keep int64) (*rotation, error) {
	v := newView(ra, size, r.dir.LedgerPath())
	as, err := listArchives(r.dir.Root)
	if err != nil {
		return nil, err
	}
	var done int64
	if len(as) > 0 {
		if done, err = covered(filepath.Join(r.dir.Root, as[len(as)-1].name), v); err != nil {
			return nil, err
		}
	}
	cut, err := cutAt(v, keep, done)
	if err != nil || cut == 0 {
		return nil, err
	}
	// One pass over what leaves: its hash, and its lines before and after
	// done (the archive's header, written before its data, holds both).
	var d digest
	if err := d.read(v, 0, done); err != nil {
		return nil, err
	}
	archived := d.lines
	if err := d.read(v, done, cut); err != nil {
		return nil, err
	}
	pl := &rotation{cut: cut, sum: d.sum()}
	pl.Lines, pl.LedgerBytes = d.lines, cut
	if done == cut {
		pl.reason = fmt.Sprintf(whatRotated+"%d lines already in %s (an interrupted rotation completed)",
			pl.Lines, as[len(as)-1].name)
		return pl, nil
	}
	seq := 1
	if len(as) > 0 {
		seq = as[len(as)-1].seq + 1
	}
	first, err := firstTS(v, done, cut)
	if err != nil {
		return nil, err
	}
	last, err := lastTS(v, done, cut)
	if err != nil {
		return nil, err
	}
	ft, err := time.Parse(time.RFC3339Nano, first)
	if err != nil {
		ft = r.o.Now
	}
	pl.Archive = fmt.Sprintf("ledger-%06d-%s.jsonl.gz", seq, ft.UTC().Format(archiveTSLayout))
	lines := d.lines - archived
	pl.archTmp, pl.ArchiveBytes, err = writeArchive(r.dir.TmpPath(), v, done, cut,
		archiveComment(lines, int(cut), pl.sum), r.o.Now)
	if err != nil {
		return nil, err
	}
	pl.reason = fmt.Sprintf(whatRotated+"%d lines (%s .. %s) into %s (%d -> %d bytes)",
		lines, first, last, pl.Archive, cut-done, pl.ArchiveBytes)
	return pl, nil
}

// digest is the SHA-256 and the line count of a ledger prefix, read in
// order.
type digest struct {
	h     hash.Hash
	lines int
}

// read adds the bytes [from, to) of v.
func (d *digest) read(v *view, from, to int64) error {
	if d.h == nil {
		d.h = sha256.New()
	}
	return v.copyTo(d, from, to)
}

// Write adds b; it never fails.
func (d *digest) Write(b []byte) (int, error) {
	d.lines += bytes.Count(b, []byte{'\n'})
	return d.h.Write(b)
}

// sum is the SHA-256 of the bytes read.
func (d *digest) sum() [32]byte {
	if d.h == nil {
		d.h = sha256.New()
	}
	return [32]byte(d.h.Sum(nil))
}

// commit makes a planned rotation of the ledger f, held under its flock
// and size bytes long: archive into place, then the kept tail (with the
// rotation's line) over ledger.jsonl.
func (r *run) commit(pl *rotation, f *os.File, size int64) error {
	path := r.dir.LedgerPath()
	tailTmp := filepath.Join(r.dir.TmpPath(), ".ledger-rotate-"+randSuffix()+".jsonl")
	err := createSynced(tailTmp, func(w *os.File) error {
		return newView(f, size, path).copyTo(w, pl.cut, size)
	})
	if err != nil {
		return err
	}
	defer os.Remove(tailTmp) // a no-op after the rename
	freed := max(pl.LedgerBytes-pl.ArchiveBytes, 0)
	e := ledger.Entry{Time: r.o.Now, Action: ledger.ActionEvicted, Reason: r.reason() + pl.reason, Bytes: freed}
	if err := ledger.Append(tailTmp, e); err != nil {
		return err
	}
	if pl.archTmp != "" {
		dst := filepath.Join(r.dir.Root, pl.Archive)
		if _, err := os.Lstat(dst); err == nil {
			return fmt.Errorf("archive %s exists", dst)
		}
		if err := os.Rename(pl.archTmp, dst); err != nil {
			return err
		}
		if err := syncDir(r.dir.Root); err != nil {
			return err
		}
	}
	if err := os.Rename(tailTmp, path); err != nil {
		return err
	}
	if err := syncDir(r.dir.Root); err != nil {
		return err
	}
	st, err := os.Lstat(path)
	if err != nil {
		return err
	}
	r.total += st.Size() + pl.ArchiveBytes - r.ledger
	r.ledger = st.Size()
	r.rep.Rotations = append(r.rep.Rotations, pl.Rotation)
	return nil
}

// lockLedger opens the ledger and takes the exclusive flock that
// ledger.Append takes, making sure the file it holds is still the one named
// path (ledger.openLocked does the same). It returns nil for a missing
// ledger.
func lockLedger(path string) (*os.File, error) {
	for {
		f, err := os.Open(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		for {
			err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
			if err != syscall.EINTR {
				break
			}
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		held, err1 := f.Stat()
		named, err2 := os.Stat(path)
		if err1 == nil && err2 == nil && os.SameFile(held, named) {
			return f, nil
		}
		f.Close()
	}
}

// archiveBufSize is the buffer between the compressor and the archive
// file.
const archiveBufSize = 64 << 10

// writeArchive writes the bytes [from, to) of v gzip-compressed to a new
// file in tmpDir, fsynced, and returns its path and size.
func writeArchive(tmpDir string, v *view, from, to int64, comment string, now time.Time) (string, int64, error) {
	p := filepath.Join(tmpDir, ".ledger-archive-"+randSuffix()+".gz")
	var size int64
	err := createSynced(p, func(f *os.File) error {
		bw := bufio.NewWriterSize(f, archiveBufSize)
		zw, err := gzip.NewWriterLevel(bw, gzip.DefaultCompression)
		if err != nil {
			return err
		}
		zw.Name, zw.Comment, zw.ModTime = ledgerName, comment, now
		if err := v.copyTo(zw, from, to); err != nil {
			return err
		}
		if err := zw.Close(); err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		size, err = f.Seek(0, io.SeekCurrent)
		return err
	})
	if err != nil {
		return "", 0, err
	}
	return p, size, nil
}

// createSynced creates p (O_EXCL), lets write fill it and fsyncs it; p is
// removed if any of that fails.
func createSynced(p string, write func(*os.File) error) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	werr := write(f)
	var serr error
	if werr == nil {
		serr = f.Sync()
	}
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(p)
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}

func randSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// firstTS returns the "ts" of the first line in [from, to) of v, or "".
func firstTS(v *view, from, to int64) (string, error) {
	end, err := v.index(from, to, '\n')
	if err != nil {
		return "", err
	}
	if end < 0 {
		end = to
	}
	return lineTS(v, from, end)
}

// lastTS returns the "ts" of the last line in [from, to) of v (blank lines
// at its end aside), or "".
func lastTS(v *view, from, to int64) (string, error) {
	end, err := v.lastIndex(from, to, func(b []byte) int {
		for i := len(b) - 1; i >= 0; i-- {
			if b[i] != '\n' {
				return i
			}
		}
		return -1
	})
	if err != nil || end < 0 {
		return "", err
	}
	end++
	start, err := v.lastIndexByte(from, end, '\n')
	if err != nil {
		return "", err
	}
	if start < 0 {
		start = from
	} else {
		start++
	}
	return lineTS(v, start, end)
}

// lineTS returns the "ts" of the line [from, to) of v, or "" when it is not
// a JSON object (or longer than maxLineRead).
func lineTS(v *view, from, to int64) (string, error) {
	l, ok, err := v.line(from, to)
	if err != nil || !ok {
		return "", err
	}
	var w wireLine
	if json.Unmarshal(l, &w) != nil {
		return "", nil
	}
	return w.TS, nil
}
