package config

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spec-kit/outbox/outbox/event"
)

// FuzzParse feeds arbitrary bytes to Parse. It must never panic; a failure
// must be a non-empty Errors whose every problem names the file, carries a
// sentinel and a message; a success must satisfy every rule validate.go
// enforces.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{fixtures + "*.toml", "testdata/*.toml"} {
		paths, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	for _, s := range []string{
		"",
		"[spec_ops.webhooks]\nenabled = true\n",
		"spec_ops = { webhooks = { enabled = true, subscriptions = [{ id = \"a\", url = \"https://x.example\", secret_env = \"S\" }] } }\n",
		"[spec_ops.webhooks.subscriptions]\nid = \"a\"\n",
		"[[spec_ops.webhooks.subscriptions]]\nid = \"Ops\"\nurl_env = \"U\"\nsecret_env = \"S\"\n[[spec_ops.webhooks.subscriptions]]\nid = \"ops\"\nurl = \"http://localhost/\"\nsecret_env = \"S\"\nprevious_secret_env = \"S\"\n",
		"[spec_ops.webhooks]\nspool_dir = \"../{spec_id}\"\nmax_spool_bytes = 1\ncommit_author = \"x\"\nbogus = 1\n",
		"[[spec_ops.webhooks.subscriptions]]\nbackoff_factor = nan\nmax_attempts = 0\ninclude_events = []\ninclude_stages = [\"plan\", 1]\n",
		"[spec_ops.webhooks]\nenabled = true\nenabled = false\n",
		"[spec_ops\n",
		"a = \"\\u0000\"\n[spec_ops.webhooks]\nmax_concurrency = 99999999999999999999\n",
		"[spec_ops.webhooks.subscriptions.x]\n[[spec_ops.webhooks.subscriptions]]\n",
	} {
		f.Add([]byte(s))
	}

	const name = "fuzz/config.toml"
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(name, data)
		if err != nil {
			checkParseError(t, name, data, cfg, err)
			return
		}
		checkValidConfig(t, name, cfg)
	})
}

var sentinels = []error{ErrNotFound, ErrRead, ErrSyntax, ErrType, ErrUnknownKey, ErrInvalid, ErrEnv}

func checkParseError(t *testing.T, name string, data []byte, cfg *Config, err error) {
	t.Helper()
	if cfg != nil {
		t.Errorf("Parse returned a config together with error %v", err)
	}
	msg := err.Error()
	if msg == "" || !strings.HasPrefix(msg, name) {
		t.Fatalf("error message %q does not start with the file name %q", msg, name)
	}
	var es Errors
	if !errors.As(err, &es) || len(es) == 0 {
		t.Fatalf("error %T %q is not a non-empty Errors", err, msg)
	}
	lines := bytes.Count(data, []byte("\n")) + 1
	for i, e := range es {
		if e == nil {
			t.Fatalf("problem %d is nil", i)
		}
		if e.File != name || !strings.HasPrefix(e.Error(), name) {
			t.Errorf("problem %d %q does not name the file %q", i, e.Error(), name)
		}
		if e.Msg == "" {
			t.Errorf("problem %d %q has no message", i, e.Error())
		}
		if e.Line < 0 || e.Line > lines {
			t.Errorf("problem %d %q: line %d outside the %d-line file", i, e.Error(), e.Line, lines)
		}
		n := 0
		for _, s := range sentinels {
			if errors.Is(e, s) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("problem %d %q wraps %d sentinel errors, want exactly one", i, e.Error(), n)
		}
	}
	if !errors.Is(err, es[0].Err) {
		t.Errorf("errors.Is does not see the first problem's sentinel through %T", err)
	}
}

func checkValidConfig(t *testing.T, name string, c *Config) {
	t.Helper()
	if c == nil {
		t.Fatal("Parse returned a nil config and no error")
	}
	if c.Path != name {
		t.Errorf("Path = %q, want %q", c.Path, name)
	}
	w := &c.Webhooks
	if w.MaxConcurrency < 1 {
		t.Errorf("MaxConcurrency = %d", w.MaxConcurrency)
	}
	if w.MaxSpoolBytes < 65536 {
		t.Errorf("MaxSpoolBytes = %d", w.MaxSpoolBytes)
	}
	if strings.TrimSpace(w.SpoolDir) == "" || !strings.Contains(w.SpoolDir, SpecIDPlaceholder) ||
		slices.Contains(strings.FieldsFunc(w.SpoolDir, func(r rune) bool { return r == '/' || r == '\\' }), "..") {
		t.Errorf("SpoolDir = %q", w.SpoolDir)
	}
	if w.CommitAuthor != "" {
		if _, _, ok := ParseAuthor(w.CommitAuthor); !ok {
			t.Errorf("CommitAuthor = %q", w.CommitAuthor)
		}
	}
	seen := map[string]bool{}
	for i := range w.Subscriptions {
		s := &w.Subscriptions[i]
		if !validID(s.ID) {
			t.Errorf("subscription %d: id %q", i, s.ID)
		}
		if folded := strings.ToLower(s.ID); seen[folded] {
			t.Errorf("subscription %d: id %q used twice (ignoring case)", i, s.ID)
		} else {
			seen[folded] = true
		}
		switch {
		case (s.URL == "") == (s.URLEnv == ""):
			t.Errorf("subscription %d: url %q, url_env %q: want exactly one", i, s.URL, s.URLEnv)
		case s.URL != "":
			if msg := urlProblem(s.URL, s.AllowInsecureHTTP, false); msg != "" {
				t.Errorf("subscription %d: url %q: %s", i, s.URL, msg)
			}
			if _, err := s.ResolveURL(func(string) string { return "" }); err != nil {
				t.Errorf("subscription %d: ResolveURL: %v", i, err)
			}
		default:
			if !validEnvName(s.URLEnv) {
				t.Errorf("subscription %d: url_env %q", i, s.URLEnv)
			}
		}
		if !validEnvName(s.SecretEnv) {
			t.Errorf("subscription %d: secret_env %q", i, s.SecretEnv)
		}
		if s.PreviousSecretEnv != "" && (!validEnvName(s.PreviousSecretEnv) || s.PreviousSecretEnv == s.SecretEnv) {
			t.Errorf("subscription %d: previous_secret_env %q (secret_env %q)", i, s.PreviousSecretEnv, s.SecretEnv)
		}
		if s.IncludeEvents != nil && len(s.IncludeEvents) == 0 ||
			s.IncludeStages != nil && len(s.IncludeStages) == 0 ||
			s.IncludeStatus != nil && len(s.IncludeStatus) == 0 {
			t.Errorf("subscription %d: an explicit empty filter was accepted: %+v", i, s)
		}
		for _, e := range s.IncludeEvents {
			if !event.IsKnownType(e) && !matchesSomeType(e) {
				t.Errorf("subscription %d: include_events has %q", i, e)
			}
		}
		for _, st := range s.IncludeStages {
			if !slices.Contains(event.Stages, st) {
				t.Errorf("subscription %d: include_stages has non-canonical %q", i, st)
			}
		}
		for _, st := range s.IncludeStatus {
			if !slices.Contains(event.Statuses, st) {
				t.Errorf("subscription %d: include_status has non-canonical %q", i, st)
			}
		}
		if s.MaxAttempts < 1 || s.InitialBackoffMS < 1 || s.JitterMS < 0 || s.PerRequestTimeoutMS < 1 || s.MaxAgeHours < 1 {
			t.Errorf("subscription %d: out-of-range number in %+v", i, s)
		}
		if !(s.BackoffFactor >= 1) || math.IsInf(s.BackoffFactor, 0) {
			t.Errorf("subscription %d: backoff_factor %v", i, s.BackoffFactor)
		}
	}
}

// matchesSomeType reports whether p is a "prefix.*" pattern that matches a
// known event type.
func matchesSomeType(p string) bool {
	prefix, ok := strings.CutSuffix(p, "*")
	if !ok || len(prefix) < 2 || !strings.HasSuffix(prefix, ".") {
		return false
	}
	for _, t := range event.Types {
		if strings.HasPrefix(t, prefix) {
			return true
		}
	}
	return false
}
