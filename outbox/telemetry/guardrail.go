package telemetry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/spec-kit/outbox/internal/jsonpos"
	"github.com/spec-kit/outbox/outbox/event"
)

// Sentinel errors. Every error returned by this package wraps at least one of
// them (a missing or unreadable file wraps the os error instead).
var (
	// ErrMalformed: the bytes are not JSON, the JSON is not an object, a field
	// has the wrong type, or the file is too large to be telemetry.
	ErrMalformed = errors.New("malformed guardrail telemetry")
	// ErrNotGuardrail: schemaVersion is missing or is not 1.
	ErrNotGuardrail = errors.New("not guardrail telemetry v1")
	// ErrUnknownCommand: command is not spec-ops-<stage> or spec-<stage> for a
	// known stage.
	ErrUnknownCommand = errors.New("unknown guardrail command")
	// ErrMissingSpecID: specId is missing or empty.
	ErrMissingSpecID = errors.New("missing specId")
)

// maxFileSize bounds what ReadGuardrail reads: real guardrail telemetry is a
// few kilobytes, and emit is on a hook's hot path.
const maxFileSize = 4 << 20

// Check is one status looked at to infer a Guardrail's status.
type Check struct {
	Name   string `json:"name"`   // e.g. "policy.final", "scenario:<name>", "hook:<name>"
	Status string `json:"status"` // as written in the file, e.g. "failed"
}

// Guardrail is what a guardrail telemetry v1 file says, plus the stage and
// status inferred from it.
type Guardrail struct {
	SchemaVersion int
	Command       string // as in the file: "spec-ops-plan"
	SpecID        string
	SessionID     string
	Timestamp     string   // as in the file
	Stage         string   // canonical (event.Stages), from Command: "Plan"; empty if unknown
	Status        string   // event.StatusSuccess, StatusFailure or StatusHalt (inferred)
	Checks        []Check  // every check looked at, in a stable order, with its raw status
	Artifacts     []string // artifacts[].path as in the file (often absolute)
}

// statusBlock is any telemetry block whose only interesting key is status.
type statusBlock struct {
	Status string `json:"status"`
}

// rawGuardrail mirrors the file. Unknown fields are ignored by encoding/json;
// absent blocks leave zero values, which mean "not looked at".
type rawGuardrail struct {
	SchemaVersion json.RawMessage   `json:"schemaVersion"`
	Command       string            `json:"command"`
	SpecID        string            `json:"specId"`
	SessionID     string            `json:"sessionId"`
	Timestamp     string            `json:"timestamp"`
	LockStatus    string            `json:"lock_status"`
	HookStatus    string            `json:"hook_status"`
	Hooks         map[string]string `json:"hooks"`
	Tool          statusBlock       `json:"tool"`
	Baseline      statusBlock       `json:"baseline"`
	Policy        struct {
		Prefilter statusBlock `json:"prefilter"`
		Final     statusBlock `json:"final"`
	} `json:"policy"`
	Scenarios []struct {
		Name   string `json:"name"`
		Status string `json:"status"`
	} `json:"scenarios"`
	HAL struct {
		Summary statusBlock `json:"summary"`
	} `json:"hal"`
	UnlockStatus string `json:"unlock_status"`
	Artifacts    []struct {
		Path string `json:"path"`
	} `json:"artifacts"`
}

// ReadGuardrail reads and parses the guardrail telemetry file at path. Its
// errors name the file. Like ParseGuardrail, it may return a partially filled
// *Guardrail together with an error.
func ReadGuardrail(path string) (*Guardrail, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("telemetry: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("telemetry: read %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("telemetry: %s: %w: larger than %d bytes", path, ErrMalformed, maxFileSize)
	}
	g, err := parse(data)
	if err != nil {
		return g, fmt.Errorf("telemetry: %s: %w", path, err)
	}
	return g, nil
}

// ParseGuardrail parses guardrail telemetry v1 and infers its stage and
// status. It returns nil and an error wrapping ErrMalformed when data is not a
// JSON object. When the JSON parses but some of it is off, it returns the
// partially filled *Guardrail together with the error (see the package doc).
func ParseGuardrail(data []byte) (*Guardrail, error) {
	g, err := parse(data)
	if err != nil {
		return g, fmt.Errorf("telemetry: %w", err)
	}
	return g, nil
}

func parse(data []byte) (*Guardrail, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // tolerate a UTF-8 BOM
	var raw rawGuardrail
	var probs problems
	if err := json.Unmarshal(data, &raw); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			line, col := jsonpos.Position(data, syn.Offset)
			return nil, fmt.Errorf("%w: line %d, column %d: %s", ErrMalformed, line, col, syn.Error())
		case errors.As(err, &typ):
			if !isObject(data) {
				return nil, fmt.Errorf("%w: the top level is a JSON %s, want an object", ErrMalformed, typ.Value)
			}
			line, col := jsonpos.Position(data, typ.Offset)
			probs = append(probs, fmt.Errorf("%w: line %d, column %d: %s is a JSON %s, want %s",
				ErrMalformed, line, col, typ.Field, typ.Value, kindName(typ.Type)))
		default:
			return nil, fmt.Errorf("%w: %s", ErrMalformed, err.Error())
		}
	} else if !isObject(data) {
		// "null" decodes into a struct without error.
		return nil, fmt.Errorf("%w: the top level is not a JSON object", ErrMalformed)
	}

	g := &Guardrail{
		Command:   raw.Command,
		SpecID:    strings.TrimSpace(raw.SpecID),
		SessionID: raw.SessionID,
		Timestamp: raw.Timestamp,
	}

	version, ok := schemaVersion(raw.SchemaVersion)
	g.SchemaVersion = version
	switch {
	case len(raw.SchemaVersion) == 0 || string(raw.SchemaVersion) == "null":
		probs = append(probs, fmt.Errorf("%w: schemaVersion is missing", ErrNotGuardrail))
	case !ok || version != 1:
		// Compact: an object or array value may span lines, and errors are
		// one line.
		shown := raw.SchemaVersion
		var compact bytes.Buffer
		if json.Compact(&compact, shown) == nil {
			shown = compact.Bytes()
		}
		probs = append(probs, fmt.Errorf("%w: schemaVersion is %s", ErrNotGuardrail, clip(string(shown))))
	}

	if stage, ok := stageOf(raw.Command); ok {
		g.Stage = stage
	} else if raw.Command == "" {
		probs = append(probs, fmt.Errorf("%w: command is missing", ErrUnknownCommand))
	} else {
		probs = append(probs, fmt.Errorf("%w: %q is not spec-ops-<stage> for a stage of %s",
			ErrUnknownCommand, clip(raw.Command), strings.Join(event.Stages, ", ")))
	}

	if g.SpecID == "" {
		probs = append(probs, ErrMissingSpecID)
	}

	g.Checks = raw.checks()
	g.Status = inferStatus(g.Checks)

	if len(raw.Artifacts) > 0 {
		g.Artifacts = make([]string, 0, len(raw.Artifacts))
		for _, a := range raw.Artifacts {
			if a.Path != "" {
				g.Artifacts = append(g.Artifacts, a.Path)
			}
		}
	}

	if len(probs) > 0 {
		return g, probs.err()
	}
	return g, nil
}

// checks lists the checks present in the file, in the order documented in the
// package doc.
func (r *rawGuardrail) checks() []Check {
	cs := make([]Check, 0, 8+len(r.Hooks)+len(r.Scenarios))
	add := func(name, status string) {
		if strings.TrimSpace(status) != "" {
			cs = append(cs, Check{Name: name, Status: status})
		}
	}
	add("lock_status", r.LockStatus)
	add("hook_status", r.HookStatus)
	if len(r.Hooks) > 0 {
		for _, name := range slices.Sorted(maps.Keys(r.Hooks)) {
			add("hook:"+name, r.Hooks[name])
		}
	}
	add("tool", r.Tool.Status)
	add("baseline", r.Baseline.Status)
	add("policy.prefilter", r.Policy.Prefilter.Status)
	add("policy.final", r.Policy.Final.Status)
	for i, s := range r.Scenarios {
		name := s.Name
		if strings.TrimSpace(name) == "" {
			name = "#" + strconv.Itoa(i+1)
		}
		add("scenario:"+name, s.Status)
	}
	add("hal.summary", r.HAL.Summary.Status)
	add("unlock_status", r.UnlockStatus)
	return cs
}

// Status words, compared in lower case with surrounding space removed.
//
//	word                                                   counts as
//	failed fail failure error errored rejected denied     failure
//	halt halted blocked aborted cancelled canceled timeout halt
//	anything else (passed ok skipped ready locked ...)     success
var (
	failureWords = []string{"failed", "fail", "failure", "error", "errored", "rejected", "denied"}
	haltWords    = []string{"halt", "halted", "blocked", "aborted", "cancelled", "canceled", "timeout"}
)

// inferStatus decides an event status from checks: event.StatusFailure if any
// check failed, else event.StatusHalt if any halted, else event.StatusSuccess
// (also for no checks at all). Unknown words are non-failing.
func inferStatus(checks []Check) string {
	halted := false
	for _, c := range checks {
		switch classify(c.Status) {
		case event.StatusFailure:
			return event.StatusFailure
		case event.StatusHalt:
			halted = true
		}
	}
	if halted {
		return event.StatusHalt
	}
	return event.StatusSuccess
}

func classify(status string) string {
	s := strings.TrimSpace(status)
	for _, w := range failureWords {
		if strings.EqualFold(s, w) {
			return event.StatusFailure
		}
	}
	for _, w := range haltWords {
		if strings.EqualFold(s, w) {
			return event.StatusHalt
		}
	}
	return event.StatusSuccess
}

// stageOf maps "spec-ops-<stage>" or "spec-<stage>" (any case) to a canonical
// stage name.
func stageOf(command string) (string, bool) {
	c := strings.TrimSpace(command)
	if len(c) < len("spec-") || !strings.EqualFold(c[:len("spec-")], "spec-") {
		return "", false
	}
	return event.NormalizeStage(c)
}

// schemaVersion reads 1, 1.0, "1" or "1.0". ok is false when raw is not a
// number or a string holding one; version is set only for whole numbers.
func schemaVersion(raw json.RawMessage) (version int, ok bool) {
	s := strings.TrimSpace(string(raw))
	if uq, err := strconv.Unquote(s); err == nil {
		s = strings.TrimSpace(uq)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false
	}
	if f != float64(int(f)) {
		return 0, true
	}
	return int(f), true
}

func isObject(data []byte) bool {
	t := bytes.TrimLeft(data, " \t\r\n")
	return len(t) > 0 && t[0] == '{'
}

func kindName(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int64, reflect.Float64:
		return "a number"
	}
	return t.String()
}

// clip shortens what a file says before it goes into an error message, which
// ends up in a payload.
func clip(s string) string {
	const n = 64
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// problems collects what is off in a file that parsed; its message is one
// line, and errors.Is sees every sentinel in it.
type problems []error

func (p problems) err() error {
	if len(p) == 1 {
		return p[0]
	}
	return p
}

func (p problems) Error() string {
	var b strings.Builder
	for i, e := range p {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

func (p problems) Unwrap() []error { return p }
