package event

import (
	"bytes"
	"encoding/json"
)

// SchemaVersion is the version of the payload format.
const SchemaVersion = "1.0"

// Payload is the JSON body sent to subscribers. Optional sections are left
// out when empty. See schema/payload.schema.json.
type Payload struct {
	SchemaVersion string            `json:"schemaVersion"`
	Event         Info              `json:"event"`
	Spec          Spec              `json:"spec"`
	Pipeline      *Pipeline         `json:"pipeline,omitempty"`
	Telemetry     *Telemetry        `json:"telemetry,omitempty"`
	Task          *Task             `json:"task,omitempty"`
	Evidence      Evidence          `json:"evidence"`
	Data          map[string]string `json:"data,omitempty"`
}

// Info describes the event itself.
type Info struct {
	ID             string `json:"id"`
	Type           string `json:"type"`
	Status         string `json:"status,omitempty"`
	Stage          string `json:"stage,omitempty"`
	IdempotencyKey string `json:"idempotency_key"`
	OccurredAt     string `json:"occurred_at"`
}

// Spec names the SPEC and the branch it is on.
type Spec struct {
	ID     string `json:"id"`
	Branch string `json:"branch,omitempty"`
}

// Pipeline places a stage event in its /spec-auto pipeline.
type Pipeline struct {
	Command       string `json:"command"`                  // "/spec-auto"
	Stage         string `json:"stage,omitempty"`          // the stage this event is about
	StageIndex    int    `json:"stage_index,omitempty"`    // 1-based position in Stages
	StageCount    int    `json:"stage_count"`              // len(Stages)
	ResumeCommand string `json:"resume_command,omitempty"` // how to resume after a failure or halt
}

// Telemetry carries what the guardrail telemetry file said. When the file
// was missing or malformed, ParseError says why and the rest is minimal.
type Telemetry struct {
	Path       string   `json:"path,omitempty"` // repository-relative
	Command    string   `json:"command,omitempty"`
	SpecID     string   `json:"specId,omitempty"`
	SessionID  string   `json:"sessionId,omitempty"`
	Timestamp  string   `json:"timestamp,omitempty"`
	Artifacts  []string `json:"artifacts"` // repository-relative
	Checks     []Check  `json:"checks,omitempty"`
	ParseError string   `json:"parse_error,omitempty"`
}

// Check is one status that decided a stage's outcome, e.g. policy.final.
type Check struct {
	Name   string `json:"name"`
	Status string `json:"status"`
}

// Task is a SPEC.md tracker task.
type Task struct {
	ID     string `json:"id"`
	Title  string `json:"title,omitempty"`
	Status string `json:"status,omitempty"`
}

// Evidence points at the files behind the event.
type Evidence struct {
	Paths []string `json:"paths"`           // repository-relative
	Links []string `json:"links,omitempty"` // URLs, when evidence_base_url is set
}

// Marshal encodes p as the exact body bytes to send: indented JSON (it is
// reviewed in pull requests), no HTML escaping, no trailing newline.
func (p *Payload) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
