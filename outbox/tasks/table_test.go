package tasks

import (
	"fmt"
	"strings"
	"testing"

	"github.com/spec-kit/outbox/fixtures"
)

// brief renders rows compactly for comparison.
func brief(rows []Row) string {
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%s|%s|%s|%s|%v|%s:%d\n", r.Spec, r.TaskID, r.Title, r.Status, r.Done, r.Source, r.Line)
	}
	return b.String()
}

func TestParseFixtureSpecMD(t *testing.T) {
	data, err := fixtures.FS.ReadFile("repo/SPEC.md")
	if err != nil {
		t.Fatal(err)
	}
	got := brief(Parse(data, "SPEC.md", ""))
	want := `SPEC-KIT-060-evidence-archive-rotation|T60|Evidence archive rotation|Done|true|SPEC.md:13
SPEC-KIT-061-telemetry-schema-lint|T61|Guardrail telemetry schema v1 lint|Done|true|SPEC.md:14
SPEC-KIT-062-consensus-cost-dashboard|T62|Consensus cost dashboard|In Progress|false|SPEC.md:15
|T63|HAL secret rotation runbook|Backlog|false|SPEC.md:16
|T64|/spec-status TUI badges|Backlog|false|SPEC.md:17
SPEC-KIT-065-add-webhook-notification-system-for|T65|Webhook notification system for task completion events|In Progress|false|SPEC.md:18
|T66|Nightly evidence drift check|Backlog|false|SPEC.md:19
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestParseFixtureTasksMD(t *testing.T) {
	src := "docs/" + fixtures.SpecID + "/tasks.md"
	data, err := fixtures.FS.ReadFile("repo/" + src)
	if err != nil {
		t.Fatal(err)
	}
	rows := Parse(data, src, fixtures.SpecID)
	var done []string
	for _, r := range rows {
		if r.Spec != fixtures.SpecID || r.Source != src {
			t.Errorf("%+v: want spec %s, source %s", r, fixtures.SpecID, src)
		}
		if r.Done {
			done = append(done, r.TaskID+" "+r.Title)
		}
	}
	if len(rows) != 5 {
		t.Fatalf("%d rows, want 5:\n%s", len(rows), brief(rows))
	}
	if got, want := strings.Join(done, ";"), "T65.1 Event payload and JSON Schema;T65.2 Spool writer for outbox emit"; got != want {
		t.Errorf("done = %q, want %q", got, want)
	}
}

func TestParseCrafted(t *testing.T) {
	for _, tc := range []struct {
		name, spec, md, want string
	}{{
		name: "bold, links, code, emoji, extra and reordered columns",
		md: `# Tracker

| Status | Owner | **Task ID** | Title | PRD | Extra |
|:------:|-------|-------------|-------|-----|-------|
| **Done** | me | ` + "`T1`" + ` | [Write docs](https://x.example/1) | [prd](docs/SPEC-KIT-001-docs/spec.md) | x |
| ✅ Done | me | T2 | *Emphasis* and __bold__ | docs/SPEC-KIT-002/spec.md | |
| done | me | T3 | lower-case done |  | |
| In Progress | me | T4 | not yet | docs/SPEC-KIT-001-docs/spec.md | |
| ~~Done~~ | me | T5 | strike still done | | |
| Not done | me | T6 | negated | | |
| Completed (2026-11-02) | me | T7 | synonym with a date | | |
| ✅ | me | T8 | check mark only | | |
| | me | | no id: skipped | | |
`,
		want: `SPEC-KIT-001-docs|T1|Write docs|Done|true|f.md:5
SPEC-KIT-002|T2|Emphasis and bold|✅ Done|true|f.md:6
|T3|lower-case done|done|true|f.md:7
SPEC-KIT-001-docs|T4|not yet|In Progress|false|f.md:8
|T5|strike still done|Done|true|f.md:9
|T6|negated|Not done|false|f.md:10
|T7|synonym with a date|Completed (2026-11-02)|true|f.md:11
|T8|check mark only|✅|true|f.md:12
`,
	}, {
		name: "missing optional columns, no outer pipes",
		md: `Task ID | Status
--- | ---
T1 | Done
T2 | Backlog
`,
		want: `|T1||Done|true|f.md:3
|T2||Backlog|false|f.md:4
`,
	}, {
		name: "short rows, escaped pipe, <br>",
		md: `| ID | Title | Status | Notes |
|----|-------|--------|-------|
| T1 | a \| b | Done |
| T2 | two<br>lines | Done | see SPEC-OPS-004-hooks and SPEC-KIT-009-x |
| T3 | short
`,
		want: `|T1|a | b|Done|true|f.md:3
SPEC-KIT-009-x|T2|two lines|Done|true|f.md:4
|T3|short||false|f.md:5
`,
	}, {
		name: "two tables, a non-tracker table and a fenced one in between",
		md: `## Phase 1

| Task ID | Title | Status | Branch |
|---|---|---|---|
| A1 | first | Done | feat/SPEC-KIT-070-first |

| Metric | Value |
|---|---|
| Done | 3 |

` + "```md" + `
| Task ID | Title | Status |
|---|---|---|
| Z9 | in a code fence | Done |
` + "```" + `

## Phase 2
| Task ID | Title | Status |
|---|---|---|
| B1 | second | In Progress |
| B2 | third | **DONE** |
`,
		want: `SPEC-KIT-070-first|A1|first|Done|true|f.md:5
|B1|second|In Progress|false|f.md:20
|B2|third|DONE|true|f.md:21
`,
	}, {
		name: "tasks.md: every row is the file's SPEC, cells ignored",
		spec: "SPEC-KIT-065-x",
		md: `| Task ID | Title | Status | PRD |
|---|---|---|---|
| T1 | one | Done | docs/SPEC-KIT-999-other/spec.md |
`,
		want: `SPEC-KIT-065-x|T1|one|Done|true|f.md:3
`,
	}, {
		name: "a table without a status column is not a tracker",
		md: `| Task ID | Title |
|---|---|
| T1 | one |
`,
		want: ``,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			if got := brief(Parse([]byte(tc.md), "f.md", tc.spec)); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"**Done**":                      "Done",
		"`T60`":                         "T60",
		"[T60](https://x.example/T60)":  "T60",
		"*In* _Progress_":               "In Progress",
		"snake_case_id":                 "snake_case_id",
		"a  <b>bold</b>   c":            "a bold c",
		"![img](a.png) text":            "img text",
		"<https://example.com>":         "https://example.com",
		"***Done***":                    "Done",
		"2 * 3 * 4":                     "2 * 3 * 4",
		"[ref link][1]":                 "ref link",
		"docs/SPEC-KIT-060-x/spec.md":   "docs/SPEC-KIT-060-x/spec.md",
		"__init__ done":                 "init done",
		"feat/SPEC-KIT-070-first-thing": "feat/SPEC-KIT-070-first-thing",
	} {
		if got := Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSpecOf(t *testing.T) {
	for in, want := range map[string]string{
		"docs/SPEC-KIT-060-evidence-archive-rotation/spec.md":                                                "SPEC-KIT-060-evidence-archive-rotation",
		"docs/SPEC-OPS-004-integrated-coder-hooks/evidence/commands/SPEC-KIT-060-evidence-archive-rotation/": "SPEC-KIT-060-evidence-archive-rotation",
		"SPEC-KIT-065-add-webhook-notification-system-for. Plan conflict resolved":                           "SPEC-KIT-065-add-webhook-notification-system-for",
		"feat/evidence-rotation":           "",
		"[PRD](docs/SPEC-KIT-7-x/spec.md)": "SPEC-KIT-7-x",
		"spec-kit-065 lower case":          "",
	} {
		if got := SpecOf(in); got != want {
			t.Errorf("SpecOf(%q) = %q, want %q", in, got, want)
		}
	}
}
