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
	Consensus     *Consensus        `json:"consensus,omitempty"`
	Anomaly       *Anomaly          `json:"anomaly,omitempty"`
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

	// Set on spec-auto.pipeline.completed only.
	Stages          []StageResult `json:"stages,omitempty"`           // newest telemetry of each stage found, in pipeline order
	MissingStages   []string      `json:"missing_stages,omitempty"`   // stages with no telemetry
	FailedStage     string        `json:"failed_stage,omitempty"`     // on failure: the stage that failed
	FailedTelemetry string        `json:"failed_telemetry,omitempty"` // on failure: its telemetry, repository-relative
}

// StageResult is one stage of a pipeline.completed event, as its newest
// guardrail telemetry tells it.
type StageResult struct {
	Stage      string `json:"stage"`
	Status     string `json:"status"`              // success, failure or halt
	Telemetry  string `json:"telemetry"`           // repository-relative
	SessionID  string `json:"sessionId,omitempty"` //
	Timestamp  string `json:"timestamp,omitempty"` // as written in the telemetry
	ParseError string `json:"parse_error,omitempty"`
}

// Consensus is what a stage's multi-agent consensus evidence said.
type Consensus struct {
	Status               string     `json:"status"`                    // ok, conflict or degraded (see consensus.Status)
	ReportedStatus       string     `json:"reported_status,omitempty"` // the status the file gives, when it gives one
	Source               string     `json:"source"`                    // the consensus file, repository-relative
	Format               string     `json:"format"`                    // synthesis or telemetry-v2
	ConflictCount        int        `json:"conflict_count"`            // unresolved conflicts
	Threshold            int        `json:"threshold"`                 // consensus_conflict_threshold
	Agreements           []string   `json:"agreements"`
	Conflicts            []string   `json:"conflicts"`
	ConflictsResolved    []Resolved `json:"conflicts_resolved,omitempty"`
	Agents               []Agent    `json:"agents,omitempty"`
	DisagreementDetected bool       `json:"disagreement_detected"`
	EscalationTriggered  bool       `json:"escalation_triggered,omitempty"`
	Notes                string     `json:"notes,omitempty"`
}

// Resolved is a conflict the agents resolved among themselves.
type Resolved struct {
	Issue      string `json:"issue"`
	Resolution string `json:"resolution,omitempty"`
}

// Agent is one agent of a consensus run.
type Agent struct {
	Name   string `json:"agent"`
	Model  string `json:"model,omitempty"`
	Status string `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Anomaly explains an anomaly event: what happened and what to do.
type Anomaly struct {
	Kind       string     `json:"kind"`    // "consensus_conflict"
	Summary    string     `json:"summary"` // one paragraph for a chat message
	Mitigation Mitigation `json:"mitigation"`
}

// Mitigation is the guidance of an anomaly: the arbiter's decision when an
// arbiter file exists, and always the command that resumes the pipeline.
type Mitigation struct {
	Source        string   `json:"source"`                 // "arbiter" or "resume"
	Arbiter       string   `json:"arbiter,omitempty"`      // who arbitrated
	ArbiterPath   string   `json:"arbiter_path,omitempty"` // repository-relative
	Resolution    string   `json:"resolution,omitempty"`   // the arbiter's resolution status
	Decision      string   `json:"decision,omitempty"`
	Followups     []string `json:"followups,omitempty"`
	ResumeCommand string   `json:"resume_command"`
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
