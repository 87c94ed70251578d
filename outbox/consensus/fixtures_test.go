package consensus_test

import (
	"io/fs"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spec-kit/outbox/fixtures"
	"github.com/spec-kit/outbox/outbox/consensus"
)

// TestFixtures reads the consensus evidence of the project's sample
// repository (fixtures/repo), which the emit tests and the demo use too.
func TestFixtures(t *testing.T) {
	dir := path.Join("repo", fixtures.ConsensusDir)
	want := map[string]struct {
		format, stage, status string
		count, resolved       int
	}{
		"spec-plan_2026-11-20T10%3A05%3A12Z_synthesis.json":      {consensus.FormatSynthesis, "Plan", "conflict", 2, 0},
		"spec-plan_2026-11-20T10%3A05%3A12Z_telemetry.jsonl":     {consensus.FormatTelemetryV2, "Plan", "conflict", 2, 0},
		"spec-tasks_2026-11-20T10%3A15%3A40Z_synthesis.json":     {consensus.FormatSynthesis, "Tasks", "ok", 0, 0},
		"spec-implement_2026-11-20T10%3A34%3A20Z_synthesis.json": {consensus.FormatSynthesis, "Implement", "degraded", 0, 0},
		"spec-validate_2026-11-20T10%3A47%3A05Z_synthesis.json":  {consensus.FormatSynthesis, "Validate", "ok", 0, 1},
	}
	entries, err := fs.ReadDir(fixtures.FS, dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, e := range entries {
		name := e.Name()
		data, err := fs.ReadFile(fixtures.FS, path.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(name, "arbiter") {
			a, err := consensus.ParseArbiter(data)
			if err != nil || a.Stage != "Plan" || a.Decision == "" || len(a.Followups) != 2 {
				t.Errorf("%s: ParseArbiter = %+v, %v", name, a, err)
			}
			continue
		}
		w, ok := want[name]
		if !ok {
			t.Errorf("%s: a new consensus fixture needs a row in TestFixtures", name)
			continue
		}
		seen++
		c, err := consensus.Parse(data)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if c.Format != w.format || c.Stage != w.stage || c.Status() != w.status || c.ConflictCount() != w.count || len(c.Resolved) != w.resolved {
			t.Errorf("%s: format %q, stage %q, Status() %q, ConflictCount() %d, %d resolved; want %q, %q, %q, %d, %d",
				name, c.Format, c.Stage, c.Status(), c.ConflictCount(), len(c.Resolved), w.format, w.stage, w.status, w.count, w.resolved)
		}
		if c.SpecID != "" && c.SpecID != fixtures.SpecID { // not every synthesis has specId
			t.Errorf("%s: SpecID = %q, want %q", name, c.SpecID, fixtures.SpecID)
		}
	}
	if seen != len(want) {
		t.Errorf("read %d of the %d expected fixtures", seen, len(want))
	}
}

func TestFixturesFindArbiter(t *testing.T) {
	root := t.TempDir()
	if err := fixtures.CopyRepo(root); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, filepath.FromSlash(fixtures.ConsensusDir))
	files, err := filepath.Glob(filepath.Join(dir, "spec-plan_*_synthesis.json"))
	if err != nil || len(files) != 1 {
		t.Fatalf("plan synthesis: %v, %v", files, err)
	}
	got, err := consensus.FindArbiter(files[0], "Plan")
	if err != nil || !strings.HasSuffix(got, "_arbiter.json") || filepath.Dir(got) != dir {
		t.Errorf("FindArbiter(plan) = %q, %v", got, err)
	}
	got, err = consensus.FindArbiter(files[0], "Tasks")
	if err != nil || got != "" {
		t.Errorf("FindArbiter(tasks) = %q, %v; want none", got, err)
	}
}
