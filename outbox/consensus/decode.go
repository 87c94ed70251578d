package consensus

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Small decoding helpers over json.RawMessage. A raw value that comes out of
// encoding/json is valid JSON without surrounding space, so its first byte
// tells its kind; null and an absent key are the same thing everywhere.

// syntaxError is a JSON syntax error at byte offset off of the text that was
// parsed; the caller turns off into a line and column of its own input.
type syntaxError struct {
	off int64
	msg string
}

func (e *syntaxError) Error() string { return e.msg }

// jsonError turns an error of encoding/json into a *syntaxError when it is
// one, so that the caller can place it.
func jsonError(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &syntaxError{off: se.Offset, msg: se.Error()}
	}
	return err
}

func isNull(r json.RawMessage) bool {
	return len(r) == 0 || string(r) == "null"
}

func isObject(r json.RawMessage) bool { return len(r) > 0 && r[0] == '{' }

// kind names the JSON type of r for an error message.
func kind(r json.RawMessage) string {
	if isNull(r) {
		return "null"
	}
	switch r[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "a list"
	case 't', 'f':
		return "a boolean"
	}
	return "a number"
}

// topLevel checks that data (non-blank) holds a JSON object at its top level,
// without reading all of it, and describes what it holds otherwise.
func topLevel(data []byte) error {
	t := bytes.TrimLeft(data, " \t\r\n")
	if len(t) > 0 && t[0] == '{' {
		return nil
	}
	tok, err := json.NewDecoder(bytes.NewReader(data)).Token()
	if err != nil {
		return jsonError(err)
	}
	what := "a JSON number"
	switch v := tok.(type) {
	case json.Delim:
		what = "a JSON array"
		if v != '[' {
			what = "a stray " + strconv.QuoteRune(rune(v))
		}
	case string:
		what = "a JSON string"
	case bool:
		what = "a JSON boolean"
	case nil:
		what = "JSON null"
	}
	return &topLevelError{what}
}

// topLevelError says what a document holds at its top level instead of an
// object.
type topLevelError struct{ what string }

func (e *topLevelError) Error() string {
	return "the top level is " + e.what + ", want an object"
}

// fields reads JSON values one at a time and keeps the first error, so that a
// parser reads as a list of assignments.
type fields struct {
	err error
}

func (f *fields) fail(format string, args ...any) {
	if f.err == nil {
		f.err = fmt.Errorf(format, args...)
	}
}

// str reads a string (trimmed); null is "".
func (f *fields) str(r json.RawMessage, name string) string {
	s, ok := f.rawStr(r, name)
	if !ok {
		return ""
	}
	return strings.TrimSpace(s)
}

// rawStr reads a string as written; null is "". ok is false on a wrong type.
func (f *fields) rawStr(r json.RawMessage, name string) (string, bool) {
	if isNull(r) {
		return "", true
	}
	if r[0] != '"' {
		f.fail("%s: want a string, got %s", name, kind(r))
		return "", false
	}
	var s string
	if err := json.Unmarshal(r, &s); err != nil {
		f.fail("%s: %v", name, err)
		return "", false
	}
	return s, true
}

// boolean reads true or false; null is false.
func (f *fields) boolean(r json.RawMessage, name string) bool {
	switch {
	case isNull(r):
		return false
	case string(r) == "true":
		return true
	case string(r) == "false":
		return false
	}
	f.fail("%s: want true or false, got %s", name, kind(r))
	return false
}

// list reads a list; null is an empty one. want describes the list in the
// error when r is something else ("a list of strings").
func (f *fields) list(r json.RawMessage, name, want string) []json.RawMessage {
	if isNull(r) {
		return nil
	}
	if r[0] != '[' {
		f.fail("%s: want %s, got %s", name, want, kind(r))
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(r, &items); err != nil {
		f.fail("%s: %v", name, err)
		return nil
	}
	return items
}

// texts reads a list whose entries are strings or objects (see textOf), as
// trimmed text. Null and blank entries are left out.
func (f *fields) texts(r json.RawMessage, name string) []string {
	text := func(s string) (string, bool) { return s, s != "" }
	return listOf(f, r, name, "a list of strings", "a string or an object",
		func(it json.RawMessage, _ string) (string, bool) { return text(f.str(it, name)) },
		func(it json.RawMessage, _ string) (string, bool) { return text(textOf(it)) })
}

// listOf reads a list whose entries are strings or objects: null entries
// are skipped, a string becomes fromString's value and an object
// fromObject's (at is the entry's name, "name[i]"; ok false leaves it
// out), and anything else fails the field ("want " + wantItem). A failure
// ends the read with nil.
func listOf[T any](f *fields, r json.RawMessage, name, want, wantItem string,
	fromString, fromObject func(it json.RawMessage, at string) (T, bool)) []T {
	items := f.list(r, name, want)
	if len(items) == 0 {
		return nil
	}
	out := make([]T, 0, len(items))
	for i, it := range items {
		at := fmt.Sprintf("%s[%d]", name, i)
		var (
			v  T
			ok bool
		)
		switch {
		case isNull(it):
			continue
		case it[0] == '"':
			v, ok = fromString(it, at)
		case it[0] == '{':
			v, ok = fromObject(it, at)
		default:
			f.fail("%s: want %s, got %s", at, wantItem, kind(it))
		}
		if f.err != nil {
			return nil
		}
		if ok {
			out = append(out, v)
		}
	}
	return out
}

// notes reads a string, or a list of them joined with "; "; null is "".
func (f *fields) notes(r json.RawMessage, name string) string {
	if !isNull(r) && r[0] != '"' && r[0] != '[' {
		f.fail("%s: want a string or a list of strings, got %s", name, kind(r))
		return ""
	}
	if !isNull(r) && r[0] == '[' {
		return strings.Join(f.texts(r, name), "; ")
	}
	return f.str(r, name)
}

// textKeys are the keys an object entry of a conflicts or
// disagreement_points list is summed up by, in order of preference.
type textKeys struct {
	Summary     json.RawMessage `json:"summary"`
	Point       json.RawMessage `json:"point"`
	Issue       json.RawMessage `json:"issue"`
	Description json.RawMessage `json:"description"`
	Topic       json.RawMessage `json:"topic"`
}

// textOf sums up an object entry: the first of summary, point, issue,
// description and topic that is a non-blank string, else the object as
// compact JSON.
func textOf(obj json.RawMessage) string {
	var k textKeys
	if json.Unmarshal(obj, &k) == nil {
		for _, r := range [...]json.RawMessage{k.Summary, k.Point, k.Issue, k.Description, k.Topic} {
			if s := plainString(r); s != "" {
				return s
			}
		}
	}
	return compact(obj)
}

// plainString is r as a trimmed string when it is one, else "".
func plainString(r json.RawMessage) string {
	if isNull(r) || r[0] != '"' {
		return ""
	}
	var s string
	if json.Unmarshal(r, &s) != nil {
		return ""
	}
	return strings.TrimSpace(s)
}

// compact is r as compact JSON.
func compact(r json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, r) != nil {
		return string(r)
	}
	return b.String()
}

// schemaMajor reads a schemaVersion written as 2, 2.0, "2" or "2.0" and
// gives its major version; ok is false when it is absent or not a number.
func schemaMajor(r json.RawMessage) (major int, ok bool) {
	s := strings.TrimSpace(string(r))
	if uq, err := strconv.Unquote(s); err == nil {
		s = strings.TrimSpace(uq)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v > 1e6 {
		return 0, false
	}
	return int(v), true
}
