package event_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/spec-kit/outbox/internal/schematest"
	"github.com/spec-kit/outbox/outbox/event"
)

// TestPayloadDocExamples checks docs/payloads.md: every JSON example is valid
// against the schema, and every event type has one.
func TestPayloadDocExamples(t *testing.T) {
	doc, err := os.ReadFile("../../docs/payloads.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(doc), "```json\n")[1:]
	if len(blocks) < len(event.Types) {
		t.Fatalf("%d JSON examples, want at least %d", len(blocks), len(event.Types))
	}
	seen := map[string]bool{}
	for i, b := range blocks {
		body, _, ok := strings.Cut(b, "\n```")
		if !ok {
			t.Fatalf("example %d is not closed", i+1)
		}
		if err := schematest.Check([]byte(body)); err != nil {
			t.Errorf("example %d does not match the schema: %v", i+1, err)
		}
		var p event.Payload
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			t.Fatalf("example %d: %v", i+1, err)
		}
		seen[p.Event.Type] = true
	}
	for _, typ := range event.Types {
		if !seen[typ] {
			t.Errorf("docs/payloads.md has no example of %s", typ)
		}
	}
}
