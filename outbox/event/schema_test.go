package event_test

import (
	"strings"
	"testing"

	"github.com/spec-kit/outbox/internal/schematest"
	"github.com/spec-kit/outbox/outbox/event"
)

func valid() *event.Payload {
	return &event.Payload{
		SchemaVersion: event.SchemaVersion,
		Event: event.Info{ID: "0192f0e4-3c1a-7b2e-8c3d-4e5f60718293", Type: event.TypeStageCompleted,
			Status: event.StatusSuccess, Stage: "Plan", IdempotencyKey: "S/Plan/s1", OccurredAt: "2026-12-04T10:00:00.000Z"},
		Spec:     event.Spec{ID: "SPEC-KIT-065", Branch: "main"},
		Evidence: event.Evidence{Paths: []string{"docs/a.json"}},
	}
}

func TestSchemaAcceptsAndRejects(t *testing.T) {
	tests := []struct {
		name string
		mod  func(p *event.Payload)
		ok   bool
	}{
		{"minimal stage event", func(*event.Payload) {}, true},
		{"task event without stage", func(p *event.Payload) {
			p.Event.Type, p.Event.Stage, p.Event.Status = event.TypeTaskCompleted, "", ""
			p.Task = &event.Task{ID: "T60", Title: "x", Status: "Done"}
		}, true},
		{"with telemetry and data", func(p *event.Payload) {
			p.Telemetry = &event.Telemetry{Path: "docs/t.json", Artifacts: []string{"docs/t.log"}, ParseError: "bad"}
			p.Data = map[string]string{"run": "1"}
		}, true},
		{"stage event without stage", func(p *event.Payload) { p.Event.Stage = "" }, false},
		{"unknown stage", func(p *event.Payload) { p.Event.Stage = "Deploy" }, false},
		{"unknown type", func(p *event.Payload) { p.Event.Type = "spec-auto.other" }, false},
		{"absolute evidence path", func(p *event.Payload) { p.Evidence.Paths = []string{"/home/x/docs/a.json"} }, false},
		{"dot-dot evidence path", func(p *event.Payload) { p.Evidence.Paths = []string{"docs/../../etc/passwd"} }, false},
		{"absolute artifact", func(p *event.Payload) {
			p.Telemetry = &event.Telemetry{Artifacts: []string{"/srv/ci/a.log"}}
		}, false},
		{"event id not uuidv7", func(p *event.Payload) { p.Event.ID = "123" }, false},
		{"local time", func(p *event.Payload) { p.Event.OccurredAt = "2026-12-04T10:00:00+01:00" }, false},
		{"bad data key", func(p *event.Payload) { p.Data = map[string]string{"a b": "1"} }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := valid()
			tt.mod(p)
			body, err := p.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if err := schematest.Check(body); (err == nil) != tt.ok {
				t.Fatalf("schema said %v, want ok=%v\n%s", err, tt.ok, body)
			}
		})
	}
}

func TestMarshalIsStableAndUnescaped(t *testing.T) {
	p := valid()
	p.Data = map[string]string{"z": "<&>", "a": "1"}
	a, _ := p.Marshal()
	b, _ := p.Marshal()
	if string(a) != string(b) {
		t.Fatal("two marshals differ")
	}
	if !strings.Contains(string(a), `"z": "<&>"`) || strings.HasSuffix(string(a), "\n") {
		t.Fatalf("body:\n%s", a)
	}
	if strings.Index(string(a), `"a": "1"`) > strings.Index(string(a), `"z"`) {
		t.Fatal("data keys are not sorted")
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{"plan": "Plan", "spec-ops-validate": "Validate", "spec-audit": "Audit", " UNLOCK ": "Unlock", "deploy": ""} {
		if got, _ := event.NormalizeStage(in); got != want {
			t.Errorf("NormalizeStage(%q) = %q, want %q", in, got, want)
		}
	}
	if got, ok := event.NormalizeStatus("HALT"); got != "halt" || !ok {
		t.Errorf("NormalizeStatus(HALT) = %q %v", got, ok)
	}
	if !event.IsAnomaly(event.TypeConsensusConflict) || event.IsAnomaly(event.TypePing) {
		t.Error("IsAnomaly")
	}
}
