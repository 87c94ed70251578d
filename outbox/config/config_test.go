package config

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const fixtures = "../../fixtures/configs/"

func TestLoadValidFixture(t *testing.T) {
	path := fixtures + "valid.toml"
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	w := c.Webhooks
	if c.Path != path || !w.Enabled || w.MaxConcurrency != 2 || w.DryRun || w.SpoolDir != DefaultSpoolDir {
		t.Errorf("webhooks = %+v (path %q)", w, c.Path)
	}
	ids := []string{}
	for _, s := range w.Subscriptions {
		ids = append(ids, s.ID)
	}
	if want := []string{"ci-dashboard", "chat-ops", "anomaly-watch", "new.receiver", "legacy"}; !slices.Equal(ids, want) {
		t.Fatalf("ids = %v, want %v", ids, want)
	}

	ci, _ := c.Subscription("ci-dashboard")
	if ci.IncludeEvents != nil || ci.IncludeStages != nil || ci.IncludeStatus != nil {
		t.Errorf("omitted filters must stay nil: %+v", ci)
	}
	if ci.MaxAttempts != 10 || ci.InitialBackoffMS != 1000 || ci.BackoffFactor != 2.0 || ci.JitterMS != 250 || ci.PerRequestTimeoutMS != 5000 {
		t.Errorf("defaults not applied: %+v", ci)
	}
	if ci.PreviousSecretEnv != "SPECKIT_CI_SECRET_OLD" || !ci.IsActive() {
		t.Errorf("ci-dashboard = %+v", ci)
	}

	chat, _ := c.Subscription("chat-ops")
	if chat.URL != "" || chat.URLEnv != "SPECKIT_CHATOPS_URL" {
		t.Errorf("chat-ops url = %q / %q", chat.URL, chat.URLEnv)
	}
	if want := []string{"Implement", "Validate", "Audit"}; !slices.Equal(chat.IncludeStages, want) {
		t.Errorf("stages = %v, want canonical %v", chat.IncludeStages, want)
	}
	if want := []string{"failure", "halt"}; !slices.Equal(chat.IncludeStatus, want) {
		t.Errorf("status = %v, want canonical %v", chat.IncludeStatus, want)
	}
	if chat.MaxAttempts != 5 || chat.InitialBackoffMS != 500 || chat.BackoffFactor != 1.5 || chat.JitterMS != 0 || chat.PerRequestTimeoutMS != 3000 {
		t.Errorf("explicit numbers lost (jitter_ms = 0 is explicit, not the default): %+v", chat)
	}

	anomaly, _ := c.Subscription("anomaly-watch")
	if !slices.Contains(anomaly.IncludeEvents, "spec-auto.anomaly.consensus_conflict") {
		t.Errorf("anomaly events = %v", anomaly.IncludeEvents)
	}
	dry, _ := c.Subscription("new.receiver")
	if !dry.DryRun {
		t.Errorf("new.receiver should be dry_run")
	}
	legacy, _ := c.Subscription("legacy")
	if legacy.IsActive() {
		t.Errorf("legacy should be inactive")
	}
	if _, ok := c.Subscription("nope"); ok {
		t.Errorf("Subscription(nope) found something")
	}
}

func TestLoadTenSubscriptions(t *testing.T) {
	c, err := Load(fixtures + "ten-subscriptions.toml")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(c.Webhooks.Subscriptions); n != 10 {
		t.Fatalf("%d subscriptions, want 10", n)
	}
	for _, s := range c.Webhooks.Subscriptions {
		if !s.IsActive() || s.SecretEnv != "SPECKIT_WEBHOOK_SECRET" || !strings.HasPrefix(s.URL, "http://127.0.0.1:9/hook-") {
			t.Errorf("subscription %+v", s)
		}
	}
}

func TestLoadBrokenFixtures(t *testing.T) {
	const s0 = "spec_ops.webhooks.subscriptions[0]"
	const s1 = "spec_ops.webhooks.subscriptions[1]"
	tests := []struct {
		file string
		want []wantProblem
	}{
		{"broken-unknown-key.toml", []wantProblem{
			{8, "spec_ops.webhooks.retries", ErrUnknownKey, "unknown key"},
			{14, s0 + ".max_attempt", ErrUnknownKey, `did you mean "max_attempts"?`},
		}},
		{"broken-type.toml", []wantProblem{{9, s0 + ".max_attempts", ErrType, "want an integer, got TOML string"}}},
		{"broken-duplicate-id.toml", []wantProblem{{11, s1 + ".id", ErrInvalid, `duplicate id "ops"`}}},
		{"broken-http.toml", []wantProblem{{13, s1 + ".url", ErrInvalid, `"http://example.com/hook" is not https`}}},
		{"broken-unknown-event.toml", []wantProblem{
			{11, s0 + ".include_events[1]", ErrInvalid, `unknown event type "spec-auto.stage.started"`},
			{12, s0 + ".include_events[2]", ErrInvalid, `pattern "spec-auto.nothing.*" matches no known event type`},
		}},
		{"broken-syntax.toml", []wantProblem{{6, s0 + ".id", ErrSyntax, "basic strings cannot have new lines"}}},
		{"broken-missing-secret-env.toml", []wantProblem{{5, s0 + ".secret_env", ErrInvalid, "is required"}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := fixtures + tt.file
			c, err := Load(path)
			if c != nil {
				t.Errorf("got a config for a broken file")
			}
			assertErrors(t, err, path, tt.want...)
			if strings.Contains(err.Error(), "do-not-print") {
				t.Errorf("URL query leaked: %v", err)
			}
		})
	}
}

func TestLoadUnrelatedCodexConfig(t *testing.T) {
	c, err := Load("testdata/codex-unrelated.toml")
	if err != nil {
		t.Fatal(err)
	}
	d := Default()
	d.Path = "testdata/codex-unrelated.toml"
	if c.Path != d.Path || c.Webhooks.Enabled || c.Webhooks.MaxConcurrency != d.Webhooks.MaxConcurrency ||
		c.Webhooks.SpoolDir != d.Webhooks.SpoolDir || c.Webhooks.Subscriptions != nil {
		t.Errorf("got %+v, want defaults %+v", c, d)
	}
}

func TestLoadDefaults(t *testing.T) {
	for _, tt := range []struct{ name, doc string }{
		{"empty file", ""},
		{"only comments", "# nothing here\n"},
		{"empty table", "[spec_ops.webhooks]\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("c.toml", []byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			w := c.Webhooks
			if w.Enabled || w.DryRun || w.MaxConcurrency != 4 || w.SpoolDir != DefaultSpoolDir || len(w.Subscriptions) != 0 {
				t.Errorf("webhooks = %+v", w)
			}
		})
	}
	c, err := Load("")
	if err != nil || c.Path != "" || c.Webhooks.MaxConcurrency != 4 {
		t.Errorf("Load(\"\") = %+v, %v; want defaults", c, err)
	}
}

func TestLoadMissingAndUnreadable(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope.toml")
	_, err := Load(missing)
	if !errors.Is(err, ErrNotFound) || !strings.HasPrefix(err.Error(), missing+": ") {
		t.Errorf("Load(missing) = %v, want ErrNotFound naming the path", err)
	}
	_, err = Load(dir)
	if !errors.Is(err, ErrRead) || !strings.Contains(err.Error(), dir) {
		t.Errorf("Load(dir) = %v, want ErrRead naming the path", err)
	}
}

func TestErrorsUnwrap(t *testing.T) {
	_, err := Load(fixtures + "broken-unknown-key.toml")
	if !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("errors.Is(err, ErrUnknownKey) = false for %v", err)
	}
	if errors.Is(err, ErrInvalid) || errors.Is(err, ErrSyntax) {
		t.Errorf("err matches a sentinel it does not hold")
	}
	var e *Error
	if !errors.As(err, &e) || e.Line != 8 || e.Err != ErrUnknownKey {
		t.Errorf("errors.As(*Error) = %+v", e)
	}
	wrapped := errors.Join(errors.New("outbox emit"), err)
	if !errors.Is(wrapped, ErrUnknownKey) {
		t.Errorf("errors.Is through a wrapper failed")
	}
}

func TestErrorFormat(t *testing.T) {
	for _, tt := range []struct {
		e    Error
		want string
	}{
		{Error{File: "c.toml", Line: 3, Key: "a.b", Msg: "bad"}, "c.toml:3: a.b: bad"},
		{Error{File: "c.toml", Key: "a.b", Msg: "bad"}, "c.toml: a.b: bad"},
		{Error{File: "c.toml", Line: 3, Msg: "bad"}, "c.toml:3: bad"},
		{Error{File: "c.toml", Msg: "bad"}, "c.toml: bad"},
		{Error{Msg: "bad"}, "bad"},
	} {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestEnabledWith(t *testing.T) {
	on := &Config{Webhooks: Webhooks{Enabled: true}}
	off := &Config{}
	tests := []struct {
		value   string
		c       *Config
		want    bool
		wantErr bool
	}{
		{"", on, true, false},
		{"", off, false, false},
		{"1", off, true, false},
		{"TRUE", off, true, false},
		{"Yes", off, true, false},
		{" on ", off, true, false},
		{"0", on, false, false},
		{"false", on, false, false},
		{"NO", on, false, false},
		{"off", on, false, false},
		{"maybe", on, false, true},
		{"2", off, false, true},
		{"", nil, false, false},
	}
	for _, tt := range tests {
		getenv := func(k string) string {
			if k == EnvWebhooksEnabled {
				return tt.value
			}
			return ""
		}
		got, err := tt.c.EnabledWith(getenv)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("%q (file enabled=%v): got %v, %v; want %v, err %v", tt.value, tt.c != nil && tt.c.Webhooks.Enabled, got, err, tt.want, tt.wantErr)
		}
		if err != nil {
			if !errors.Is(err, ErrEnv) || !strings.Contains(err.Error(), EnvWebhooksEnabled) || !strings.Contains(err.Error(), tt.value) {
				t.Errorf("error %q must wrap ErrEnv and name the variable and value", err)
			}
		}
	}
}

func TestResolveURL(t *testing.T) {
	env := map[string]string{
		"GOOD":  "https://hooks.example.com/T000/B000/canary-path-token?sig=canary-query",
		"LOCAL": "http://127.0.0.1:8080/hook",
		"PLAIN": "http://hooks.example.com/T000/canary-path-token",
		"JUNK":  "not a url canary-junk",
	}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		name    string
		s       Subscription
		want    string
		wantErr error
		inMsg   string
	}{
		{"url", Subscription{ID: "a", URL: "https://a.example/h"}, "https://a.example/h", nil, ""},
		{"url_env", Subscription{ID: "a", URLEnv: "GOOD"}, env["GOOD"], nil, ""},
		{"url_env loopback http", Subscription{ID: "a", URLEnv: "LOCAL"}, env["LOCAL"], nil, ""},
		{"url_env unset", Subscription{ID: "a", URLEnv: "MISSING"}, "", ErrEnv, "environment variable MISSING (url_env) is not set"},
		{"url_env plain http", Subscription{ID: "a", URLEnv: "PLAIN"}, "", ErrEnv, `"http://hooks.example.com/…" is not https`},
		{"url_env plain http allowed", Subscription{ID: "a", URLEnv: "PLAIN", AllowInsecureHTTP: true}, env["PLAIN"], nil, ""},
		{"url_env junk", Subscription{ID: "a", URLEnv: "JUNK"}, "", ErrEnv, "environment variable JUNK (url_env): is not a valid absolute URL"},
		{"neither", Subscription{ID: "a"}, "", ErrInvalid, "neither url nor url_env"},
		{"bad url built in code", Subscription{ID: "a", URL: "http://x.example/p?q=canary-query"}, "", ErrInvalid, "is not https"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.s.ResolveURL(getenv)
			if got != tt.want || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("got %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
			if err == nil {
				return
			}
			if !strings.Contains(err.Error(), tt.inMsg) {
				t.Errorf("%q does not contain %q", err, tt.inMsg)
			}
			if strings.Contains(err.Error(), "canary") {
				t.Errorf("message leaks a URL's path, query or value: %q", err)
			}
		})
	}
}

func TestSpoolDirFor(t *testing.T) {
	w := Webhooks{SpoolDir: "/abs/{spec_id}/x/{spec_id}"}
	if got := w.SpoolDirFor("SPEC-1"); got != "/abs/SPEC-1/x/SPEC-1" {
		t.Errorf("got %q", got)
	}
	var zero Webhooks
	if got, want := zero.SpoolDirFor("SPEC-1"), strings.ReplaceAll(DefaultSpoolDir, "{spec_id}", "SPEC-1"); got != want {
		t.Errorf("zero Webhooks: got %q, want %q", got, want)
	}
}

func TestIsActive(t *testing.T) {
	yes, no := true, false
	for _, tt := range []struct {
		active *bool
		want   bool
	}{{nil, true}, {&yes, true}, {&no, false}} {
		if got := (&Subscription{Active: tt.active}).IsActive(); got != tt.want {
			t.Errorf("Active=%v: got %v", tt.active, got)
		}
	}
}

func TestKickAndMaxAge(t *testing.T) {
	c, err := Parse("c.toml", []byte("[spec_ops.webhooks]\n[[spec_ops.webhooks.subscriptions]]\nid = \"a\"\nurl = \"https://x.example/h\"\nsecret_env = \"S\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Webhooks.Kick || c.Webhooks.Subscriptions[0].MaxAgeHours != DefaultMaxAgeHours || !Default().Webhooks.Kick {
		t.Fatalf("defaults: kick %v, max_age_hours %d", c.Webhooks.Kick, c.Webhooks.Subscriptions[0].MaxAgeHours)
	}
	c, err = Parse("c.toml", []byte("[spec_ops.webhooks]\nkick = false\n[[spec_ops.webhooks.subscriptions]]\nid = \"a\"\nurl = \"https://x.example/h\"\nsecret_env = \"S\"\nmax_age_hours = 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Webhooks.Kick || c.Webhooks.Subscriptions[0].MaxAgeHours != 2 {
		t.Fatalf("set: kick %v, max_age_hours %d", c.Webhooks.Kick, c.Webhooks.Subscriptions[0].MaxAgeHours)
	}
}

func TestMaxSpoolBytes(t *testing.T) {
	if Default().Webhooks.MaxSpoolBytes != 5_000_000 {
		t.Fatal("default cap is not 5 MB")
	}
	_, err := Parse("c.toml", []byte("[spec_ops.webhooks]\nmax_spool_bytes = 1000\n"))
	if err == nil || !strings.Contains(err.Error(), "c.toml:2: spec_ops.webhooks.max_spool_bytes: must be >= 65536, got 1000") {
		t.Fatalf("err = %v", err)
	}
	c, err := Parse("c.toml", []byte("[spec_ops.webhooks]\nmax_spool_bytes = 1_000_000\n"))
	if err != nil || c.Webhooks.MaxSpoolBytes != 1_000_000 {
		t.Fatalf("%v %v", c, err)
	}
}

func TestCommitKeys(t *testing.T) {
	c, err := Parse("c.toml", []byte("[spec_ops.webhooks]\ncommit = true\ncommit_author = \"Spec Bot <bot@example.com>\"\n"))
	if err != nil || !c.Webhooks.Commit || c.Webhooks.CommitAuthor != "Spec Bot <bot@example.com>" {
		t.Fatalf("%+v %v", c, err)
	}
	if Default().Webhooks.Commit {
		t.Fatal("commit must default to false")
	}
	_, err = Parse("c.toml", []byte("[spec_ops.webhooks]\ncommit_author = \"bot\"\n"))
	if err == nil || !strings.Contains(err.Error(), `c.toml:2: spec_ops.webhooks.commit_author: "bot": want "Name <email>"`) {
		t.Fatalf("err = %v", err)
	}
	for in, ok := range map[string]bool{"A B <a@b.c>": true, "<a@b.c>": false, "A <ab.c>": false, "A <a@b.c> x": false, "A <a b@c>": false} {
		if _, _, got := ParseAuthor(in); got != ok {
			t.Errorf("ParseAuthor(%q) = %v", in, got)
		}
	}
}

func TestEvidenceLinks(t *testing.T) {
	tests := []struct {
		name, tmpl, commit string
		paths              []string
		want               []string
	}{
		{"unset", "", "abc", []string{"a/b.json"}, nil},
		{"commit and path", "https://git.example/r/blob/{commit}/{path}", "abc123", []string{"docs/x/spec-plan_2026-01-01T00:00:00Z.json"},
			[]string{"https://git.example/r/blob/abc123/docs/x/spec-plan_2026-01-01T00:00:00Z.json"}},
		{"escaped segments", "https://git.example/r/{path}?at={commit}", "", []string{"a b/c#d.json"},
			[]string{"https://git.example/r/a%20b/c%23d.json?at=HEAD"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &Webhooks{EvidenceBaseURL: tt.tmpl}
			got := w.EvidenceLinks(tt.commit, tt.paths)
			if !slices.Equal(got, tt.want) {
				t.Errorf("EvidenceLinks = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEvidencePathDefault(t *testing.T) {
	c := Default()
	got := c.Webhooks.EvidencePath("/repo", "SPEC-KIT-1")
	want := filepath.Join("/repo", "docs/SPEC-OPS-004-integrated-coder-hooks/evidence/commands/SPEC-KIT-1")
	if got != want || c.Webhooks.ConflictThreshold != 1 {
		t.Errorf("EvidencePath = %q (threshold %d), want %q (1)", got, c.Webhooks.ConflictThreshold, want)
	}
}
