package spool

import (
	"bytes"
	"strings"
)

// decodeFast reads the exact layout Encode writes with its literal body
// block: the header comment, one "key: value" line per field in file order
// (plain scalars, or double-quoted ones without escapes), then "body: |-"
// and the body's lines indented by two spaces. It is several times faster
// than the YAML decoder, which runs on every delivery attempt. ok is false
// for anything else (a file written by another encoder, edited by hand, or
// with a body that needed quoting), and the caller falls back to the YAML
// decoder. The body checksum is verified by the caller either way.
func decodeFast(data []byte) (f file, ok bool) {
	f, body, ok := decodeFastBody(data)
	f.Body = string(body)
	return f, ok
}

// decodeFastBody is decodeFast with the body apart, as Delivery keeps it:
// the body is copied once, and the header's values share one string.
func decodeFastBody(data []byte) (f file, body []byte, ok bool) {
	rest, ok := bytes.CutPrefix(data, []byte(header))
	if !ok {
		return f, nil, false
	}
	// The nine header lines, converted to a string at once: the values
	// are substrings of it.
	end := 0
	for range len(fastKeys) {
		i := bytes.IndexByte(rest[end:], '\n')
		if i < 0 {
			return f, nil, false
		}
		end += i + 1
	}
	head := string(rest[:end])
	rest = rest[end:]
	fields := [...]*string{nil, &f.ID, &f.EventID, &f.Event, &f.Spec, &f.Subscription,
		&f.IdempotencyKey, &f.CreatedAt, &f.BodySHA256}
	for i, key := range fastKeys {
		line, after, _ := strings.Cut(head, "\n")
		head = after
		v, ok := scalar(line, key)
		if !ok {
			return f, nil, false
		}
		if i == 0 {
			if v != "1" {
				return f, nil, false
			}
			f.Version = 1
			continue
		}
		*fields[i] = v
	}
	lit, ok := bytes.CutPrefix(rest, []byte("body: |-\n"))
	if !ok {
		return f, nil, false
	}
	b := make([]byte, 0, len(lit))
	for i := 0; len(lit) > 0; i++ {
		line, after, found := bytes.Cut(lit, []byte("\n"))
		if !found {
			return f, nil, false // Encode ends every line with a newline
		}
		lit = after
		if i > 0 {
			b = append(b, '\n')
		}
		if len(line) == 0 {
			continue
		}
		content, ok := bytes.CutPrefix(line, []byte("  "))
		if !ok {
			return f, nil, false
		}
		b = append(b, content...)
	}
	// Only a body that Encode itself writes as a literal block reads the
	// same here and in YAML (which, for one, reads a line of spaces as an
	// empty line).
	if !literalSafe(b) {
		return f, nil, false
	}
	return f, b, true
}

// fastKeys are the header's keys, in the order Encode writes them.
var fastKeys = [...]string{"version", "id", "event_id", "event", "spec", "subscription",
	"idempotency_key", "created_at", "body_sha256"}

// yamlWords are plain words YAML reads as something other than a string.
var yamlWords = [...]string{"null", "true", "false", "yes", "no", "on", "off", "y", "n"}

// scalar returns the value of a "key: value" line when it is a plain
// scalar that cannot mean anything but its text, or a double-quoted one of
// printable ASCII without escapes. The value is a substring of line.
func scalar(line, key string) (string, bool) {
	v, ok := strings.CutPrefix(line, key)
	if !ok {
		return "", false
	}
	if v, ok = strings.CutPrefix(v, ": "); !ok || len(v) == 0 {
		return "", false
	}
	if v[0] == '"' {
		if len(v) < 2 || v[len(v)-1] != '"' {
			return "", false
		}
		for _, c := range []byte(v[1 : len(v)-1]) {
			// Control characters and invalid UTF-8 make YAML reject the
			// file, some other characters break lines: the YAML decoder's
			// business.
			if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
				return "", false
			}
		}
		return v[1 : len(v)-1], true
	}
	for _, c := range []byte(v) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '/' || c == ':') {
			return "", false
		}
	}
	if len(v) <= len("false") {
		for _, w := range yamlWords {
			if strings.EqualFold(v, w) {
				return "", false
			}
		}
	}
	if strings.HasPrefix(v, "-") || strings.HasSuffix(v, ":") {
		return "", false
	}
	return v, true
}
