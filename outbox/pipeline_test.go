package outbox

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spec-kit/outbox/fixtures"
	"github.com/spec-kit/outbox/outbox/event"
)

// failedValidate is a validate run newer than the fixture's successful one.
const failedValidate = `{
  "schemaVersion": 1,
  "command": "spec-ops-validate",
  "specId": "` + fixtures.SpecID + `",
  "sessionId": "2026-11-21T09:00:00Z-42",
  "timestamp": "2026-11-21T09:03:00Z",
  "scenarios": [{"name": "webhook delivery smoke", "status": "failed"}],
  "artifacts": []
}`

func TestPipelineCompleted(t *testing.T) {
	validateFile := "spec-validate_2026-11-21T09:00:00Z-42.json"
	tests := []struct {
		name           string
		status         string            // --status
		extra          map[string]string // files added to the evidence folder
		emptyDir       bool              // evidence of another SPEC: no telemetry at all
		wantStatus     string
		wantFailed     string // failed_stage
		wantFailTel    string // failed_telemetry base name
		wantMissing    int
		wantParseError string // the stage whose telemetry reports a parse error
	}{
		{name: "all six succeeded", wantStatus: event.StatusSuccess},
		{name: "explicit success", status: "success", wantStatus: event.StatusSuccess},
		{name: "newer validate failed", extra: map[string]string{validateFile: failedValidate},
			wantStatus: event.StatusFailure, wantFailed: "Validate", wantFailTel: validateFile},
		{name: "failure said, no stage failed", status: "failure",
			wantStatus: event.StatusFailure, wantFailed: "Unlock", wantFailTel: "spec-unlock_2026-11-20T11:02:31Z-2750019436.json"},
		// Partly readable: the stage keeps the status its checks give, and
		// says what could not be read (as a stage event would).
		{name: "newer partly unreadable telemetry", extra: map[string]string{"spec-tasks_2026-11-21T00:00:00Z-1.json": `{"schemaVersion": 1, "command": "spec-ops-tasks", "timestamp": "2026-11-21T00:00:00Z", "specId": 7, "policy": {"final": {"status": "failed"}}}`},
			wantStatus: event.StatusFailure, wantFailed: "Tasks", wantFailTel: "spec-tasks_2026-11-21T00:00:00Z-1.json", wantParseError: "Tasks"},
		// A guardrail that died mid-write: the newest audit file is
		// truncated, and its name says when it was written.
		{name: "newest telemetry truncated", extra: map[string]string{"spec-audit_2026-11-21T00:00:00Z-9.json": `{"schemaVersion": 1, "command": "spec-ops-au`},
			wantStatus: event.StatusFailure, wantFailed: "Audit", wantFailTel: "spec-audit_2026-11-21T00:00:00Z-9.json", wantParseError: "Audit"},
		{name: "no telemetry", emptyDir: true, wantStatus: event.StatusFailure, wantFailed: "Plan", wantMissing: 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, cfg := sampleRepo(t, "valid.toml")
			spec := fixtures.SpecID
			if tt.emptyDir {
				spec = "SPEC-KIT-999"
			}
			for name, content := range tt.extra {
				if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(fixtures.CommandsDir), name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			em := &Emitter{Config: cfg, RepoRoot: root, Getenv: func(string) string { return "" }}
			res, err := em.Emit(Request{Spec: spec, Event: event.TypePipelineCompleted, Status: tt.status, Preview: true})
			if err != nil {
				t.Fatal(err)
			}
			p := decodePayload(t, res.Body)
			pl := p.Pipeline
			if p.Event.Status != tt.wantStatus || pl.FailedStage != tt.wantFailed || filepath.Base(pl.FailedTelemetry) != firstNonEmpty(tt.wantFailTel, ".") {
				t.Errorf("status %q failed %q %q, want %q %q %q", p.Event.Status, pl.FailedStage, pl.FailedTelemetry, tt.wantStatus, tt.wantFailed, tt.wantFailTel)
			}
			if len(pl.MissingStages) != tt.wantMissing || len(pl.Stages)+len(pl.MissingStages) != 6 {
				t.Errorf("stages %d, missing %v", len(pl.Stages), pl.MissingStages)
			}
			for i, s := range pl.Stages {
				if i > 0 && slices.Index(event.Stages, s.Stage) <= slices.Index(event.Stages, pl.Stages[i-1].Stage) {
					t.Errorf("stages out of pipeline order: %v", pl.Stages)
				}
				if !slices.Contains(p.Evidence.Paths, s.Telemetry) || !strings.HasPrefix(s.Telemetry, "docs/") {
					t.Errorf("stage telemetry %q not in evidence %q", s.Telemetry, p.Evidence.Paths)
				}
			}
			for _, s := range pl.Stages {
				if (s.ParseError != "") != (s.Stage == tt.wantParseError) {
					t.Errorf("stage %s: parse_error %q", s.Stage, s.ParseError)
				}
			}
			if tt.wantStatus == event.StatusFailure {
				want := "/spec-auto " + spec + " --from spec-" + strings.ToLower(tt.wantFailed)
				if pl.ResumeCommand != want {
					t.Errorf("resume = %q, want %q", pl.ResumeCommand, want)
				}
			}
			if tt.wantFailed == "Validate" {
				// The newest validate run is the one reported, not the older success.
				i := slices.IndexFunc(pl.Stages, func(s event.StageResult) bool { return s.Stage == "Validate" })
				if pl.Stages[i].SessionID != "2026-11-21T09:00:00Z-42" || pl.Stages[i].Status != event.StatusFailure {
					t.Errorf("validate = %+v", pl.Stages[i])
				}
			}
		})
	}
}

func TestPipelineCompletedRejectsHalt(t *testing.T) {
	root, cfg := sampleRepo(t, "valid.toml")
	em := &Emitter{Config: cfg, RepoRoot: root, Getenv: func(string) string { return "" }}
	_, err := em.Emit(Request{Spec: fixtures.SpecID, Event: event.TypePipelineCompleted, Status: "halt"})
	if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "success or failure") {
		t.Fatalf("err = %v", err)
	}
}

// TestPipelineCompletedIdempotent: the same run reported twice enqueues once.
func TestPipelineCompletedIdempotent(t *testing.T) {
	root, cfg := sampleRepo(t, "valid.toml")
	em := &Emitter{Config: cfg, RepoRoot: root, Getenv: func(string) string { return "" }}
	req := Request{Spec: fixtures.SpecID, Event: event.TypePipelineCompleted}
	first, err := em.Emit(req)
	if err != nil {
		t.Fatal(err)
	}
	second, err := em.Emit(req)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Deliveries) == 0 || first.Duplicate || !second.Duplicate {
		t.Fatalf("first %d deliveries (dup %v), second dup %v", len(first.Deliveries), first.Duplicate, second.Duplicate)
	}
	if want := fixtures.SpecID + "/pipeline/2026-11-20T11:02:31Z-2750019436"; first.IdempotencyKey != want {
		t.Errorf("key = %q, want %q", first.IdempotencyKey, want)
	}
}
