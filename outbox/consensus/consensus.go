package consensus

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spec-kit/outbox/internal/jsonpos"
	"github.com/spec-kit/outbox/outbox/event"
)

// Formats a Consensus is read from.
const (
	FormatSynthesis   = "synthesis"
	FormatTelemetryV2 = "telemetry-v2"
)

// Statuses that Consensus.Status reports.
const (
	StatusOK       = "ok"
	StatusConflict = "conflict"
	StatusDegraded = "degraded"
)

// Agent is one agent of a consensus run.
type Agent struct {
	Name   string `json:"agent"`
	Model  string `json:"model,omitempty"`  // model_id
	Status string `json:"status,omitempty"` // ok, error, ... as written (trimmed)
	Error  string `json:"error,omitempty"`
}

// Resolved is a conflict that the agents or an arbiter settled.
type Resolved struct {
	Issue      string `json:"issue"`
	Resolution string `json:"resolution,omitempty"`
}

// Consensus is what a synthesis file or a telemetry v2 line says about a
// stage's consensus run. See the package doc for where each field comes from.
type Consensus struct {
	Format               string     // FormatSynthesis or FormatTelemetryV2
	Stage                string     // canonical stage ("Plan") or "" when the file does not say
	SpecID               string     // specId, or ""
	SessionID            string     // sessionId, or ""
	Timestamp            string     // timestamp, or ""
	ReportedStatus       string     // the status the file itself gives (ok, conflict, degraded, ...), lower-cased
	Agreements           []string   // agreements
	Conflicts            []string   // unresolved: conflicts entries plus disagreement_points entries, as text
	Resolved             []Resolved // conflicts_resolved
	Agents               []Agent    // agents
	DisagreementDetected bool
	EscalationTriggered  bool
	EscalationReason     string
	Notes                string // notes (a string, or a list joined with "; ")
	Telemetry            string // the guardrail telemetry path a synthesis names ("telemetry"), as written
}

// ConflictCount is the number of unresolved conflicts: len(Conflicts); if that
// is 0 but DisagreementDetected is true or ReportedStatus is "conflict", it is 1.
func (c *Consensus) ConflictCount() int {
	if c == nil {
		return 0
	}
	if n := len(c.Conflicts); n > 0 {
		return n
	}
	if c.DisagreementDetected || c.ReportedStatus == StatusConflict {
		return 1
	}
	return 0
}

// Status is what the payload reports: "conflict" when ConflictCount() > 0;
// "degraded" when the file says degraded or any agent's status is neither ok
// nor success (an agent without a status does not count); else "ok".
func (c *Consensus) Status() string {
	if c.ConflictCount() > 0 {
		return StatusConflict
	}
	if c == nil {
		return StatusOK
	}
	if c.ReportedStatus == StatusDegraded {
		return StatusDegraded
	}
	for _, a := range c.Agents {
		if a.Failed() {
			return StatusDegraded
		}
	}
	return StatusOK
}

// Failed reports whether the agent's status says it did not do its part:
// anything but ok or success (an agent without a status is ok).
func (a Agent) Failed() bool {
	s := strings.TrimSpace(a.Status)
	return s != "" && !strings.EqualFold(s, "ok") && !strings.EqualFold(s, "success")
}

// rawBlock holds the keys that may sit at the top level of a file, inside
// its "consensus" object, or (agreements and conflicts) inside
// "consensusSummary".
type rawBlock struct {
	Status               json.RawMessage `json:"status"`
	Agreements           json.RawMessage `json:"agreements"`
	Conflicts            json.RawMessage `json:"conflicts"`
	ConflictsResolved    json.RawMessage `json:"conflicts_resolved"`
	DisagreementPoints   json.RawMessage `json:"disagreement_points"`
	DisagreementDetected json.RawMessage `json:"disagreement_detected"`
	EscalationTriggered  json.RawMessage `json:"escalation_triggered"`
	EscalationReason     json.RawMessage `json:"escalation_reason"`
	Agents               json.RawMessage `json:"agents"`
	Notes                json.RawMessage `json:"notes"`
}

// rawDoc is one synthesis document or one telemetry v2 line.
type rawDoc struct {
	rawBlock
	SchemaVersion    json.RawMessage `json:"schemaVersion"`
	Command          json.RawMessage `json:"command"`
	Stage            json.RawMessage `json:"stage"`
	SpecID           json.RawMessage `json:"specId"`
	SessionID        json.RawMessage `json:"sessionId"`
	Timestamp        json.RawMessage `json:"timestamp"`
	Telemetry        json.RawMessage `json:"telemetry"`
	Resolution       json.RawMessage `json:"resolution"` // an arbiter file's
	Consensus        json.RawMessage `json:"consensus"`
	ConsensusStatus  json.RawMessage `json:"consensusStatus"`
	ConsensusSummary json.RawMessage `json:"consensusSummary"`
}

// hasSynthesisKey tells whether d has any key of a synthesis (non-null)
// other than stage, which arbiter files have too.
func (d *rawDoc) hasSynthesisKey() bool {
	for _, r := range [...]json.RawMessage{
		d.Status, d.Agreements, d.Conflicts, d.ConflictsResolved,
		d.DisagreementPoints, d.DisagreementDetected, d.Notes, d.Telemetry,
		d.Consensus, d.Agents,
	} {
		if !isNull(r) {
			return true
		}
	}
	return false
}

var bom = []byte("\xef\xbb\xbf")

// Parse reads a synthesis JSON document or telemetry v2 (one JSON object, or
// JSONL). It decides by content; see the package doc. Every error wraps
// ErrFormat and names the line (JSONL: "line 3: ...", a JSON syntax error:
// "line 3, column 7: ...") or the field ("agreements: want a list of
// strings, got a string").
func Parse(data []byte) (*Consensus, error) {
	data = bytes.TrimPrefix(data, bom)
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%w: empty input", ErrFormat)
	}
	c, err := parseDoc(data, false)
	if err == nil {
		return c, nil
	}
	// Text that is not one JSON object may be JSONL.
	var se *syntaxError
	var te *topLevelError
	if errors.As(err, &se) || errors.As(err, &te) {
		if lines := splitLines(data); looksLikeJSONL(lines) {
			return parseLines(lines)
		}
	}
	if se == nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	line, col := jsonpos.Position(data, se.off)
	return nil, fmt.Errorf("%w: line %d, column %d: %s", ErrFormat, line, col, se.msg)
}

// jsonlLine is one non-blank line of a JSONL file, numbered from 1.
type jsonlLine struct {
	n    int
	text []byte
}

func splitLines(data []byte) []jsonlLine {
	var out []jsonlLine
	for n := 1; len(data) > 0; n++ {
		var l []byte
		l, data, _ = bytes.Cut(data, []byte{'\n'})
		l = bytes.TrimRight(l, " \t\r")
		if len(bytes.TrimSpace(l)) > 0 {
			out = append(out, jsonlLine{n: n, text: l})
		}
	}
	return out
}

// looksLikeJSONL tells whether text that is not one JSON value is JSONL
// rather than a broken multi-line document: it has several non-blank lines
// and its first or last one is a JSON object by itself (a pretty-printed
// document starts with a lone "{" and ends with a lone "}").
func looksLikeJSONL(lines []jsonlLine) bool {
	if len(lines) < 2 {
		return false
	}
	for _, l := range [...]jsonlLine{lines[0], lines[len(lines)-1]} {
		t := bytes.TrimSpace(l.text)
		if t[0] == '{' && json.Valid(t) {
			return true
		}
	}
	return false
}

// parseLines reads JSONL telemetry v2: the last line that parses and has a
// consensus block wins; when none does, the error of the first line that
// failed is returned.
func parseLines(lines []jsonlLine) (*Consensus, error) {
	var first error
	var at jsonlLine
	for i := len(lines) - 1; i >= 0; i-- {
		c, err := parseDoc(lines[i].text, true)
		if err == nil {
			return c, nil
		}
		first, at = err, lines[i]
	}
	if se, ok := first.(*syntaxError); ok {
		_, col := jsonpos.Position(at.text, se.off)
		return nil, fmt.Errorf("%w: line %d: %s (column %d)", ErrFormat, at.n, se.msg, col)
	}
	return nil, fmt.Errorf("%w: line %d: %v", ErrFormat, at.n, first)
}

// parseDoc reads one JSON object. jsonl says that it is a line of a JSONL
// file, which is telemetry v2 and must have a consensus block. Its errors do
// not wrap ErrFormat yet; a JSON syntax error is a *syntaxError.
func parseDoc(data []byte, jsonl bool) (*Consensus, error) {
	if err := topLevel(data); err != nil {
		return nil, err
	}
	var d rawDoc
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, jsonError(err)
	}

	var f fields
	var nested, summary rawBlock
	hasNested := false
	if !isNull(d.Consensus) {
		if !isObject(d.Consensus) {
			return nil, fmt.Errorf("consensus: want an object, got %s", kind(d.Consensus))
		}
		if err := json.Unmarshal(d.Consensus, &nested); err != nil {
			return nil, fmt.Errorf("consensus: %v", jsonError(err))
		}
		hasNested = true
	}
	// consensusSummary and consensusStatus (telemetry v2 repeats the block's
	// lists and status there) are only fallbacks: ignored when malformed.
	if isObject(d.ConsensusSummary) && json.Unmarshal(d.ConsensusSummary, &summary) == nil {
		summary = rawBlock{Agreements: listOrNil(summary.Agreements), Conflicts: listOrNil(summary.Conflicts)}
	}

	major, hasVersion := schemaMajor(d.SchemaVersion)
	v2 := jsonl || (hasVersion && major == 2) || (hasNested && !isNull(d.Command))
	switch {
	case jsonl && !hasNested:
		return nil, errors.New("no consensus block")
	case v2 && !hasNested:
		return nil, errors.New("consensus: missing (telemetry v2 needs a consensus block)")
	case !v2 && !d.hasSynthesisKey():
		switch {
		case hasVersion && major == 1:
			return nil, errors.New("schemaVersion is 1: guardrail telemetry v1, not consensus evidence")
		case !isNull(d.Resolution):
			return nil, errors.New("an arbiter file (it has resolution), not consensus evidence")
		}
		return nil, errors.New("no consensus evidence in it (none of status, agreements, conflicts, notes, telemetry, consensus)")
	}

	c := &Consensus{Format: FormatSynthesis}
	if v2 {
		c.Format = FormatTelemetryV2
	}
	// Where a key is in both, the consensus block wins over the top level,
	// which wins over consensusSummary.
	blocks := []src{{"consensus.", &nested}, {"", &d.rawBlock}, {"consensusSummary.", &summary}}
	pick := func(name string, get func(*rawBlock) json.RawMessage) (json.RawMessage, string) {
		for _, b := range blocks {
			if r := get(b.block); !isNull(r) {
				return r, b.prefix + name
			}
		}
		return nil, name
	}

	for _, r := range [...]struct {
		raw  json.RawMessage
		name string
	}{{d.Stage, "stage"}, {d.Command, "command"}} {
		if s := f.str(r.raw, r.name); s != "" && c.Stage == "" {
			c.Stage, _ = event.NormalizeStage(s)
		}
	}
	c.SpecID = f.str(d.SpecID, "specId")
	c.SessionID = f.str(d.SessionID, "sessionId")
	c.Timestamp = f.str(d.Timestamp, "timestamp")
	c.Telemetry, _ = f.rawStr(d.Telemetry, "telemetry")

	c.ReportedStatus = strings.ToLower(f.str(pick("status", func(b *rawBlock) json.RawMessage { return b.Status })))
	if c.ReportedStatus == "" {
		c.ReportedStatus = strings.ToLower(plainString(d.ConsensusStatus))
	}
	c.Agreements = f.texts(pick("agreements", func(b *rawBlock) json.RawMessage { return b.Agreements }))
	c.Conflicts = f.texts(pick("conflicts", func(b *rawBlock) json.RawMessage { return b.Conflicts }))
	if points := f.texts(pick("disagreement_points", func(b *rawBlock) json.RawMessage { return b.DisagreementPoints })); len(points) > 0 {
		c.Conflicts = appendNew(c.Conflicts, points)
	}
	c.Resolved = f.resolved(pick("conflicts_resolved", func(b *rawBlock) json.RawMessage { return b.ConflictsResolved }))
	c.Agents = f.agents(pick("agents", func(b *rawBlock) json.RawMessage { return b.Agents }))
	c.DisagreementDetected = f.boolean(pick("disagreement_detected", func(b *rawBlock) json.RawMessage { return b.DisagreementDetected }))
	c.EscalationTriggered = f.boolean(pick("escalation_triggered", func(b *rawBlock) json.RawMessage { return b.EscalationTriggered }))
	c.EscalationReason = f.str(pick("escalation_reason", func(b *rawBlock) json.RawMessage { return b.EscalationReason }))
	c.Notes = f.notes(pick("notes", func(b *rawBlock) json.RawMessage { return b.Notes }))
	if f.err != nil {
		return nil, f.err
	}
	return c, nil
}

// listOrNil is r when it is a JSON list, else nil.
func listOrNil(r json.RawMessage) json.RawMessage {
	if len(r) > 0 && r[0] == '[' {
		return r
	}
	return nil
}

// src is a block of keys and the prefix that names them in errors.
type src struct {
	prefix string
	block  *rawBlock
}

// appendNew appends the entries of more that list does not hold yet:
// telemetry v2 usually repeats its conflicts as disagreement_points.
func appendNew(list, more []string) []string {
	seen := make(map[string]struct{}, len(list)+len(more))
	for _, s := range list {
		seen[s] = struct{}{}
	}
	for _, s := range more {
		if _, dup := seen[s]; !dup {
			seen[s] = struct{}{}
			list = append(list, s)
		}
	}
	return list
}

// rawResolved is an object entry of conflicts_resolved.
type rawResolved struct {
	Issue      json.RawMessage `json:"issue"`
	Resolution json.RawMessage `json:"resolution"`
}

// resolved reads conflicts_resolved: objects {issue, resolution} (an object
// without an issue string is summed up as in conflicts; a resolution that is
// not a string is kept as compact JSON) or plain strings (an issue).
func (f *fields) resolved(r json.RawMessage, name string) []Resolved {
	return listOf(f, r, name, "a list of objects", "an object or a string",
		func(it json.RawMessage, _ string) (Resolved, bool) {
			s := f.str(it, name)
			return Resolved{Issue: s}, s != ""
		},
		func(it json.RawMessage, at string) (Resolved, bool) {
			var rr rawResolved
			if err := json.Unmarshal(it, &rr); err != nil {
				f.fail("%s: %v", at, err)
				return Resolved{}, false
			}
			res := Resolved{Issue: plainString(rr.Issue), Resolution: plainString(rr.Resolution)}
			if res.Issue == "" {
				res.Issue = textOf(it)
			}
			if res.Resolution == "" && !isNull(rr.Resolution) && rr.Resolution[0] != '"' {
				res.Resolution = compact(rr.Resolution)
			}
			return res, true
		})
}

// rawAgent is an object entry of agents.
type rawAgent struct {
	Agent   json.RawMessage `json:"agent"`
	Name    json.RawMessage `json:"name"`
	ModelID json.RawMessage `json:"model_id"`
	Model   json.RawMessage `json:"model"`
	Status  json.RawMessage `json:"status"`
	Error   json.RawMessage `json:"error"`
}

// agents reads agents: objects {agent (or name), model_id (or model),
// status, error} or plain strings (a name). An error that is not a string is
// kept as compact JSON.
func (f *fields) agents(r json.RawMessage, name string) []Agent {
	return listOf(f, r, name, "a list of objects", "an object",
		func(it json.RawMessage, at string) (Agent, bool) { return Agent{Name: f.str(it, at)}, true },
		func(it json.RawMessage, at string) (Agent, bool) {
			var ra rawAgent
			if err := json.Unmarshal(it, &ra); err != nil {
				f.fail("%s: %v", at, err)
				return Agent{}, false
			}
			a := Agent{
				Name:   f.str(ra.Agent, at+".agent"),
				Model:  f.str(ra.ModelID, at+".model_id"),
				Status: f.str(ra.Status, at+".status"),
			}
			if a.Name == "" {
				a.Name = f.str(ra.Name, at+".name")
			}
			if a.Model == "" {
				a.Model = f.str(ra.Model, at+".model")
			}
			if !isNull(ra.Error) && ra.Error[0] != '"' {
				a.Error = compact(ra.Error)
			} else {
				a.Error = f.str(ra.Error, at+".error")
			}
			return a, true
		})
}
