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
	rest, ok := bytes.CutPrefix(data, []byte(header))
	if !ok {
		return f, false
	}
	fields := []*string{nil, &f.ID, &f.EventID, &f.Event, &f.Spec, &f.Subscription,
		&f.IdempotencyKey, &f.CreatedAt, &f.BodySHA256}
	keys := []string{"version", "id", "event_id", "event", "spec", "subscription",
		"idempotency_key", "created_at", "body_sha256"}
	for i, key := range keys {
		line, after, found := bytes.Cut(rest, []byte("\n"))
		if !found {
			return f, false
		}
		rest = after
		v, ok := scalar(line, key)
		if !ok {
			return f, false
		}
		if i == 0 {
			if v != "1" {
				return f, false
			}
			f.Version = 1
			continue
		}
		*fields[i] = v
	}
	body, ok := bytes.CutPrefix(rest, []byte("body: |-\n"))
	if !ok {
		return f, false
	}
	b := make([]byte, 0, len(body))
	for i := 0; len(body) > 0; i++ {
		line, after, found := bytes.Cut(body, []byte("\n"))
		if !found {
			return f, false // Encode ends every line with a newline
		}
		body = after
		if i > 0 {
			b = append(b, '\n')
		}
		if len(line) == 0 {
			continue
		}
		content, ok := bytes.CutPrefix(line, []byte("  "))
		if !ok {
			return f, false
		}
		b = append(b, content...)
	}
	// Only a body that Encode itself writes as a literal block reads the
	// same here and in YAML (which, for one, reads a line of spaces as an
	// empty line).
	if !literalSafe(b) {
		return f, false
	}
	f.Body = string(b)
	return f, true
}

// scalar returns the value of a "key: value" line when it is a plain
// scalar that cannot mean anything but its text, or a double-quoted one of
// printable ASCII without escapes.
func scalar(line []byte, key string) (string, bool) {
	v, ok := bytes.CutPrefix(line, []byte(key+": "))
	if !ok || len(v) == 0 {
		return "", false
	}
	if v[0] == '"' {
		if len(v) < 2 || v[len(v)-1] != '"' {
			return "", false
		}
		for _, c := range v[1 : len(v)-1] {
			// Control characters and invalid UTF-8 make YAML reject the
			// file, some other characters break lines: the YAML decoder's
			// business.
			if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
				return "", false
			}
		}
		return string(v[1 : len(v)-1]), true
	}
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '/' || c == ':') {
			return "", false
		}
	}
	// Plain words YAML reads as something other than a string.
	switch strings.ToLower(string(v)) {
	case "null", "true", "false", "yes", "no", "on", "off", "y", "n":
		return "", false
	}
	if bytes.HasPrefix(v, []byte("-")) || bytes.HasSuffix(v, []byte(":")) {
		return "", false
	}
	return string(v), true
}
