package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// wantProblem is one expected *Error: its rendered form must contain
// "file:line: key: " and msg, and it must wrap err.
type wantProblem struct {
	line int
	key  string
	err  error
	msg  string
}

// assertErrors checks that err is an Errors holding exactly the wanted
// problems (in any order), each naming the file, the line and the key.
func assertErrors(t *testing.T, err error, file string, want ...wantProblem) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %d problem(s)", len(want))
	}
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error %T %q is not an Errors", err, err)
	}
	text := err.Error()
	if len(es) != len(want) {
		t.Errorf("got %d problem(s), want %d:\n%s", len(es), len(want), text)
	}
	for _, w := range want {
		prefix := fmt.Sprintf("%s:%d: %s: ", file, w.line, w.key)
		var found *Error
		for _, e := range es {
			if strings.HasPrefix(e.Error(), prefix) {
				found = e
				break
			}
		}
		if found == nil {
			t.Errorf("no problem starting with %q in:\n%s", prefix, text)
			continue
		}
		if found.File != file || found.Line != w.line || found.Key != w.key {
			t.Errorf("fields = %q:%d %q, want %q:%d %q", found.File, found.Line, found.Key, file, w.line, w.key)
		}
		if !strings.Contains(found.Error(), w.msg) {
			t.Errorf("%q does not contain %q", found.Error(), w.msg)
		}
		if w.err != nil && !errors.Is(found, w.err) {
			t.Errorf("%q does not wrap %v", found.Error(), w.err)
		}
		if w.err != nil && !errors.Is(err, w.err) {
			t.Errorf("errors.Is(Errors, %v) = false", w.err)
		}
	}
}

// head opens the webhooks table (line 1) and a subscription (line 2).
const head = "[spec_ops.webhooks]\n[[spec_ops.webhooks.subscriptions]]\n"

// base is a valid subscription body on lines 3-5.
const base = `id = "ops"
url = "https://ops.example.com/hook"
secret_env = "OPS_SECRET"
`

// one is a valid subscription plus extra, which starts on line 6.
func one(extra string) string { return head + base + extra + "\n" }
