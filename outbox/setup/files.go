package setup

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spec-kit/outbox/internal/durable"
	"github.com/spec-kit/outbox/outbox/config"
)

// Comments that head the lines Init adds to .gitattributes and .gitignore.
const (
	attributesComment = "# outbox: webhooks ledgers are append-only; merge=union keeps the lines of both sides"
	ignoreComment     = "# outbox: webhooks half-written files and locks, also of SPECs not created yet"
)

// Pattern turns spool_dir into a repository-relative git pattern: every
// {spec_id} becomes *, which matches one path component. An absolute
// spool_dir must lie inside root. Characters that are special in git
// patterns are escaped; whitespace, quotes and control characters, which
// .gitattributes cannot hold unquoted, are refused, as is a spool_dir
// outside the repository.
func Pattern(root, spoolDir string) (string, error) {
	dir := filepath.FromSlash(spoolDir)
	if filepath.IsAbs(dir) {
		rel, err := filepath.Rel(root, dir)
		if err != nil || !filepath.IsLocal(rel) {
			return "", fmt.Errorf("spool_dir %q is outside the repository", spoolDir)
		}
		dir = rel
	}
	p := path.Clean(filepath.ToSlash(dir))
	if !filepath.IsLocal(filepath.FromSlash(p)) {
		return "", fmt.Errorf("spool_dir %q is outside the repository", spoolDir)
	}
	parts := strings.Split(p, config.SpecIDPlaceholder)
	if len(parts) < 2 {
		return "", fmt.Errorf("spool_dir %q has no %s", spoolDir, config.SpecIDPlaceholder)
	}
	for i, part := range parts {
		var b strings.Builder
		for j := 0; j < len(part); j++ {
			switch c := part[j]; {
			case c <= ' ' || c == 0x7f || c == '"':
				return "", fmt.Errorf("spool_dir %q holds a space, a quote or a control character, which .gitattributes cannot match: add its lines by hand", spoolDir)
			case c == '\\' || c == '*' || c == '?' || c == '[' || c == ']':
				b.WriteByte('\\')
				b.WriteByte(c)
			case i == 0 && j == 0 && (c == '#' || c == '!'):
				b.WriteByte('\\')
				b.WriteByte(c)
			default:
				b.WriteByte(c)
			}
		}
		parts[i] = b.String()
	}
	return strings.Join(parts, "*"), nil
}

// AttributeLines are the .gitattributes lines for pattern: the ledger and
// its archives merge by union, so two branches that both appended lines
// merge without a conflict.
func AttributeLines(pattern string) []string {
	return []string{
		attributesComment,
		pattern + "/ledger.jsonl merge=union",
		pattern + "/ledger-*.jsonl merge=union",
	}
}

// IgnoreLines are the .gitignore lines for pattern: tmp/ (half-written
// files, deliver.log) and the lock files.
func IgnoreLines(pattern string) []string {
	return []string{
		ignoreComment,
		pattern + "/tmp/",
		pattern + "/*.lock",
		pattern + "/.lock",
	}
}

func isComment(line string) bool { return strings.HasPrefix(line, "#") }

// hasAttributeLine: line sets, for want's pattern (with or without a
// leading /), at least want's attributes.
func hasAttributeLine(line, want string) bool {
	if isComment(want) {
		return strings.TrimSpace(line) == want
	}
	got, w := strings.Fields(line), strings.Fields(want)
	if len(got) == 0 || strings.TrimPrefix(got[0], "/") != strings.TrimPrefix(w[0], "/") {
		return false
	}
	for _, attr := range w[1:] {
		found := false
		for _, g := range got[1:] {
			if g == attr {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// hasIgnoreLine: line is want, with or without a leading / and trailing
// blanks.
func hasIgnoreLine(line, want string) bool {
	if isComment(want) {
		return strings.TrimSpace(line) == want
	}
	return strings.TrimPrefix(strings.TrimRight(line, " \t\r"), "/") == strings.TrimPrefix(want, "/")
}

// splitLines splits data into lines without their line endings.
func splitLines(data []byte) []string {
	if len(data) == 0 {
		return nil
	}
	lines := strings.Split(string(data), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}

// appendBlock returns data with block appended: data is left as it is, a
// missing final line ending is added, and a blank line separates the block
// from what came before. The block takes the file's line endings (CRLF when
// its first line ends with CRLF).
func appendBlock(data []byte, block string) []byte {
	eol := "\n"
	if i := bytes.IndexByte(data, '\n'); i > 0 && data[i-1] == '\r' {
		eol = "\r\n"
		block = strings.ReplaceAll(block, "\n", "\r\n")
	}
	out := make([]byte, 0, len(data)+len(block)+4)
	out = append(out, data...)
	if len(data) > 0 {
		if !bytes.HasSuffix(data, []byte("\n")) {
			out = append(out, eol...)
		}
		if !bytes.HasSuffix(out, []byte(eol+eol)) {
			out = append(out, eol...)
		}
	}
	return append(out, block...)
}

// replace writes data over the file atomically: a temp file in the same
// directory, with the file's mode (0644 for a new file), fsynced, renamed
// over it, and the directory fsynced. It refuses when the file changed (or
// appeared) since it was read, rather than lose that change.
func (c *current) replace(data []byte) error {
	st, err := os.Stat(c.path)
	switch {
	case c.exists && err != nil:
		return fmt.Errorf("%s: %w", c.path, err)
	case c.exists && (st.Size() != c.size || st.ModTime().UnixNano() != c.mtime):
		return fmt.Errorf("%s changed while outbox init was running: run it again", c.path)
	case !c.exists && err == nil:
		return fmt.Errorf("%s appeared while outbox init was running: run it again", c.path)
	}
	dir := filepath.Dir(c.path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(c.path)+".outbox-*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	merr := tmp.Chmod(c.mode)
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, merr, serr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", c.path, err)
	}
	if err := os.Rename(tmp.Name(), c.path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return durable.SyncDir(dir)
}
