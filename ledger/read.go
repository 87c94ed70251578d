package ledger

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// maxLine bounds one ledger line; longer lines are reported as malformed.
const maxLine = 1 << 20

// Scan calls fn for every line of the ledger at path, in file order. A
// missing ledger has no lines. A line that is not a ledger entry stops the
// scan with an error naming the file and line, except a torn last line (a
// crash mid-append), which is skipped.
func Scan(path string, fn func(Entry) error) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	defer f.Close()
	return scan(path, f, fn)
}

func scan(name string, r io.Reader, fn func(Entry) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for n := 1; ; n++ {
		raw, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			raw, err = readLong(br, raw)
		}
		if errors.Is(err, io.EOF) {
			return nil // empty, or a torn tail without newline: skipped
		}
		if err != nil {
			return fmt.Errorf("ledger: %s:%d: %w", name, n, err)
		}
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 {
			continue
		}
		var l line
		if err := json.Unmarshal(raw, &l); err != nil {
			return fmt.Errorf("ledger: %s:%d: %w: %v", name, n, ErrMalformedLine, err)
		}
		e, err := l.entry()
		if err != nil || l.Action == "" {
			return fmt.Errorf("ledger: %s:%d: %w: bad ts, next_due or action", name, n, ErrMalformedLine)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
}

func readLong(br *bufio.Reader, first []byte) ([]byte, error) {
	buf := append([]byte(nil), first...)
	for {
		more, err := br.ReadSlice('\n')
		buf = append(buf, more...)
		if len(buf) > maxLine {
			return nil, fmt.Errorf("%w: line longer than %d bytes", ErrMalformedLine, maxLine)
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return buf, err
		}
	}
}

// ReadAll returns every entry of the ledger at path.
func ReadAll(path string) ([]Entry, error) {
	var out []Entry
	err := Scan(path, func(e Entry) error {
		out = append(out, e)
		return nil
	})
	return out, err
}

// HasKey reports whether an enqueued line with idempotency key key exists in
// the ledger at path. It searches the raw bytes for the encoded key, then
// confirms each hit by parsing its line, so it costs one read of the file.
func HasKey(path, key string) (bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("ledger: %w", err)
	}
	var needle bytes.Buffer
	needle.WriteString(`"key":`)
	enc := json.NewEncoder(&needle)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(key); err != nil {
		return false, err
	}
	nb := bytes.TrimSuffix(needle.Bytes(), []byte("\n"))
	for off := 0; ; {
		i := bytes.Index(data[off:], nb)
		if i < 0 {
			return false, nil
		}
		i += off
		start := bytes.LastIndexByte(data[:i], '\n') + 1
		end := bytes.IndexByte(data[i:], '\n')
		if end < 0 {
			return false, nil // torn tail
		}
		var l line
		if json.Unmarshal(data[start:i+end], &l) == nil && l.Key == key && l.Action == ActionEnqueued {
			return true, nil
		}
		off = i + end
	}
}
