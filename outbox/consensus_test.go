package outbox

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spec-kit/outbox/fixtures"
	"github.com/spec-kit/outbox/internal/schematest"
	"github.com/spec-kit/outbox/outbox/event"
)

func decodePayload(t *testing.T, body []byte) *event.Payload {
	t.Helper()
	schematest.Validate(t, body)
	var p event.Payload
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	return &p
}

func subsOf(r *Result) []string {
	var out []string
	for _, d := range r.Deliveries {
		out = append(out, d.Subscription)
	}
	slices.Sort(out)
	return out
}

// TestEmitConsensus emits each consensus fixture and checks the consensus
// section, whether the anomaly event is raised, who receives it and what
// mitigation it carries.
func TestEmitConsensus(t *testing.T) {
	const synthesisPlan = "spec-plan_2026-11-20T10:05:12Z_synthesis.json"
	tests := []struct {
		name        string
		file        string // in the fixture's consensus folder
		alone       bool   // copied to a folder of its own (no arbiter beside it)
		threshold   int
		wantStatus  string // consensus.status
		wantCount   int
		wantEvent   string // event.status
		wantAnomaly bool
		wantSource  string // mitigation source
	}{
		{"plan conflict with arbiter", synthesisPlan, false, 1, "conflict", 2, event.StatusHalt, true, "arbiter"},
		{"plan conflict below threshold", synthesisPlan, false, 3, "conflict", 2, event.StatusSuccess, false, ""},
		{"plan conflict at threshold", synthesisPlan, false, 2, "conflict", 2, event.StatusHalt, true, "arbiter"},
		{"plan conflict without arbiter", synthesisPlan, true, 1, "conflict", 2, event.StatusHalt, true, "resume"},
		{"plan telemetry v2", "spec-plan_2026-11-20T10:05:12Z_telemetry.jsonl", false, 1, "conflict", 0, event.StatusHalt, true, "arbiter"},
		{"tasks ok", "spec-tasks_2026-11-20T10:15:40Z_synthesis.json", false, 1, "ok", 0, event.StatusSuccess, false, ""},
		{"implement degraded", "spec-implement_2026-11-20T10:34:20Z_synthesis.json", false, 1, "degraded", 0, event.StatusSuccess, false, ""},
		{"validate resolved", "spec-validate_2026-11-20T10:47:05Z_synthesis.json", false, 1, "ok", 0, event.StatusSuccess, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, cfg := sampleRepo(t, "valid.toml")
			cfg.Webhooks.ConflictThreshold = tt.threshold
			cfg.Webhooks.Kick = false
			file := filepath.Join(root, filepath.FromSlash(fixtures.ConsensusDir), tt.file)
			if tt.alone {
				alone := filepath.Join(root, "docs", "elsewhere", fixtures.SpecID, tt.file)
				data, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(filepath.Dir(alone), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(alone, data, 0o644); err != nil {
					t.Fatal(err)
				}
				file = alone
			}
			em := &Emitter{Config: cfg, RepoRoot: root, Getenv: func(string) string { return "" }}
			res, err := em.Emit(Request{Consensus: file})
			if err != nil {
				t.Fatal(err)
			}
			if res.Spec != fixtures.SpecID || res.Status != tt.wantEvent {
				t.Errorf("spec %q status %q, want %q %q", res.Spec, res.Status, fixtures.SpecID, tt.wantEvent)
			}
			dir := specDir(t, root, cfg, fixtures.SpecID)
			names, _, err := dir.List("spool")
			if err != nil {
				t.Fatal(err)
			}
			var stage, anomaly *event.Payload
			for _, n := range names {
				d, err := dir.Read("spool", n)
				if err != nil {
					t.Fatal(err)
				}
				p := decodePayload(t, d.Body)
				switch p.Event.Type {
				case event.TypeStageCompleted:
					stage = p
				case event.TypeConsensusConflict:
					anomaly = p
					if d.Subscription != "anomaly-watch" {
						t.Errorf("anomaly spooled for %s, which did not opt in", d.Subscription)
					}
				}
			}
			if stage == nil || stage.Consensus == nil {
				t.Fatalf("no stage event with a consensus section among %d files", len(names))
			}
			c := stage.Consensus
			if c.Status != tt.wantStatus || c.Threshold != tt.threshold || (tt.wantCount > 0 && c.ConflictCount != tt.wantCount) {
				t.Errorf("consensus = status %q count %d threshold %d, want %q %d %d", c.Status, c.ConflictCount, c.Threshold, tt.wantStatus, tt.wantCount, tt.threshold)
			}
			if !strings.HasPrefix(c.Source, "docs/") || !slices.Contains(stage.Evidence.Paths, c.Source) {
				t.Errorf("source %q not repository-relative or not in evidence %q", c.Source, stage.Evidence.Paths)
			}
			if slices.Contains(subsOf(res), "anomaly-watch") {
				t.Errorf("stage event reached anomaly-watch: %v", subsOf(res))
			}
			if (anomaly != nil) != tt.wantAnomaly || (res.Anomaly != nil) != tt.wantAnomaly {
				t.Fatalf("anomaly spooled: %v, in result: %v; want %v", anomaly != nil, res.Anomaly != nil, tt.wantAnomaly)
			}
			if !tt.wantAnomaly {
				return
			}
			if got := subsOf(res.Anomaly); !slices.Equal(got, []string{"anomaly-watch"}) {
				t.Errorf("anomaly went to %v, want only anomaly-watch", got)
			}
			m := anomaly.Anomaly.Mitigation
			resume := "/spec-auto " + fixtures.SpecID + " --from spec-plan"
			if m.Source != tt.wantSource || m.ResumeCommand != resume {
				t.Errorf("mitigation = %+v, want source %q and %q", m, tt.wantSource, resume)
			}
			if tt.wantSource == "arbiter" && (m.Decision == "" || len(m.Followups) == 0 || !slices.Contains(anomaly.Evidence.Paths, m.ArbiterPath)) {
				t.Errorf("arbiter mitigation incomplete: %+v (evidence %q)", m, anomaly.Evidence.Paths)
			}
			if !strings.Contains(anomaly.Anomaly.Summary, "Consensus conflict in "+fixtures.SpecID+" at stage Plan") {
				t.Errorf("summary = %q", anomaly.Anomaly.Summary)
			}
			if anomaly.Event.IdempotencyKey != stage.Event.IdempotencyKey+"/anomaly" || anomaly.Event.ID == stage.Event.ID {
				t.Errorf("anomaly key %q id %s, stage key %q id %s", anomaly.Event.IdempotencyKey, anomaly.Event.ID, stage.Event.IdempotencyKey, stage.Event.ID)
			}

			// The same evidence again: both keys are known, nothing is written.
			again, err := em.Emit(Request{Consensus: file})
			if err != nil {
				t.Fatal(err)
			}
			if !again.Duplicate || again.Anomaly == nil || !again.Anomaly.Duplicate {
				t.Errorf("second emit: duplicate %v, anomaly %+v", again.Duplicate, again.Anomaly)
			}
			if after, _, _ := dir.List("spool"); len(after) != len(names) {
				t.Errorf("second emit wrote files: %d then %d", len(names), len(after))
			}
		})
	}
}

func TestEmitConsensusErrors(t *testing.T) {
	root, cfg := sampleRepo(t, "valid.toml")
	write := func(name, content string) string {
		p := filepath.Join(root, "docs", "c", fixtures.SpecID, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	plan := filepath.Join(root, filepath.FromSlash(fixtures.ConsensusDir), "spec-plan_2026-11-20T10:05:12Z_synthesis.json")
	tests := []struct {
		name string
		req  Request
		want string
	}{
		{"missing", Request{Consensus: filepath.Join(root, "nope.json")}, "--consensus nope.json: file not found"},
		{"malformed", Request{Consensus: write("spec-plan_x_synthesis.json", "{\n  \"stage\": \"spec-plan\",\n  \"conflicts\": [1,\n")}, "spec-plan_x_synthesis.json"},
		{"no stage", Request{Consensus: write("synthesis.json", `{"status":"ok","agreements":[],"conflicts":[]}`)}, "names no stage: pass --stage"},
		{"with a pipeline event", Request{Consensus: plan, Event: event.TypePipelineCompleted}, "--consensus goes with"},
		{"anomaly without consensus", Request{Spec: "S-1", Stage: "plan", Status: "failure", Event: event.TypeConsensusConflict}, "needs --consensus FILE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			em := &Emitter{Config: cfg, RepoRoot: root, Getenv: func(string) string { return "" }}
			_, err := em.Emit(tt.req)
			if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrUsage containing %q", err, tt.want)
			}
			if _, err := os.Stat(filepath.Join(root, cfg.Webhooks.SpoolDirFor(fixtures.SpecID))); !os.IsNotExist(err) {
				t.Fatalf("a failed emit created the spool: %v", err)
			}
		})
	}
}

// TestEmitConsensusExplicitAnomaly: --event spec-auto.anomaly.consensus_conflict
// sends the anomaly alone, whatever the threshold.
func TestEmitConsensusExplicitAnomaly(t *testing.T) {
	root, cfg := sampleRepo(t, "valid.toml")
	cfg.Webhooks.ConflictThreshold = 10
	em := &Emitter{Config: cfg, RepoRoot: root, Getenv: func(string) string { return "" }, Now: func() time.Time { return time.Unix(1e9, 0) }}
	file := filepath.Join(root, filepath.FromSlash(fixtures.ConsensusDir), "spec-tasks_2026-11-20T10:15:40Z_synthesis.json")
	res, err := em.Emit(Request{Consensus: file, Event: event.TypeConsensusConflict, Preview: true})
	if err != nil {
		t.Fatal(err)
	}
	p := decodePayload(t, res.Body)
	if res.Anomaly != nil || p.Anomaly == nil || p.Anomaly.Mitigation.Source != "resume" || !slices.Equal(subsOf(res), []string{"anomaly-watch"}) {
		t.Fatalf("result %+v, anomaly section %+v", res, p.Anomaly)
	}
}

func TestEvidenceLinksInPayload(t *testing.T) {
	root, cfg := sampleRepo(t, "valid.toml")
	cfg.Webhooks.EvidenceBaseURL = "https://git.example/acme/repo/blob/{commit}/{path}"
	em := &Emitter{Config: cfg, RepoRoot: root, Getenv: func(string) string { return "" }}
	tel := filepath.Join(root, filepath.FromSlash(fixtures.CommandsDir), "spec-plan_2026-11-20T10:01:02Z-1234567890.json")
	res, err := em.Emit(Request{Telemetry: tel, Preview: true})
	if err != nil {
		t.Fatal(err)
	}
	p := decodePayload(t, res.Body)
	if len(p.Evidence.Links) != len(p.Evidence.Paths) || len(p.Evidence.Links) == 0 {
		t.Fatalf("links %q for paths %q", p.Evidence.Links, p.Evidence.Paths)
	}
	// No repository yet: {commit} falls back to HEAD.
	if want := "https://git.example/acme/repo/blob/HEAD/" + p.Evidence.Paths[0]; p.Evidence.Links[0] != want {
		t.Errorf("link = %q, want %q", p.Evidence.Links[0], want)
	}
}

// TestAnomalySummaryNamesFailedAgents: agents that did not do their part
// are named in the summary; agents that did are not.
func TestAnomalySummaryNamesFailedAgents(t *testing.T) {
	root, cfg := sampleRepo(t, "valid.toml")
	file := filepath.Join(root, "docs", "c", fixtures.SpecID, "spec-plan_1_telemetry.jsonl")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	line := `{"schemaVersion":"2.0","command":"spec-plan","specId":"` + fixtures.SpecID + `","sessionId":"s-1","consensus":{"status":"ok","agreements":[],"conflicts":["x or y"],` +
		`"agents":[{"agent":"gemini","status":"error","error":"agent execution failed"},{"agent":"claude","status":"ok"}],"disagreement_detected":true}}`
	if err := os.WriteFile(file, []byte(line+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	em := &Emitter{Config: cfg, RepoRoot: root, Getenv: func(string) string { return "" }}
	res, err := em.Emit(Request{Consensus: file, Preview: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Anomaly == nil {
		t.Fatal("no anomaly")
	}
	p := decodePayload(t, res.Anomaly.Body)
	if s := p.Anomaly.Summary; !strings.Contains(s, "; agents not ok: gemini error.") || strings.Contains(s, "claude") {
		t.Errorf("summary = %q", s)
	}
}
