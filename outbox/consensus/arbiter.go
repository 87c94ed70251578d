package consensus

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spec-kit/outbox/internal/jsonpos"
	"github.com/spec-kit/outbox/outbox/event"
)

// Arbiter is what an arbiter file says: the decision taken on a stage's
// consensus conflict.
type Arbiter struct {
	Stage     string   // canonical stage or ""
	Arbiter   string   // model/agent that arbitrated
	Status    string   // resolution.status
	Decision  string   // resolution.decision
	Followups []string // resolution.updates.followups
}

type rawArbiter struct {
	Stage      json.RawMessage `json:"stage"`
	Arbiter    json.RawMessage `json:"arbiter"`
	Resolution json.RawMessage `json:"resolution"`
}

type rawResolution struct {
	Status   json.RawMessage `json:"status"`
	Decision json.RawMessage `json:"decision"`
	Updates  json.RawMessage `json:"updates"`
}

type rawUpdates struct {
	Followups json.RawMessage `json:"followups"`
}

// ParseArbiter reads an arbiter file ({stage, arbiter, resolution:{status,
// decision, updates:{followups}}}). Every error wraps ErrFormat; one for a
// missing or blank resolution.decision also wraps ErrNoDecision.
func ParseArbiter(data []byte) (*Arbiter, error) {
	a, err := parseArbiter(bytes.TrimPrefix(data, bom))
	if err != nil {
		var se *syntaxError
		if errors.As(err, &se) {
			line, col := jsonpos.Position(bytes.TrimPrefix(data, bom), se.off)
			return nil, fmt.Errorf("%w: line %d, column %d: %s", ErrFormat, line, col, se.msg)
		}
		if errors.Is(err, ErrNoDecision) {
			return nil, fmt.Errorf("%w: %w", ErrFormat, err)
		}
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	return a, nil
}

func parseArbiter(data []byte) (*Arbiter, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("empty input")
	}
	if err := topLevel(data); err != nil {
		return nil, err
	}
	var ra rawArbiter
	if err := json.Unmarshal(data, &ra); err != nil {
		return nil, jsonError(err)
	}
	if isNull(ra.Resolution) {
		return nil, fmt.Errorf("resolution.decision: %w (no resolution)", ErrNoDecision)
	}
	if !isObject(ra.Resolution) {
		return nil, fmt.Errorf("resolution: want an object, got %s", kind(ra.Resolution))
	}
	var res rawResolution
	var up rawUpdates
	if err := json.Unmarshal(ra.Resolution, &res); err != nil {
		return nil, fmt.Errorf("resolution: %v", jsonError(err))
	}
	if !isNull(res.Updates) {
		if !isObject(res.Updates) {
			return nil, fmt.Errorf("resolution.updates: want an object, got %s", kind(res.Updates))
		}
		if err := json.Unmarshal(res.Updates, &up); err != nil {
			return nil, fmt.Errorf("resolution.updates: %v", jsonError(err))
		}
	}

	var f fields
	a := &Arbiter{
		Arbiter:   f.str(ra.Arbiter, "arbiter"),
		Status:    f.str(res.Status, "resolution.status"),
		Decision:  f.str(res.Decision, "resolution.decision"),
		Followups: f.texts(up.Followups, "resolution.updates.followups"),
	}
	if s := f.str(ra.Stage, "stage"); s != "" {
		a.Stage, _ = event.NormalizeStage(s)
	}
	if f.err != nil {
		return nil, f.err
	}
	if a.Decision == "" {
		return nil, fmt.Errorf("resolution.decision: %w", ErrNoDecision)
	}
	return a, nil
}

// FindArbiter looks in the directory of the consensus file at consensusPath
// for an arbiter file of the same stage: a *.json whose base name contains
// "arbiter" and starts with the stage's file prefix ("spec-plan" for Plan,
// followed by something other than a letter or digit); stage may be spelled
// as event.NormalizeStage accepts, and "" takes an arbiter file of any stage.
// Names are compared in lower case. When several match, the lexically
// greatest lower-cased name (the newest, as names carry a timestamp or a run
// number) wins.
// It returns "" and a nil error when none exists, also when the directory
// does not.
func FindArbiter(consensusPath, stage string) (string, error) {
	prefix := ""
	if strings.TrimSpace(stage) != "" {
		st, ok := event.NormalizeStage(stage)
		if !ok {
			return "", fmt.Errorf("consensus: find arbiter: %w %q", ErrUnknownStage, stage)
		}
		prefix = "spec-" + strings.ToLower(st)
	}
	dir := filepath.Dir(consensusPath)
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil
		}
		return "", fmt.Errorf("consensus: find arbiter: %w", err)
	}
	best, bestKey := "", ""
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		name := e.Name()
		key := strings.ToLower(name)
		if isArbiterName(key, prefix) && (best == "" || key > bestKey || key == bestKey && name > best) {
			best, bestKey = name, key
		}
	}
	if best == "" {
		return "", nil
	}
	return filepath.Join(dir, best), nil
}

// isArbiterName tells whether n, a lower-cased file name, is an arbiter file
// name for the stage file prefix ("" for any stage).
func isArbiterName(n, prefix string) bool {
	if !strings.HasSuffix(n, ".json") || !strings.Contains(n, "arbiter") || !strings.HasPrefix(n, prefix) {
		return false
	}
	if prefix == "" || len(n) == len(prefix) {
		return true
	}
	c := n[len(prefix)]
	return !('a' <= c && c <= 'z' || '0' <= c && c <= '9')
}
