package outbox

import (
	"fmt"
	"strings"
)

// Request is one `outbox emit`.
type Request struct {
	Spec           string            // SPEC id; inferred from Telemetry when empty
	Event          string            // event type; default spec-auto.stage.completed
	Stage          string            // any spelling NormalizeStage accepts; inferred from Telemetry
	Status         string            // success|failure|halt; inferred from Telemetry
	Telemetry      string            // guardrail telemetry v1 file, absolute or relative to the working directory
	Consensus      string            // consensus synthesis JSON or telemetry v2 JSONL, same path rules
	IdempotencyKey string            // default: derived from spec, stage and session (see Key)
	TaskID         string            // spec-kit.task.completed
	TaskTitle      string            //
	Data           map[string]string // free-form key=value pairs, sent under "data"
	Preview        bool              // build and route, write nothing
	Subscriptions  []string          // deliver to exactly these, ignoring filters and the enabled flag (outbox test)
}

// validDataKey reports whether k is 1-64 letters, digits, '_', '.' or '-'.
func validDataKey(k string) bool {
	if k == "" || len(k) > 64 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// ParseData turns repeated key=value arguments into a map. Keys are
// letters, digits, '_', '.' and '-'; a key given twice is an error.
func ParseData(kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("%w: --data %q: want key=value", ErrUsage, kv)
		}
		if !validDataKey(k) {
			return nil, fmt.Errorf("%w: --data %q: key must be 1-64 letters, digits, '_', '.' or '-'", ErrUsage, kv)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("%w: --data key %q given twice", ErrUsage, k)
		}
		out[k] = v
	}
	return out, nil
}
