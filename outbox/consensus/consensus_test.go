package consensus_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spec-kit/outbox/outbox/consensus"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseTestdata(t *testing.T) {
	tests := []struct {
		file       string
		want       *consensus.Consensus
		wantStatus string
		wantCount  int
	}{
		{
			// Flat shape; the file says ok next to an unresolved conflict.
			file: "synthesis_flat_conflict.json",
			want: &consensus.Consensus{
				Format:         consensus.FormatSynthesis,
				Stage:          "Plan",
				ReportedStatus: "ok",
				Agreements: []string{
					"All agents plan a spool of one file per delivery under the SPEC's webhooks/ folder.",
					"Signatures use HMAC-SHA256 over the raw body.",
				},
				Conflicts: []string{"Commit cadence for the ledger (every enqueue or once per deliver run) is still open."},
				Notes:     "Proceed to /spec-tasks once the arbiter settles the commit cadence.",
			},
			wantStatus: "conflict",
			wantCount:  1,
		},
		{
			file: "synthesis_nested_resolved.json",
			want: &consensus.Consensus{
				Format:         consensus.FormatSynthesis,
				Stage:          "Tasks",
				ReportedStatus: "ok",
				Agreements: []string{
					"Anchor the task list to the 2026-01-02T03:04:05Z guardrail telemetry.",
					"Mirror the SPEC row in SPEC.md.",
				},
				Resolved: []consensus.Resolved{{
					Issue:      "Whether to split replay into its own task now or during /implement",
					Resolution: "Split it now; the acceptance test lands with /implement",
				}},
				Telemetry: "docs/SPEC-OPS-004-integrated-coder-hooks/evidence/commands/SPEC-KIT-900-sample/spec-tasks_2026-01-02T03:04:05Z-1234.json",
			},
			wantStatus: "ok",
			wantCount:  0,
		},
		{
			file: "synthesis_degraded.json",
			want: &consensus.Consensus{
				Format:         consensus.FormatSynthesis,
				Stage:          "Implement",
				SpecID:         "SPEC-KIT-900-sample",
				Timestamp:      "2026-01-02T04:00:00Z",
				ReportedStatus: "degraded",
				Agreements:     []string{"Write spool files with O_EXCL, fsync, then rename."},
				Agents:         []consensus.Agent{{Name: "gpt_codex"}, {Name: "claude"}},
				Notes:          "gemini timed out after 600 s; synthesis built from two agents",
			},
			wantStatus: "degraded",
			wantCount:  0,
		},
		{
			// Two lines: the second (last) wins. No conflict is listed, but
			// disagreement_detected is true and an agent errored.
			file: "telemetry_v2.jsonl",
			want: &consensus.Consensus{
				Format:         consensus.FormatTelemetryV2,
				Stage:          "Plan",
				SpecID:         "SPEC-KIT-900-sample",
				SessionID:      "2026-01-02T03:00:00Z",
				Timestamp:      "2026-01-02T03:00:00Z",
				ReportedStatus: "ok",
				Agents: []consensus.Agent{
					{Name: "gemini", Model: "gemini-2.5-pro", Status: "error", Error: "agent execution failed"},
					{Name: "gpt_pro", Model: "gpt-5", Status: "ok"},
				},
				DisagreementDetected: true,
			},
			wantStatus: "conflict",
			wantCount:  1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			c, err := consensus.Parse(readTestdata(t, tt.file))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(c, tt.want) {
				t.Errorf("Parse:\n got %+v\nwant %+v", c, tt.want)
			}
			if got := c.Status(); got != tt.wantStatus {
				t.Errorf("Status() = %q, want %q", got, tt.wantStatus)
			}
			if got := c.ConflictCount(); got != tt.wantCount {
				t.Errorf("ConflictCount() = %d, want %d", got, tt.wantCount)
			}
		})
	}
}

// TestParseShapes covers the variations real files show, one at a time.
func TestParseShapes(t *testing.T) {
	tests := []struct {
		name  string
		input string
		check func(t *testing.T, c *consensus.Consensus)
	}{
		{
			name:  "nested wins over flat",
			input: `{"stage":"plan","status":"conflict","agreements":["flat"],"conflicts":["flat conflict"],"consensus":{"status":"OK","agreements":["nested"],"conflicts":[]}}`,
			check: func(t *testing.T, c *consensus.Consensus) {
				eq(t, "Agreements", c.Agreements, []string{"nested"})
				eq(t, "Conflicts", c.Conflicts, []string(nil))
				eq(t, "ReportedStatus", c.ReportedStatus, "ok")
				eq(t, "Status()", c.Status(), "ok")
			},
		},
		{
			name:  "flat kept where nested is absent or null",
			input: `{"stage":"spec-plan","conflicts":["flat conflict"],"consensus":{"agreements":["nested"],"conflicts":null}}`,
			check: func(t *testing.T, c *consensus.Consensus) {
				eq(t, "Conflicts", c.Conflicts, []string{"flat conflict"})
				eq(t, "Agreements", c.Agreements, []string{"nested"})
			},
		},
		{
			name: "object entries of conflicts and disagreement_points",
			input: `{"schemaVersion":"2","command":"spec-validate","consensus":{"conflicts":[
				{"summary":"by summary","point":"not this"},
				{"summary":"","point":"by point"},
				{"issue":"by issue"},
				{"description":" by description "},
				{"topic":"by topic"},
				{"summary":42,"severity":"high"},
				null, "", "  plain  "],
				"disagreement_points":["plain", {"point":"by point"}, {"point":"new point"}]}}`,
			check: func(t *testing.T, c *consensus.Consensus) {
				eq(t, "Format", c.Format, consensus.FormatTelemetryV2)
				eq(t, "Stage", c.Stage, "Validate")
				eq(t, "Conflicts", c.Conflicts, []string{
					"by summary", "by point", "by issue", "by description", "by topic",
					`{"summary":42,"severity":"high"}`, "plain", "new point",
				})
				eq(t, "ConflictCount()", c.ConflictCount(), 8)
			},
		},
		{
			name:  "disagreement_points repeating conflicts count once",
			input: `{"schemaVersion":"2.0","command":"spec-plan","consensus":{"status":"conflict","conflicts":["a","b"],"disagreement_points":["a","b"],"disagreement_detected":true}}`,
			check: func(t *testing.T, c *consensus.Consensus) {
				eq(t, "ConflictCount()", c.ConflictCount(), 2)
				eq(t, "Status()", c.Status(), "conflict")
			},
		},
		{
			name: "nulls everywhere",
			input: `{"schemaVersion":2.0,"command":null,"specId":null,"sessionId":null,"timestamp":null,"notes":null,
				"consensus":{"status":null,"agreements":null,"conflicts":null,"conflicts_resolved":null,
				"agents":[null,{"agent":"a","model_id":null,"status":null,"error":null}],
				"disagreement_detected":null,"disagreement_points":null,"escalation_triggered":null,"escalation_reason":null}}`,
			check: func(t *testing.T, c *consensus.Consensus) {
				eq(t, "Format", c.Format, consensus.FormatTelemetryV2)
				eq(t, "Agents", c.Agents, []consensus.Agent{{Name: "a"}})
				eq(t, "Status()", c.Status(), "ok")
				eq(t, "ConflictCount()", c.ConflictCount(), 0)
			},
		},
		{
			name:  "telemetry v2 by consensus and command, without schemaVersion",
			input: `{"command":"spec-ops-audit","sessionId":"s1","consensus":{"status":"Degraded","escalation_triggered":true,"escalation_reason":"two agents failed"}}`,
			check: func(t *testing.T, c *consensus.Consensus) {
				eq(t, "Format", c.Format, consensus.FormatTelemetryV2)
				eq(t, "Stage", c.Stage, "Audit")
				eq(t, "SessionID", c.SessionID, "s1")
				eq(t, "EscalationTriggered", c.EscalationTriggered, true)
				eq(t, "EscalationReason", c.EscalationReason, "two agents failed")
				eq(t, "Status()", c.Status(), "degraded")
			},
		},
		{
			name:  "consensusStatus and consensusSummary as fallbacks",
			input: `{"schemaVersion":"2.0","command":"spec-plan","consensus":{"agents":[]},"consensusStatus":"Conflict","consensusSummary":{"agreements":["x"],"conflicts":["y"]}}`,
			check: func(t *testing.T, c *consensus.Consensus) {
				eq(t, "ReportedStatus", c.ReportedStatus, "conflict")
				eq(t, "Agreements", c.Agreements, []string{"x"})
				eq(t, "Conflicts", c.Conflicts, []string{"y"})
			},
		},
		{
			name:  "malformed consensusSummary is ignored",
			input: `{"schemaVersion":"2.0","command":"spec-plan","consensus":{"status":"ok"},"consensusStatus":7,"consensusSummary":[1]}`,
			check: func(t *testing.T, c *consensus.Consensus) {
				eq(t, "Status()", c.Status(), "ok")
			},
		},
		{
			name:  "consensusSummary gives only agreements and conflicts",
			input: `{"schemaVersion":"2.0","command":"spec-plan","consensus":{"status":"ok"},"consensusSummary":{"agreements":"bad","conflicts":null,"agents":[{"agent":"x","status":"error"}]}}`,
			check: func(t *testing.T, c *consensus.Consensus) {
				eq(t, "Status()", c.Status(), "ok")
				eq(t, "Agreements", c.Agreements, []string(nil))
				eq(t, "Agents", c.Agents, []consensus.Agent(nil))
			},
		},
		{
			name:  "conflicts_resolved variants",
			input: `{"consensus":{"conflicts_resolved":["just an issue",{"summary":"no issue key","resolution":{"by":"arbiter"}},{"issue":"i","resolution":null},null]}}`,
			check: func(t *testing.T, c *consensus.Consensus) {
				eq(t, "Resolved", c.Resolved, []consensus.Resolved{
					{Issue: "just an issue"},
					{Issue: "no issue key", Resolution: `{"by":"arbiter"}`},
					{Issue: "i"},
				})
				eq(t, "Status()", c.Status(), "ok")
			},
		},
		{
			name:  "agent name and model aliases, error object",
			input: `{"agents":[{"name":"claude","model":"claude-4.5-sonnet","status":"SUCCESS"},"gemini",{"agent":"gpt","status":"timeout","error":{"code":504}}]}`,
			check: func(t *testing.T, c *consensus.Consensus) {
				eq(t, "Agents", c.Agents, []consensus.Agent{
					{Name: "claude", Model: "claude-4.5-sonnet", Status: "SUCCESS"},
					{Name: "gemini"},
					{Name: "gpt", Status: "timeout", Error: `{"code":504}`},
				})
				eq(t, "Status()", c.Status(), "degraded")
			},
		},
		{
			name:  "unknown stage, unknown keys, BOM and CRLF",
			input: "\ufeff{\r\n  \"stage\": \"spec-auto\",\r\n  \"extra\": {\"deep\": [1, 2]},\r\n  \"status\": \"ok\"\r\n}\r\n",
			check: func(t *testing.T, c *consensus.Consensus) {
				eq(t, "Stage", c.Stage, "")
				eq(t, "Status()", c.Status(), "ok")
			},
		},
		{
			name:  "command is used when stage is unknown",
			input: `{"stage":"spec-auto","command":"spec-unlock","status":"ok"}`,
			check: func(t *testing.T, c *consensus.Consensus) {
				eq(t, "Stage", c.Stage, "Unlock")
			},
		},
		{
			name: "JSONL: a truncated last line is ignored",
			input: `{"schemaVersion":"2.0","command":"spec-plan","sessionId":"first","consensus":{"status":"ok"}}` + "\n" +
				`{"schemaVersion":"2.0","command":"spec-plan","sessionId":"sec`,
			check: func(t *testing.T, c *consensus.Consensus) {
				eq(t, "SessionID", c.SessionID, "first")
			},
		},
		{
			name: "JSONL: a malformed earlier line is ignored",
			input: "{not json\n\n" + `{"schemaVersion":"2.0","command":"spec-plan","consensus":{"agents":"oops"}}` + "\n" +
				`{"schemaVersion":"2.0","command":"spec-plan","sessionId":"third","consensus":{"status":"ok"}}` + "\n\n",
			check: func(t *testing.T, c *consensus.Consensus) {
				eq(t, "SessionID", c.SessionID, "third")
			},
		},
		{
			name: "JSONL: a later line without consensus does not win",
			input: `{"schemaVersion":"2.0","command":"spec-plan","sessionId":"first","consensus":{"status":"ok"}}` + "\n" +
				`{"schemaVersion":"2.0","command":"spec-plan","sessionId":"second"}`,
			check: func(t *testing.T, c *consensus.Consensus) {
				eq(t, "SessionID", c.SessionID, "first")
				eq(t, "Format", c.Format, consensus.FormatTelemetryV2)
			},
		},
		{
			name:  "a single line with a trailing newline is one document",
			input: `{"stage":"spec-plan","status":"conflict"}` + "\n",
			check: func(t *testing.T, c *consensus.Consensus) {
				eq(t, "Format", c.Format, consensus.FormatSynthesis)
				eq(t, "ConflictCount()", c.ConflictCount(), 1)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := consensus.Parse([]byte(tt.input))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			tt.check(t, c)
		})
	}
}

func eq[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func TestStatusAndConflictCount(t *testing.T) {
	ok := consensus.Agent{Name: "a", Status: "ok"}
	failed := consensus.Agent{Name: "b", Status: "error"}
	tests := []struct {
		name      string
		c         consensus.Consensus
		wantCount int
		want      string
	}{
		{"empty", consensus.Consensus{}, 0, "ok"},
		{"reported ok", consensus.Consensus{ReportedStatus: "ok", Agents: []consensus.Agent{ok}}, 0, "ok"},
		{"conflicts listed, reported ok", consensus.Consensus{ReportedStatus: "ok", Conflicts: []string{"x", "y"}}, 2, "conflict"},
		{"reported conflict, none listed", consensus.Consensus{ReportedStatus: "conflict"}, 1, "conflict"},
		{"disagreement detected, none listed", consensus.Consensus{DisagreementDetected: true}, 1, "conflict"},
		{"disagreement detected and listed", consensus.Consensus{DisagreementDetected: true, Conflicts: []string{"x", "y", "z"}}, 3, "conflict"},
		{"conflict beats degraded", consensus.Consensus{ReportedStatus: "degraded", Conflicts: []string{"x"}, Agents: []consensus.Agent{failed}}, 1, "conflict"},
		{"reported degraded", consensus.Consensus{ReportedStatus: "degraded"}, 0, "degraded"},
		{"agent failed, reported ok", consensus.Consensus{ReportedStatus: "ok", Agents: []consensus.Agent{ok, failed}}, 0, "degraded"},
		{"agent success in capitals", consensus.Consensus{Agents: []consensus.Agent{{Name: "a", Status: " Success "}}}, 0, "ok"},
		{"agent without status", consensus.Consensus{Agents: []consensus.Agent{{Name: "a"}}}, 0, "ok"},
		{"resolved conflicts only", consensus.Consensus{Resolved: []consensus.Resolved{{Issue: "x"}}}, 0, "ok"},
		{"unknown reported status", consensus.Consensus{ReportedStatus: "pending"}, 0, "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.ConflictCount(); got != tt.wantCount {
				t.Errorf("ConflictCount() = %d, want %d", got, tt.wantCount)
			}
			if got := tt.c.Status(); got != tt.want {
				t.Errorf("Status() = %q, want %q", got, tt.want)
			}
		})
	}
	var nilC *consensus.Consensus
	if nilC.ConflictCount() != 0 || nilC.Status() != "ok" {
		t.Errorf("nil *Consensus: ConflictCount() = %d, Status() = %q", nilC.ConflictCount(), nilC.Status())
	}
}

func TestParseErrors(t *testing.T) {
	const v2 = `{"schemaVersion":"2.0","command":"spec-plan",`
	tests := []struct {
		name  string
		input string
		want  []string // substrings of the message
	}{
		{"empty", "", []string{"empty input"}},
		{"blank", " \n\t\r\n", []string{"empty input"}},
		{"BOM only", "\ufeff", []string{"empty input"}},
		{"top-level array", `[{"stage":"plan"}]`, []string{"top level is a JSON array, want an object"}},
		{"top-level string", `"ok"`, []string{"top level is a JSON string"}},
		{"top-level null", `null`, []string{"top level is JSON null"}},
		{"top-level number", `12`, []string{"top level is a JSON number"}},
		{"not JSON", `stage: plan`, []string{"line 1, column 1: invalid character 's'"}},
		{"empty object", `{}`, []string{"no consensus evidence"}},
		{"no known key", `{"specId":"SPEC-KIT-1","foo":[1]}`, []string{"no consensus evidence"}},
		{"only nulls", `{"stage":null,"status":null}`, []string{"no consensus evidence"}},
		{"stage alone", `{"stage":"spec-plan"}`, []string{"no consensus evidence"}},
		{"arbiter file", string(readTestdata(t, "arbiter.json")), []string{"an arbiter file (it has resolution), not consensus evidence"}},
		{"guardrail v1", `{"schemaVersion":1,"command":"spec-ops-plan","specId":"SPEC-KIT-1"}`, []string{"schemaVersion is 1: guardrail telemetry v1"}},
		{"syntax error names line and column", "{\n  \"stage\": \"spec-plan\",\n  \"status\": ok\n}", []string{"line 3, column 13: invalid character 'o'"}},
		{"truncated document", "{\n  \"stage\": \"spec-plan\",\n  \"agreements\": [\"a\"", []string{"line 3", "unexpected end of JSON input"}},
		{"trailing garbage", `{"stage":"plan"} x`, []string{"line 1, column 18: invalid character 'x' after top-level value"}},
		{"agreements not a list", `{"stage":"plan","agreements":"all agree"}`, []string{"agreements: want a list of strings, got a string"}},
		{"agreements entry a number", `{"agreements":["a",2]}`, []string{"agreements[1]: want a string or an object, got a number"}},
		{"nested agreements not a list", `{"consensus":{"agreements":{"a":1}}}`, []string{"consensus.agreements: want a list of strings, got an object"}},
		{"conflicts entry a list", `{"conflicts":[["a"]]}`, []string{"conflicts[0]: want a string or an object, got a list"}},
		{"disagreement_points not a list", v2 + `"consensus":{"disagreement_points":true}}`, []string{"consensus.disagreement_points: want a list of strings, got a boolean"}},
		{"status a number", `{"stage":"plan","status":1}`, []string{"status: want a string, got a number"}},
		{"stage a list", `{"stage":["plan"],"status":"ok"}`, []string{"stage: want a string, got a list"}},
		{"telemetry an object", `{"stage":"plan","telemetry":{"path":"x"}}`, []string{"telemetry: want a string, got an object"}},
		{"notes a number", `{"stage":"plan","notes":3}`, []string{"notes: want a string or a list of strings, got a number"}},
		{"consensus a list", `{"stage":"plan","consensus":[]}`, []string{"consensus: want an object, got a list"}},
		{"v2 without consensus", `{"schemaVersion":"2.0","command":"spec-plan"}`, []string{"consensus: missing"}},
		{"disagreement_detected a string", v2 + `"consensus":{"disagreement_detected":"yes"}}`, []string{"consensus.disagreement_detected: want true or false, got a string"}},
		{"escalation_reason a number", v2 + `"consensus":{"escalation_reason":5}}`, []string{"consensus.escalation_reason: want a string, got a number"}},
		{"agents not a list", v2 + `"consensus":{"agents":{"agent":"a"}}}`, []string{"consensus.agents: want a list of objects, got an object"}},
		{"agent a number", v2 + `"consensus":{"agents":[{"agent":"a"},7]}}`, []string{"consensus.agents[1]: want an object, got a number"}},
		{"agent status a number", v2 + `"consensus":{"agents":[{"agent":"a"},{"agent":"b","status":0}]}}`, []string{"consensus.agents[1].status: want a string, got a number"}},
		{"conflicts_resolved entry a number", `{"consensus":{"conflicts_resolved":[1]}}`, []string{"consensus.conflicts_resolved[0]: want an object or a string, got a number"}},
		{"specId a number", v2 + `"specId":65,"consensus":{}}`, []string{"specId: want a string, got a number"}},
		{
			"JSONL: no good line, the first error wins",
			"\n\n{not json\n" + v2 + `"consensus":{"agents":"x"}}` + "\n" + v2 + `"sessionId":"s"}` + "\n",
			[]string{"line 3: invalid character 'n' looking for beginning of object key string (column 2)"},
		},
		{
			"JSONL: a field error names the line and the field",
			v2 + `"consensus":{"agents":[{"agent":1}]}}` + "\n" + v2 + `"consensus":{"agents":[{"agent":2}]}}`,
			[]string{"line 1: consensus.agents[0].agent: want a string, got a number"},
		},
		{
			"JSONL: lines without consensus",
			v2 + `"sessionId":"a"}` + "\n" + v2 + `"sessionId":"b"}`,
			[]string{"line 1: no consensus block"},
		},
		{
			"JSONL: a line that is an array",
			"[1]\n" + v2 + `"sessionId":"b"}`,
			[]string{"line 1: the top level is a JSON array, want an object"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := consensus.Parse([]byte(tt.input))
			if err == nil {
				t.Fatalf("Parse = %+v, want an error", c)
			}
			if c != nil {
				t.Errorf("Parse returned %+v with its error, want nil", c)
			}
			if !errors.Is(err, consensus.ErrFormat) {
				t.Errorf("error %q does not wrap ErrFormat", err)
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error %q is not one line", msg)
			}
		})
	}
}
