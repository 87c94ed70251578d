package consensus_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spec-kit/outbox/outbox/consensus"
)

// addTestdataSeeds adds every file directly under testdata/ to the corpus.
func addTestdataSeeds(f *testing.F) {
	f.Helper()
	entries, err := os.ReadDir("testdata")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join("testdata", e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

func FuzzParse(f *testing.F) {
	addTestdataSeeds(f)
	for _, s := range []string{
		"",
		"[]",
		"{}",
		`{"stage":"plan","status":"conflict"}`,
		`{"schemaVersion":"2.0","command":"spec-plan","consensus":{"disagreement_points":[{"point":"p"},{"x":1}],"agents":[{"agent":"a","status":"error","error":{"e":1}}]}}`,
		"{\"schemaVersion\":2,\"consensus\":{}}\n{not json\n",
		"{bad\n{\"command\":\"spec-plan\",\"consensus\":{\"status\":\"ok\"}}\n",
		"\ufeff{\"consensus\":{\"conflicts_resolved\":[\"x\",{\"resolution\":[1]}]}}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := consensus.Parse(data)
		if err != nil {
			if c != nil {
				t.Fatalf("Parse returned %+v together with error %v", c, err)
			}
			return
		}
		if c == nil {
			t.Fatal("Parse returned nil and no error")
		}
		if n := c.ConflictCount(); n < 0 {
			t.Fatalf("ConflictCount() = %d", n)
		}
		switch s := c.Status(); s {
		case consensus.StatusOK, consensus.StatusConflict, consensus.StatusDegraded:
		default:
			t.Fatalf("Status() = %q", s)
		}
		switch c.Format {
		case consensus.FormatSynthesis, consensus.FormatTelemetryV2:
		default:
			t.Fatalf("Format = %q", c.Format)
		}
	})
}

func FuzzParseArbiter(f *testing.F) {
	addTestdataSeeds(f)
	for _, s := range []string{
		"",
		"{}",
		`{"resolution":{"decision":"d","updates":{"followups":["a",{"summary":"b"},null]}}}`,
		`{"resolution":{"decision":null}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := consensus.ParseArbiter(data)
		if err != nil {
			if a != nil {
				t.Fatalf("ParseArbiter returned %+v together with error %v", a, err)
			}
			return
		}
		if a == nil || a.Decision == "" {
			t.Fatalf("ParseArbiter = %+v without an error, want a decision", a)
		}
	})
}
