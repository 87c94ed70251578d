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

func TestParseArbiter(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  *consensus.Arbiter
	}{
		{
			name:  "testdata",
			input: string(readTestdata(t, "arbiter.json")),
			want: &consensus.Arbiter{
				Stage:    "Plan",
				Arbiter:  "gpt-5-codex",
				Status:   "resolved",
				Decision: "Commit webhook files once per deliver run; commit per emit only with --commit.",
				Followups: []string{
					"Record the commit cadence decision in spec.md under Clarifications.",
					"Add a validate scenario for a commit while git holds index.lock.",
				},
			},
		},
		{
			name:  "minimal, nulls and object followups",
			input: `{"stage":null,"arbiter":null,"resolution":{"status":null,"decision":" Go. ","updates":{"followups":[null,{"note":"n"},{"summary":"s"}]}}}`,
			want: &consensus.Arbiter{
				Decision:  "Go.",
				Followups: []string{`{"note":"n"}`, "s"},
			},
		},
		{
			name:  "unknown stage",
			input: `{"stage":"spec-auto","resolution":{"decision":"d","updates":null}}`,
			want:  &consensus.Arbiter{Decision: "d"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := consensus.ParseArbiter([]byte(tt.input))
			if err != nil {
				t.Fatalf("ParseArbiter: %v", err)
			}
			if !reflect.DeepEqual(a, tt.want) {
				t.Errorf("ParseArbiter:\n got %+v\nwant %+v", a, tt.want)
			}
		})
	}
}

func TestParseArbiterErrors(t *testing.T) {
	tests := []struct {
		name       string
		input      string
		want       string
		noDecision bool
	}{
		{"empty", "  ", "empty input", false},
		{"array", `[]`, "top level is a JSON array", false},
		{"syntax", "{\n\"stage\": spec-plan}", "line 2, column 10: invalid character 's'", false},
		{"no resolution", `{"stage":"spec-plan","arbiter":"x"}`, "resolution.decision: no arbiter decision", true},
		{"null decision", `{"resolution":{"status":"resolved","decision":null}}`, "resolution.decision: no arbiter decision", true},
		{"blank decision", `{"resolution":{"decision":"  "}}`, "resolution.decision: no arbiter decision", true},
		{"decision an object", `{"resolution":{"decision":{"text":"x"}}}`, "resolution.decision: want a string, got an object", false},
		{"resolution a string", `{"resolution":"resolved"}`, "resolution: want an object, got a string", false},
		{"updates a list", `{"resolution":{"decision":"d","updates":[]}}`, "resolution.updates: want an object, got a list", false},
		{"followups a string", `{"resolution":{"decision":"d","updates":{"followups":"x"}}}`, "resolution.updates.followups: want a list of strings, got a string", false},
		{"arbiter a number", `{"arbiter":5,"resolution":{"decision":"d"}}`, "arbiter: want a string, got a number", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := consensus.ParseArbiter([]byte(tt.input))
			if err == nil {
				t.Fatalf("ParseArbiter = %+v, want an error", a)
			}
			if !errors.Is(err, consensus.ErrFormat) {
				t.Errorf("error %q does not wrap ErrFormat", err)
			}
			if got := errors.Is(err, consensus.ErrNoDecision); got != tt.noDecision {
				t.Errorf("errors.Is(%q, ErrNoDecision) = %v, want %v", err, got, tt.noDecision)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestFindArbiter(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{
		"spec-plan_2026-11-20T10-05-12Z_synthesis.json",
		"spec-plan_2026-11-20T10-05-12Z_telemetry.jsonl",
		"spec-plan_2026-11-20T10-05-12Z_arbiter.json",
		"spec-plan_2026-11-21T09-00-00Z_arbiter.json", // newest Plan arbiter
		"spec-plan_2026-11-22T09-00-00Z_arbiter.md",   // not JSON
		"spec-planning_2026-11-23_arbiter.json",       // another prefix
		"spec-tasks_2026-11-22T08-00-00Z_arbiter.json",
		"spec-tasks_2026-11-21T08-00-00Z_arbiter.json",
		"spec-implement_2026-11-22_synthesis.json",
		"notes-arbiter.txt",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A directory is never a match, however it is named.
	if err := os.Mkdir(filepath.Join(dir, "spec-plan_2026-12-31_arbiter.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	upper := t.TempDir()
	for _, name := range []string{"SPEC-PLAN-ARBITER_030.JSON", "spec-plan-arbiter_029.json", "spec-validate-synthesis_030.json"} {
		if err := os.WriteFile(filepath.Join(upper, name), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	consensusFile := filepath.Join(dir, "spec-plan_2026-11-20T10-05-12Z_synthesis.json")

	tests := []struct {
		name, path, stage, want string
	}{
		{"canonical stage", consensusFile, "Plan", "spec-plan_2026-11-21T09-00-00Z_arbiter.json"},
		{"spec-plan spelling", consensusFile, "spec-plan", "spec-plan_2026-11-21T09-00-00Z_arbiter.json"},
		{"lower case", consensusFile, "plan", "spec-plan_2026-11-21T09-00-00Z_arbiter.json"},
		{"another stage", consensusFile, "Tasks", "spec-tasks_2026-11-22T08-00-00Z_arbiter.json"},
		{"no arbiter for the stage", consensusFile, "Implement", ""},
		{"any stage", consensusFile, "", "spec-tasks_2026-11-22T08-00-00Z_arbiter.json"},
		{"consensus file need not exist", filepath.Join(dir, "missing.json"), "Plan", "spec-plan_2026-11-21T09-00-00Z_arbiter.json"},
		{"names compared in lower case", filepath.Join(upper, "spec-plan-synthesis_030.json"), "Plan", "SPEC-PLAN-ARBITER_030.JSON"},
		{"upper-case name alone", filepath.Join(upper, "x.json"), "Validate", ""},
		{"directory does not exist", filepath.Join(dir, "nope", "spec-plan_synthesis.json"), "Plan", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := consensus.FindArbiter(tt.path, tt.stage)
			if err != nil {
				t.Fatalf("FindArbiter: %v", err)
			}
			want := tt.want
			if want != "" {
				want = filepath.Join(filepath.Dir(tt.path), want)
			}
			if got != want {
				t.Errorf("FindArbiter(%q, %q) = %q, want %q", tt.path, tt.stage, got, want)
			}
		})
	}

	t.Run("unknown stage", func(t *testing.T) {
		got, err := consensus.FindArbiter(consensusFile, "deploy")
		if !errors.Is(err, consensus.ErrUnknownStage) || got != "" {
			t.Errorf("FindArbiter(..., %q) = %q, %v; want ErrUnknownStage", "deploy", got, err)
		}
	})

}
