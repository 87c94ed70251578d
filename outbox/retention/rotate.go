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

// covered returns how many leading bytes of data the archive at p already
// holds (with the archives before it): the prefix it covers, if data starts
// with exactly that prefix; otherwise 0.
func covered(p string, data []byte) int {
	f, err := os.Open(p)
	if err != nil {
		return 0
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		return 0
	}
	m := archiveCommentRe().FindStringSubmatch(zr.Comment)
	if m == nil {
		return 0
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n <= 0 || n > len(data) {
		return 0
	}
	sum := sha256.Sum256(data[:n])
	if hex.EncodeToString(sum[:]) != m[2] {
		return 0
	}
	return n
}

// cutPoint is where ledger data is cut so that at most keep bytes (whole
// lines) stay live: after the first newline at or past len(data)-keep. It
// never cuts inside a line (a torn last line always stays) and never
// before done.
func cutPoint(data []byte, keep int64, done int) int {
	end := bytes.LastIndexByte(data, '\n') + 1
	target := int64(len(data)) - keep
	switch {
	case target <= int64(done):
		return done
	case target >= int64(end):
		return max(end, done)
	}
	t := int(target)
	if data[t-1] == '\n' {
		return t
	}
	return t + bytes.IndexByte(data[t:], '\n') + 1
}

// rotate moves the oldest lines of ledger.jsonl, all but the newest keep
// bytes, into a new archive. It holds the flock that ledger.Append takes
// from before it reads the ledger until the kept tail has been renamed
// over it, so no appended line is lost: an appender waiting on the old
// file finds that it is no longer ledger.jsonl and reopens. The archive is
// compressed before the flock is taken (the ledger only grows at its end,
// which the flocked read checks), so appenders wait for a read, a write of
// the tail and two renames, not for the compression.
//
// Order, for crashes: the archive is written in tmp/, fsynced and renamed
// into place first; then the kept tail, with the rotation's ledger line
// appended, is written in tmp/ and renamed over ledger.jsonl. A crash in
// between leaves the rotated lines in both; the archive's header says which
// prefix it covers, and the next rotation drops that prefix without
// archiving it again.
func (r *run) rotate(keep int64) error {
	path := r.dir.LedgerPath()
	early, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	pl, err := r.plan(early, keep)
	if err != nil || pl == nil {
		return err
	}
	defer pl.cleanup()
	f, err := lockLedger(path)
	if err != nil || f == nil {
		return err
	}
	defer f.Close() // drops the flock, after the rename
	data, err := io.ReadAll(f)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if !bytes.HasPrefix(data, early[:pl.cut]) { // rewritten meanwhile (by git?): plan again, under the flock
		pl.cleanup()
		if pl, err = r.plan(data, keep); err != nil || pl == nil {
			return err
		}
		defer pl.cleanup()
	}
	return r.commit(pl, data)
}

// rotation is a rotation planned on a ledger's content.
type rotation struct {
	Rotation
	cut     int    // bytes of the ledger that leave it
	archTmp string // the compressed archive in tmp/, "" when the lines are already archived
	reason  string
}

func (pl *rotation) cleanup() {
	if pl.archTmp != "" {
		os.Remove(pl.archTmp) // a no-op after the rename
	}
}

// plan decides the cut and writes the archive to tmp/; nil when there is
// nothing to rotate.
func (r *run) plan(data []byte, keep int64) (*rotation, error) {
	as, err := listArchives(r.dir.Root)
	if err != nil {
		return nil, err
	}
	done := 0
	if len(as) > 0 {
		done = covered(filepath.Join(r.dir.Root, as[len(as)-1].name), data)
	}
	cut := cutPoint(data, keep, done)
	if cut == 0 {
		return nil, nil
	}
	pl := &rotation{cut: cut}
	pl.Lines, pl.LedgerBytes = bytes.Count(data[:cut], []byte{'\n'}), int64(cut)
	chunk := data[done:cut]
	if len(chunk) == 0 {
		pl.reason = fmt.Sprintf(whatRotated+"%d lines already in %s (an interrupted rotation completed)",
			pl.Lines, as[len(as)-1].name)
		return pl, nil
	}
	seq := 1
	if len(as) > 0 {
		seq = as[len(as)-1].seq + 1
	}
	first, last := lineTS(chunk, true), lineTS(chunk, false)
	ft, err := time.Parse(time.RFC3339Nano, first)
	if err != nil {
		ft = r.o.Now
	}
	pl.Archive = fmt.Sprintf("ledger-%06d-%s.jsonl.gz", seq, ft.UTC().Format(archiveTSLayout))
	lines := bytes.Count(chunk, []byte{'\n'})
	pl.archTmp, pl.ArchiveBytes, err = writeArchive(r.dir.TmpPath(), chunk,
		archiveComment(lines, cut, sha256.Sum256(data[:cut])), r.o.Now)
	if err != nil {
		return nil, err
	}
	pl.reason = fmt.Sprintf(whatRotated+"%d lines (%s .. %s) into %s (%d -> %d bytes)",
		lines, first, last, pl.Archive, len(chunk), pl.ArchiveBytes)
	return pl, nil
}

// commit makes a planned rotation of data, the ledger's content read
// under its flock: archive into place, then the kept tail (with the
// rotation's line) over ledger.jsonl.
func (r *run) commit(pl *rotation, data []byte) error {
	path := r.dir.LedgerPath()
	tailTmp := filepath.Join(r.dir.TmpPath(), ".ledger-rotate-"+randSuffix()+".jsonl")
	if err := writeSynced(tailTmp, data[pl.cut:]); err != nil {
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

// writeArchive writes chunk gzip-compressed to a new file in tmpDir and
// fsyncs it.
func writeArchive(tmpDir string, chunk []byte, comment string, now time.Time) (string, int64, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	if err != nil {
		return "", 0, err
	}
	zw.Name, zw.Comment, zw.ModTime = ledgerName, comment, now
	if _, err := zw.Write(chunk); err != nil {
		return "", 0, err
	}
	if err := zw.Close(); err != nil {
		return "", 0, err
	}
	p := filepath.Join(tmpDir, ".ledger-archive-"+randSuffix()+".gz")
	if err := writeSynced(p, buf.Bytes()); err != nil {
		return "", 0, err
	}
	return p, int64(buf.Len()), nil
}

// writeSynced creates p (O_EXCL), writes data and fsyncs it.
func writeSynced(p string, data []byte) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	serr := f.Sync()
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

// lineTS returns the "ts" of the first (or last) line of chunk, or "".
func lineTS(chunk []byte, first bool) string {
	chunk = bytes.TrimRight(chunk, "\n")
	var l []byte
	if first {
		l, _, _ = bytes.Cut(chunk, []byte{'\n'})
	} else {
		l = chunk[bytes.LastIndexByte(chunk, '\n')+1:]
	}
	var w wireLine
	if json.Unmarshal(l, &w) != nil {
		return ""
	}
	return w.TS
}
