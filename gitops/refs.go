package gitops

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// headState is what HEAD points at.
type headState struct {
	ref      string // "refs/heads/x"; "" when detached
	detached bool
}

func readHead(gitDir string) (headState, error) {
	data, err := os.ReadFile(filepath.Join(gitDir, "HEAD"))
	if err != nil {
		return headState{}, err
	}
	s := strings.TrimSpace(string(data))
	if ref, ok := strings.CutPrefix(s, "ref:"); ok {
		ref = strings.TrimSpace(ref)
		if !strings.HasPrefix(ref, "refs/heads/") || !validRefName(ref) {
			return headState{}, fmt.Errorf("HEAD points to %q, not a branch", ref)
		}
		return headState{ref: ref}, nil
	}
	if !isHash(s) {
		return headState{}, fmt.Errorf("unreadable HEAD %q", s)
	}
	return headState{detached: true}, nil
}

func validRefName(ref string) bool {
	for _, seg := range strings.Split(ref, "/") {
		if seg == "" || seg == "." || seg == ".." || strings.HasPrefix(seg, ".") || strings.HasSuffix(seg, ".lock") {
			return false
		}
	}
	return !strings.ContainsAny(ref, " ~^:?*[\\\x7f") && !strings.Contains(ref, "..") && !strings.Contains(ref, "@{")
}

// refFile is the loose file that holds the value moved by the commit.
func (h headState) refFile(gitDir, commonDir string) string {
	if h.detached {
		return filepath.Join(gitDir, "HEAD")
	}
	return filepath.Join(commonDir, filepath.FromSlash(h.ref))
}

// readRef returns the current value of the branch (zero: unborn).
func readRef(commonDir, refFile string, h headState) (oid, error) {
	data, err := os.ReadFile(refFile)
	if err == nil {
		s := strings.TrimSpace(string(data))
		if !isHash(s) {
			return zeroOID, fmt.Errorf("unreadable ref %s: %q", refFile, s)
		}
		h, _ := parseOID(s)
		return h, nil
	}
	if !errors.Is(err, fs.ErrNotExist) && !isDirErr(refFile) {
		return zeroOID, err
	}
	if h.detached {
		return zeroOID, err
	}
	return packedRef(commonDir, h.ref)
}

func isDirErr(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// packedRef looks ref up in packed-refs; zero when it is not there.
func packedRef(commonDir, ref string) (oid, error) {
	f, err := os.Open(filepath.Join(commonDir, "packed-refs"))
	if errors.Is(err, fs.ErrNotExist) {
		return zeroOID, nil
	}
	if err != nil {
		return zeroOID, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	want := []byte(" " + ref)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 || line[0] == '#' || line[0] == '^' {
			continue
		}
		if bytes.HasSuffix(line, want) && len(line) == 40+len(want) {
			if h, ok := parseOID(string(line[:40])); ok {
				return h, nil
			}
		}
	}
	return zeroOID, sc.Err()
}

var errRefMoved = errors.New("ref moved")

// updateRef moves the ref from old to new with git's protocol: take
// <ref>.lock exclusively (waiting up to timeout for another git), check the
// ref still holds old (loose file, else packed-refs), write new into the
// lock, append the reflogs, rename the lock over the ref. errRefMoved when
// the ref no longer holds old.
func updateRef(gitDir, commonDir, refFile string, h headState, old, new oid, who Identity, now time.Time, msg string, timeout time.Duration) error {
	lock, err := acquireLock(refFile, timeout)
	if err != nil {
		return err
	}
	defer lock.rollback()
	cur, err := readRef(commonDir, refFile, h)
	if err != nil {
		return err
	}
	if cur != old {
		return errRefMoved
	}
	subject, _, _ := strings.Cut(strings.TrimSpace(msg), "\n")
	kind := "commit"
	if old.IsZero() {
		kind = "commit (initial)"
	}
	line := fmt.Sprintf("%s %s %s <%s> %d %s\t%s: %s\n", old, new, who.Name, who.Email,
		now.Unix(), now.Format("-0700"), kind, subject)
	if !h.detached {
		appendReflog(filepath.Join(commonDir, "logs", filepath.FromSlash(h.ref)), line)
	}
	appendReflog(filepath.Join(gitDir, "logs", "HEAD"), line)
	return lock.commit([]byte(new.String()+"\n"), true)
}

// appendReflog appends one line; a reflog is a convenience, so failing to
// write it does not fail the commit (git behaves the same for HEAD's log).
func appendReflog(p, line string) {
	if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
		return
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o666)
	if err != nil {
		return
	}
	f.WriteString(line)
	f.Close()
}
