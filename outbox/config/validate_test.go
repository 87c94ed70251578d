package config

import (
	"slices"
	"strings"
	"testing"
)

func TestParseRules(t *testing.T) {
	const file = "config.toml"
	const s0 = "spec_ops.webhooks.subscriptions[0]"
	const s1 = "spec_ops.webhooks.subscriptions[1]"
	tests := []struct {
		name string
		doc  string
		want []wantProblem // nil: the document is valid
	}{
		// Webhooks table.
		{"max_concurrency zero", "[spec_ops.webhooks]\nmax_concurrency = 0\n",
			[]wantProblem{{2, "spec_ops.webhooks.max_concurrency", ErrInvalid, "must be >= 1, got 0"}}},
		{"max_concurrency one", "[spec_ops.webhooks]\nmax_concurrency = 1\n", nil},
		{"spool_dir empty", "[spec_ops.webhooks]\nspool_dir = \"\"\n",
			[]wantProblem{{2, "spec_ops.webhooks.spool_dir", ErrInvalid, "must not be empty"}}},
		{"spool_dir without placeholder", "[spec_ops.webhooks]\n\nspool_dir = \"out/webhooks\"\n",
			[]wantProblem{{3, "spec_ops.webhooks.spool_dir", ErrInvalid, `must contain "{spec_id}"`}}},
		{"spool_dir dotdot", "[spec_ops.webhooks]\nspool_dir = \"out/../../{spec_id}\"\n",
			[]wantProblem{{2, "spec_ops.webhooks.spool_dir", ErrInvalid, `".." element`}}},
		{"spool_dir dotdot backslash", "[spec_ops.webhooks]\nspool_dir = 'out\\..\\{spec_id}'\n",
			[]wantProblem{{2, "spec_ops.webhooks.spool_dir", ErrInvalid, `".." element`}}},
		{"spool_dir absolute", "[spec_ops.webhooks]\nspool_dir = \"/var/spool/{spec_id}..x\"\n", nil},
		{"evidence_dir without placeholder", "[spec_ops.webhooks]\nevidence_dir = \"docs/evidence\"\n",
			[]wantProblem{{2, "spec_ops.webhooks.evidence_dir", ErrInvalid, `must contain "{spec_id}"`}}},
		{"evidence_dir ok", "[spec_ops.webhooks]\nevidence_dir = \"evidence/{spec_id}\"\n", nil},
		{"evidence_base_url without path", "[spec_ops.webhooks]\nevidence_base_url = \"https://git.example/blob/{commit}\"\n",
			[]wantProblem{{2, "spec_ops.webhooks.evidence_base_url", ErrInvalid, "must contain {path}"}}},
		{"evidence_base_url relative", "[spec_ops.webhooks]\nevidence_base_url = \"blob/{commit}/{path}\"\n",
			[]wantProblem{{2, "spec_ops.webhooks.evidence_base_url", ErrInvalid, "absolute http(s) URL template"}}},
		{"evidence_base_url ok", "[spec_ops.webhooks]\nevidence_base_url = \"https://git.example/acme/repo/blob/{commit}/{path}\"\n", nil},
		{"consensus_conflict_threshold zero", "[spec_ops.webhooks]\nconsensus_conflict_threshold = 0\n",
			[]wantProblem{{2, "spec_ops.webhooks.consensus_conflict_threshold", ErrInvalid, "must be >= 1, got 0"}}},
		{"consensus_conflict_threshold typed", "[spec_ops.webhooks]\nconsensus_conflict_threshold = \"2\"\n",
			[]wantProblem{{2, "spec_ops.webhooks.consensus_conflict_threshold", ErrType, "integer"}}},
		{"consensus_conflict_threshold three", "[spec_ops.webhooks]\nconsensus_conflict_threshold = 3\n", nil},
		{"unknown webhooks key", "[spec_ops.webhooks]\nenabled = true\nmax_concurency = 2\n",
			[]wantProblem{{3, "spec_ops.webhooks.max_concurency", ErrUnknownKey, `did you mean "max_concurrency"`}}},
		{"unknown webhooks table", "[spec_ops.webhooks]\n[spec_ops.webhooks.extra]\na = 1\nb = 2\n",
			[]wantProblem{{2, "spec_ops.webhooks.extra", ErrUnknownKey, "unknown table"}}},
		{"unknown quoted key", "[spec_ops.webhooks]\n\"my key\" = 1\n",
			[]wantProblem{{2, `spec_ops.webhooks."my key"`, ErrUnknownKey, "unknown key"}}},
		{"table after array of tables", one("[spec_ops.webhooks.subscriptions]\nid = \"x\""),
			[]wantProblem{{6, s0, ErrSyntax, ""}}},
		{"unknown dotted key", "[spec_ops]\nwebhooks.enabled = true\nwebhooks.colour = \"red\"\n",
			[]wantProblem{{3, "spec_ops.webhooks.colour", ErrUnknownKey, "valid keys here: enabled"}}},

		// Ids.
		{"id missing", head + "url = \"https://x.example/h\"\nsecret_env = \"S\"\n",
			[]wantProblem{{2, s0 + ".id", ErrInvalid, "is required"}}},
		{"id underscore", head + "id = \"my_hook\"\nurl = \"https://x.example/h\"\nsecret_env = \"S\"\n",
			[]wantProblem{{3, s0 + ".id", ErrInvalid, `"my_hook" is not a valid id`}}},
		{"id slash", head + "id = \"a/b\"\nurl = \"https://x.example/h\"\nsecret_env = \"S\"\n",
			[]wantProblem{{3, s0 + ".id", ErrInvalid, "used in file names"}}},
		{"id leading dot", head + "id = \".hidden\"\nurl = \"https://x.example/h\"\nsecret_env = \"S\"\n",
			[]wantProblem{{3, s0 + ".id", ErrInvalid, "not a valid id"}}},
		{"id too long", head + "id = \"" + strings.Repeat("a", 65) + "\"\nurl = \"https://x.example/h\"\nsecret_env = \"S\"\n",
			[]wantProblem{{3, s0 + ".id", ErrInvalid, "not a valid id"}}},
		{"id 64 chars with dots and dashes", head + "id = \"A." + strings.Repeat("b-", 31) + "\"\nurl = \"https://x.example/h\"\nsecret_env = \"S\"\n", nil},
		{"duplicate id", one("") + "[[spec_ops.webhooks.subscriptions]]\n" + base,
			[]wantProblem{{8, s1 + ".id", ErrInvalid, `duplicate id "ops" (already used by subscriptions[0])`}}},

		{"duplicate id differing in case", one("") + "[[spec_ops.webhooks.subscriptions]]\n" + strings.Replace(base, `"ops"`, `"OPS"`, 1),
			[]wantProblem{{8, s1 + ".id", ErrInvalid, `duplicate id "OPS" (subscriptions[0] uses "ops"`}}},

		// URLs.
		{"url and url_env", one(`url_env = "OPS_URL"`),
			[]wantProblem{{6, s0 + ".url_env", ErrInvalid, "exactly one of url and url_env"}}},
		{"neither url nor url_env", head + "id = \"ops\"\nsecret_env = \"S\"\n",
			[]wantProblem{{2, s0, ErrInvalid, "one of url or url_env is required"}}},
		{"url_env only", head + "id = \"ops\"\nurl_env = \"OPS_URL\"\nsecret_env = \"S\"\n", nil},
		{"url http remote", head + "id = \"ops\"\nsecret_env = \"S\"\nurl = \"http://example.com/hook\"\n",
			[]wantProblem{{5, s0 + ".url", ErrInvalid, `"http://example.com/hook" is not https (http is allowed only for loopback hosts or with allow_insecure_http = true) [id "ops"]`}}},
		{"url http remote allowed", head + "id = \"ops\"\nsecret_env = \"S\"\nurl = \"http://example.com/hook\"\nallow_insecure_http = true\n", nil},
		{"url http 127.0.0.2", head + "id = \"ops\"\nsecret_env = \"S\"\nurl = \"http://127.0.0.2:9/h\"\n", nil},
		{"url http ::1", head + "id = \"ops\"\nsecret_env = \"S\"\nurl = \"http://[::1]:9/h\"\n", nil},
		{"url http localhost", head + "id = \"ops\"\nsecret_env = \"S\"\nurl = \"http://LocalHost:9/h\"\n", nil},
		{"url http 128.0.0.1", head + "id = \"ops\"\nsecret_env = \"S\"\nurl = \"http://128.0.0.1/h\"\n",
			[]wantProblem{{5, s0 + ".url", ErrInvalid, "is not https"}}},
		{"url http localhost.evil", head + "id = \"ops\"\nsecret_env = \"S\"\nurl = \"http://localhost.evil.com/h\"\n",
			[]wantProblem{{5, s0 + ".url", ErrInvalid, "is not https"}}},
		{"url ftp", head + "id = \"ops\"\nsecret_env = \"S\"\nurl = \"ftp://example.com/h\"\n",
			[]wantProblem{{5, s0 + ".url", ErrInvalid, `scheme "ftp" is not supported`}}},
		{"url relative", head + "id = \"ops\"\nsecret_env = \"S\"\nurl = \"/just/a/path\"\n",
			[]wantProblem{{5, s0 + ".url", ErrInvalid, "not a valid absolute URL"}}},
		{"url unparsable", head + "id = \"ops\"\nsecret_env = \"S\"\nurl = \"https://exa mple.com/%zz\"\n",
			[]wantProblem{{5, s0 + ".url", ErrInvalid, "not a valid absolute URL"}}},
		{"url no host", head + "id = \"ops\"\nsecret_env = \"S\"\nurl = \"https:///hook\"\n",
			[]wantProblem{{5, s0 + ".url", ErrInvalid, "has no host"}}},
		{"url userinfo allowed", head + "id = \"ops\"\nsecret_env = \"S\"\nurl = \"https://user:pw@example.com/h?token=t\"\n", nil},

		// Environment variable names.
		{"url_env bad name", head + "id = \"ops\"\nsecret_env = \"S\"\nurl_env = \"OPS-URL\"\n",
			[]wantProblem{{5, s0 + ".url_env", ErrInvalid, `"OPS-URL" is not an environment variable name`}}},
		{"secret_env missing", head + "id = \"ops\"\nurl = \"https://x.example/h\"\n",
			[]wantProblem{{2, s0 + ".secret_env", ErrInvalid, "is required (deliveries are always signed)"}}},
		{"secret_env bad name", head + "id = \"ops\"\nurl = \"https://x.example/h\"\nsecret_env = \"1SECRET\"\n",
			[]wantProblem{{5, s0 + ".secret_env", ErrInvalid, "not an environment variable name"}}},
		{"secret_env value pasted", head + "id = \"ops\"\nurl = \"https://x.example/h\"\nsecret_env = \"$ECRET\"\n",
			[]wantProblem{{5, s0 + ".secret_env", ErrInvalid, "not an environment variable name"}}},
		{"previous_secret_env bad name", one(`previous_secret_env = "OLD SECRET"`),
			[]wantProblem{{6, s0 + ".previous_secret_env", ErrInvalid, "not an environment variable name"}}},
		{"previous_secret_env same as secret_env", one(`previous_secret_env = "OPS_SECRET"`),
			[]wantProblem{{6, s0 + ".previous_secret_env", ErrInvalid, "different variable"}}},
		{"previous_secret_env ok", one(`previous_secret_env = "_OPS_SECRET_2"`), nil},

		// Filters.
		{"event known", one(`include_events = ["spec-kit.ping", "spec-auto.anomaly.consensus_conflict"]`), nil},
		{"event pattern", one(`include_events = ["spec-auto.anomaly.*", "spec-auto.*", "spec-kit.*"]`), nil},
		{"event unknown", one(`include_events = ["spec-kit.ping", "spec-kit.pong"]`),
			[]wantProblem{{6, s0 + ".include_events[1]", ErrInvalid, `unknown event type "spec-kit.pong"`}}},
		{"event wrong case", one(`include_events = ["SPEC-KIT.PING"]`),
			[]wantProblem{{6, s0 + ".include_events[0]", ErrInvalid, "unknown event type"}}},
		{"event pattern matching nothing", one(`include_events = ["spec-auto.nothing.*"]`),
			[]wantProblem{{6, s0 + ".include_events[0]", ErrInvalid, "matches no known event type"}}},
		{"event bare star", one(`include_events = ["*"]`),
			[]wantProblem{{6, s0 + ".include_events[0]", ErrInvalid, "unknown event type"}}},
		{"event prefix without dot", one(`include_events = ["spec-auto*"]`),
			[]wantProblem{{6, s0 + ".include_events[0]", ErrInvalid, "unknown event type"}}},
		{"event multi-line array", one("include_events = [\n  \"spec-kit.ping\",\n  \"nope\",\n]"),
			[]wantProblem{{8, s0 + ".include_events[1]", ErrInvalid, `unknown event type "nope"`}}},
		{"events empty", one(`include_events = []`),
			[]wantProblem{{6, s0 + ".include_events", ErrInvalid, "must not be empty"}}},
		{"stage unknown", one(`include_stages = ["plan", "deploy"]`),
			[]wantProblem{{6, s0 + ".include_stages[1]", ErrInvalid, `unknown stage "deploy"`}}},
		{"stages empty", one(`include_stages = []`),
			[]wantProblem{{6, s0 + ".include_stages", ErrInvalid, "must not be empty"}}},
		{"status unknown", one(`include_status = ["success", "error"]`),
			[]wantProblem{{6, s0 + ".include_status[1]", ErrInvalid, `unknown status "error"`}}},
		{"status empty", one(`include_status = []`),
			[]wantProblem{{6, s0 + ".include_status", ErrInvalid, "must not be empty"}}},

		// Numbers: explicit zero is not "use the default".
		{"max_attempts zero", one(`max_attempts = 0`),
			[]wantProblem{{6, s0 + ".max_attempts", ErrInvalid, "must be >= 1, got 0"}}},
		{"max_attempts one", one(`max_attempts = 1`), nil},
		{"max_age_hours zero", one(`max_age_hours = 0`),
			[]wantProblem{{6, s0 + ".max_age_hours", ErrInvalid, "must be >= 1, got 0"}}},
		{"max_age_hours typed", one(`max_age_hours = "1d"`),
			[]wantProblem{{6, s0 + ".max_age_hours", ErrType, "integer"}}},
		{"initial_backoff_ms zero", one(`initial_backoff_ms = 0`),
			[]wantProblem{{6, s0 + ".initial_backoff_ms", ErrInvalid, "must be >= 1, got 0"}}},
		{"backoff_factor below one", one(`backoff_factor = 0.5`),
			[]wantProblem{{6, s0 + ".backoff_factor", ErrInvalid, "must be a finite number >= 1, got 0.5"}}},
		{"backoff_factor nan", one(`backoff_factor = nan`),
			[]wantProblem{{6, s0 + ".backoff_factor", ErrInvalid, "must be a finite number >= 1"}}},
		{"backoff_factor inf", one(`backoff_factor = inf`),
			[]wantProblem{{6, s0 + ".backoff_factor", ErrInvalid, "must be a finite number >= 1"}}},
		{"backoff_factor integer", one(`backoff_factor = 3`), nil},
		{"jitter_ms zero", one(`jitter_ms = 0`), nil},
		{"jitter_ms negative", one(`jitter_ms = -1`),
			[]wantProblem{{6, s0 + ".jitter_ms", ErrInvalid, "must be >= 0, got -1"}}},
		{"per_request_timeout_ms zero", one(`per_request_timeout_ms = 0`),
			[]wantProblem{{6, s0 + ".per_request_timeout_ms", ErrInvalid, "must be >= 1, got 0"}}},

		// Unknown keys and types in a subscription.
		{"unknown subscription key", one(`max_attempt = 3`),
			[]wantProblem{{6, s0 + ".max_attempt", ErrUnknownKey, `did you mean "max_attempts"`}}},
		{"unknown subscription table", one("[spec_ops.webhooks.subscriptions.headers]\nx = 1"),
			[]wantProblem{{6, s0 + ".headers", ErrUnknownKey, "unknown table"}}},
		{"type string for int", one(`max_attempts = "ten"`),
			[]wantProblem{{6, s0 + ".max_attempts", ErrType, "want an integer, got TOML string"}}},
		{"type float for int", one(`jitter_ms = 2.5`),
			[]wantProblem{{6, s0 + ".jitter_ms", ErrType, "want an integer, got TOML float"}}},
		{"type string for bool", one(`active = "no"`),
			[]wantProblem{{6, s0 + ".active", ErrType, "want a boolean, got TOML string"}}},
		{"type string for list", one(`include_status = "success"`),
			[]wantProblem{{6, s0 + ".include_status", ErrType, "want an array of strings, got TOML string"}}},
		{"type int in list", one(`include_events = ["spec-kit.ping", 3]`),
			[]wantProblem{{6, s0 + ".include_events[1]", ErrType, "want a string, got TOML integer"}}},
		{"type bool for webhooks", "[spec_ops]\nwebhooks = true\n",
			[]wantProblem{{2, "spec_ops.webhooks", ErrType, "want a table"}}},
		{"subscriptions as one table", "[spec_ops.webhooks.subscriptions]\n" + base,
			[]wantProblem{{1, "spec_ops.webhooks.subscriptions", ErrType, "want an array of tables"}}},

		// Inline tables get the same keys and lines.
		{"inline subscriptions", "[spec_ops.webhooks]\nsubscriptions = [\n" +
			"  { id = \"a\", url = \"https://a.example/h\", secret_env = \"S\" },\n" +
			"  { id = \"b\", url = \"http://b.example/h\", secret_env = \"S\", colour = 1 },\n]\n",
			[]wantProblem{
				{4, s1 + ".url", ErrInvalid, "is not https"},
				{4, s1 + ".colour", ErrUnknownKey, "unknown key"},
			}},
		{"inline webhooks at root", "spec_ops = { webhooks = { enabled = true, bogus = 1 } }\n",
			[]wantProblem{{1, "spec_ops.webhooks.bogus", ErrUnknownKey, "unknown key"}}},

		// Not TOML.
		{"syntax unterminated string", one(`url_env = "OPS`),
			[]wantProblem{{6, s0 + ".url_env", ErrSyntax, "basic strings cannot have new lines"}}},
		{"syntax missing value", "model = \"x\"\n\n[profiles.x]\nfoo = \n",
			[]wantProblem{{4, "profiles.x.foo", ErrSyntax, ""}}},
		{"syntax bad header", "[spec_ops.webhooks\nenabled = true\n",
			[]wantProblem{{1, "spec_ops.webhooks", ErrSyntax, "expected ']'"}}},
		{"duplicate key", one(`id = "again"`),
			[]wantProblem{{6, s0 + ".id", ErrSyntax, "already defined"}}},
		{"duplicate key outside webhooks", "model = \"a\"\n[x]\ny = 1\ny = 2\n",
			[]wantProblem{{4, "x.y", ErrSyntax, "already defined"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(file, []byte(tt.doc))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("unexpected error:\n%v", err)
				}
				if c == nil || c.Path != file {
					t.Fatalf("config = %+v, want Path %q", c, file)
				}
				return
			}
			if c != nil {
				t.Errorf("got a config along with errors")
			}
			assertErrors(t, err, file, tt.want...)
		})
	}
}

// Every problem is reported, in file order, not just the first.
func TestParseReportsAllProblems(t *testing.T) {
	doc := `model = "gpt-5"
[spec_ops.webhooks]
max_concurrency = 0
retries = 3

[[spec_ops.webhooks.subscriptions]]
id = "a_b"
url = "http://example.com/x?token=SEKRIT"
include_stages = ["nope"]
max_attempts = 0

[[spec_ops.webhooks.subscriptions]]
id = "ok"
url_env = "U"
secret_env = "S"
`
	_, err := Parse("c.toml", []byte(doc))
	const s0 = "spec_ops.webhooks.subscriptions[0]"
	assertErrors(t, err, "c.toml",
		wantProblem{3, "spec_ops.webhooks.max_concurrency", ErrInvalid, ">= 1"},
		wantProblem{4, "spec_ops.webhooks.retries", ErrUnknownKey, "unknown key"},
		wantProblem{6, s0 + ".secret_env", ErrInvalid, "is required"},
		wantProblem{7, s0 + ".id", ErrInvalid, "not a valid id"},
		wantProblem{8, s0 + ".url", ErrInvalid, `"http://example.com/x" is not https`},
		wantProblem{9, s0 + ".include_stages[0]", ErrInvalid, "unknown stage"},
		wantProblem{10, s0 + ".max_attempts", ErrInvalid, ">= 1"},
	)
	if strings.Contains(err.Error(), "SEKRIT") || strings.Contains(err.Error(), "token") {
		t.Errorf("a URL query leaked into the message:\n%v", err)
	}
	es := err.(Errors)
	lines := make([]int, len(es))
	for i, e := range es {
		lines[i] = e.Line
	}
	if !slices.IsSorted(lines) {
		t.Errorf("problems not in file order: %v", lines)
	}
	if n := strings.Count(err.Error(), "\n"); n != len(es)-1 {
		t.Errorf("want one line per problem, got %d newlines for %d problems", n, len(es))
	}
}

func TestURLNeverEchoesUserinfoOrQuery(t *testing.T) {
	doc := head + "id = \"ops\"\nsecret_env = \"S\"\nurl = \"http://alice:hunter2@example.com/p?token=abc#frag\"\n"
	_, err := Parse("c.toml", []byte(doc))
	assertErrors(t, err, "c.toml", wantProblem{5, "spec_ops.webhooks.subscriptions[0].url", ErrInvalid, `"http://example.com/p" is not https`})
	for _, leak := range []string{"alice", "hunter2", "token", "abc", "frag"} {
		if strings.Contains(err.Error(), leak) {
			t.Errorf("message leaks %q: %v", leak, err)
		}
	}
}
