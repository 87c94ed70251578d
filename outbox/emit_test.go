package outbox

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spec-kit/outbox/fixtures"
	"github.com/spec-kit/outbox/internal/schematest"
	"github.com/spec-kit/outbox/ledger"
	"github.com/spec-kit/outbox/outbox/config"
	"github.com/spec-kit/outbox/outbox/event"
	"github.com/spec-kit/outbox/outbox/spool"
)

// TestMain lets the test binary act as an `outbox emit` process for the
// multi-process tests.
func TestMain(m *testing.M) {
	if root := os.Getenv("OUTBOX_TEST_EMIT_REPO"); root != "" {
		os.Exit(emitProcess(root))
	}
	os.Exit(m.Run())
}

func emitProcess(root string) int {
	cfg, err := config.Load(filepath.Join(root, "config.toml"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	em := &Emitter{Config: cfg, RepoRoot: root}
	n := 1
	fmt.Sscan(os.Getenv("OUTBOX_TEST_EMIT_N"), &n)
	for i := 0; i < n; i++ {
		key := os.Getenv("OUTBOX_TEST_EMIT_KEY")
		if key == "" {
			key = fmt.Sprintf("%s-%d", os.Getenv("OUTBOX_TEST_EMIT_PROC"), i)
		}
		_, err := em.Emit(Request{Spec: "SPEC-1", Stage: "plan", Status: "success", IdempotencyKey: key,
			Data: map[string]string{"proc": os.Getenv("OUTBOX_TEST_EMIT_PROC"), "seq": fmt.Sprint(i)}})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

// sampleRepo copies the fixture repository and a config into a temp dir.
func sampleRepo(t *testing.T, configFixture string) (root string, cfg *config.Config) {
	t.Helper()
	root = t.TempDir()
	if err := fixtures.CopyRepo(root); err != nil {
		t.Fatal(err)
	}
	data, err := fixtures.FS.ReadFile("configs/" + configFixture)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "config.toml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err = config.Load(filepath.Join(root, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	return root, cfg
}

func specDir(t *testing.T, root string, cfg *config.Config, spec string) *spool.Dir {
	t.Helper()
	d, err := spool.Open(filepath.Join(root, cfg.Webhooks.SpoolDirFor(spec)), spec)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestEmitEveryTelemetryFixture emits every guardrail fixture to ten
// subscriptions and checks each payload against the JSON Schema.
func TestEmitEveryTelemetryFixture(t *testing.T) {
	root, cfg := sampleRepo(t, "ten-subscriptions.toml")
	em := &Emitter{Config: cfg, RepoRoot: root, Getenv: func(string) string { return "" }}
	files, _ := filepath.Glob(filepath.Join(root, filepath.FromSlash(fixtures.CommandsDir), "spec-*.json"))
	if len(files) < 7 {
		t.Fatalf("only %d telemetry fixtures", len(files))
	}
	want := map[string]string{ // file name prefix -> status
		"spec-implement_2026-11-18": event.StatusFailure,
		"spec-implement_2026-11-19": event.StatusHalt,
		"spec-validate_2026-11-19":  event.StatusFailure,
		"spec-audit_malformed":      event.StatusFailure,
	}
	total := 0
	for _, f := range files {
		res, err := em.Emit(Request{Telemetry: f})
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		if len(res.Deliveries) != 10 {
			t.Fatalf("%s: %d deliveries, want 10", filepath.Base(f), len(res.Deliveries))
		}
		total += 10
		wantStatus := event.StatusSuccess
		for prefix, st := range want {
			if strings.HasPrefix(filepath.Base(f), prefix) {
				wantStatus = st
			}
		}
		if res.Status != wantStatus || res.Spec != fixtures.SpecID {
			t.Errorf("%s: status %q spec %q, want %q", filepath.Base(f), res.Status, res.Spec, wantStatus)
		}
		if strings.Contains(f, "malformed") != (res.TelemetryError != "") {
			t.Errorf("%s: telemetry error %q", filepath.Base(f), res.TelemetryError)
		}
	}
	dir := specDir(t, root, cfg, fixtures.SpecID)
	names, bad, err := dir.List(spool.Pending)
	if err != nil || len(bad) > 0 || len(names) != total {
		t.Fatalf("spool holds %d files (%v, %v), want %d", len(names), bad, err, total)
	}
	for _, n := range names {
		d, err := dir.Read(spool.Pending, n)
		if err != nil {
			t.Fatal(err)
		}
		schematest.Validate(t, d.Body)
		if strings.Contains(string(d.Body), root) {
			t.Fatalf("payload holds the machine's repository path:\n%s", d.Body)
		}
	}
	hs := foldLedger(t, dir)
	if len(hs) != total {
		t.Fatalf("ledger has %d deliveries, want %d", len(hs), total)
	}
}

func foldLedger(t *testing.T, dir *spool.Dir) []*ledger.History {
	t.Helper()
	es, err := ledger.ReadAll(dir.LedgerPath())
	if err != nil {
		t.Fatal(err)
	}
	return ledger.Fold(es)
}

func TestEmitPayloadFields(t *testing.T) {
	root, cfg := sampleRepo(t, "ten-subscriptions.toml")
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	em := &Emitter{Config: cfg, RepoRoot: root, Now: func() time.Time { return now }}
	tel := filepath.Join(root, filepath.FromSlash(fixtures.CommandsDir), "spec-validate_2026-11-19T16:27:33Z-1329071185.json")
	res, err := em.Emit(Request{Telemetry: tel, Preview: true, Data: map[string]string{"run": "7"}})
	if err != nil {
		t.Fatal(err)
	}
	schematest.Validate(t, res.Body)
	var p event.Payload
	if err := json.Unmarshal(res.Body, &p); err != nil {
		t.Fatal(err)
	}
	checks := []struct{ name, got, want string }{
		{"event.type", p.Event.Type, event.TypeStageCompleted},
		{"event.stage", p.Event.Stage, "Validate"},
		{"event.status", p.Event.Status, event.StatusFailure},
		{"event.occurred_at", p.Event.OccurredAt, "2026-12-04T10:00:00.000Z"},
		{"event.idempotency_key", p.Event.IdempotencyKey, fixtures.SpecID + "/Validate/2026-11-19T16:27:33Z-1329071185"},
		{"spec.id", p.Spec.ID, fixtures.SpecID},
		{"telemetry.path", p.Telemetry.Path, fixtures.CommandsDir + "/spec-validate_2026-11-19T16:27:33Z-1329071185.json"},
		{"telemetry.command", p.Telemetry.Command, "spec-ops-validate"},
		{"pipeline.resume_command", p.Pipeline.ResumeCommand, "/spec-auto " + fixtures.SpecID + " --from spec-validate"},
		{"evidence.paths[0]", p.Evidence.Paths[0], p.Telemetry.Path},
		{"data.run", p.Data["run"], "7"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if p.Pipeline.StageIndex != 4 || p.Pipeline.StageCount != 6 {
		t.Errorf("pipeline = %+v", p.Pipeline)
	}
	for _, a := range p.Telemetry.Artifacts {
		if strings.HasPrefix(a, "/") || !strings.HasPrefix(a, "docs/") {
			t.Errorf("artifact %q is not repository-relative", a)
		}
	}
	failed := false
	for _, c := range p.Telemetry.Checks {
		failed = failed || c.Status == "failed"
	}
	if !failed {
		t.Errorf("no failed check in %+v", p.Telemetry.Checks)
	}
	// A preview writes nothing.
	if _, err := os.Stat(filepath.Join(root, cfg.Webhooks.SpoolDirFor(fixtures.SpecID))); !os.IsNotExist(err) {
		t.Fatalf("preview created the spool: %v", err)
	}
}

func TestEmitDisabledWritesNothing(t *testing.T) {
	root, cfg := sampleRepo(t, "ten-subscriptions.toml")
	em := &Emitter{Config: cfg, RepoRoot: root, Getenv: func(k string) string {
		if k == config.EnvWebhooksEnabled {
			return "0"
		}
		return ""
	}}
	res, err := em.Emit(Request{Spec: "SPEC-1", Stage: "plan", Status: "success"})
	if err != nil || res.Enabled || len(res.Deliveries) != 0 {
		t.Fatalf("res = %+v, err = %v", res, err)
	}
	if _, err := os.Stat(filepath.Join(root, "docs/SPEC-OPS-004-integrated-coder-hooks/evidence/commands/SPEC-1")); !os.IsNotExist(err) {
		t.Fatalf("disabled emit created files: %v", err)
	}
}

// TestEmitSameKeyFromManyProcesses: eight processes emit the same
// idempotency key at once; exactly one event is enqueued.
func TestEmitSameKeyFromManyProcesses(t *testing.T) {
	root, cfg := sampleRepo(t, "ten-subscriptions.toml")
	runEmitters(t, root, 8, 1, "the-one-key")
	dir := specDir(t, root, cfg, "SPEC-1")
	names, _, _ := dir.List(spool.Pending)
	if len(names) != 10 {
		t.Fatalf("%d spool files, want 10 (one event x 10 subscriptions)", len(names))
	}
	if hs := foldLedger(t, dir); len(hs) != 10 {
		t.Fatalf("ledger: %d deliveries, want 10", len(hs))
	}
}

// TestEmitManyProcessesLoseNothing: eight processes emit 25 distinct events
// each at once; every one is in the spool and the ledger, in per-process
// order.
func TestEmitManyProcessesLoseNothing(t *testing.T) {
	root, cfg := sampleRepo(t, "ten-subscriptions.toml")
	const procs, events = 8, 25
	runEmitters(t, root, procs, events, "")
	dir := specDir(t, root, cfg, "SPEC-1")
	names, bad, err := dir.List(spool.Pending)
	if err != nil || len(bad) != 0 || len(names) != procs*events*10 {
		t.Fatalf("%d spool files (%v %v), want %d", len(names), bad, err, procs*events*10)
	}
	es, err := ledger.ReadAll(dir.LedgerPath())
	if err != nil || len(es) != procs*events*10 {
		t.Fatalf("%d ledger lines (%v), want %d", len(es), err, procs*events*10)
	}
	// Per subscription, delivery ids (UUIDv7) from one process sort in the
	// order the process emitted: FIFO needs nothing but the id.
	type key struct{ proc, sub string }
	seqByID := map[key]map[string]int{}
	for _, n := range names {
		d, err := dir.Read(spool.Pending, n)
		if err != nil {
			t.Fatal(err)
		}
		var p event.Payload
		if err := json.Unmarshal(d.Body, &p); err != nil {
			t.Fatal(err)
		}
		k := key{p.Data["proc"], d.Subscription}
		if seqByID[k] == nil {
			seqByID[k] = map[string]int{}
		}
		var seq int
		fmt.Sscan(p.Data["seq"], &seq)
		seqByID[k][d.ID] = seq
	}
	if len(seqByID) != procs*10 {
		t.Fatalf("saw %d (process, subscription) pairs, want %d", len(seqByID), procs*10)
	}
	for k, m := range seqByID {
		ids := slices.Sorted(maps.Keys(m))
		for i, id := range ids {
			if m[id] != i {
				t.Fatalf("%v: delivery %d in id order carries seq %d", k, i, m[id])
			}
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(dir.Root, "tmp")); len(ents) != 0 {
		t.Fatalf("tmp/ holds %d leftovers", len(ents))
	}
}

func runEmitters(t *testing.T, root string, procs, events int, key string) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, procs)
	for p := 0; p < procs; p++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "OUTBOX_TEST_EMIT_REPO="+root, "OUTBOX_TEST_EMIT_KEY="+key,
			fmt.Sprintf("OUTBOX_TEST_EMIT_PROC=p%d", p), fmt.Sprintf("OUTBOX_TEST_EMIT_N=%d", events))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if out, err := cmd.CombinedOutput(); err != nil {
				errs <- fmt.Errorf("emitter: %v\n%s", err, out)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestEmitWritesNoSecret: emit never reads secrets, and a canary secret in
// the environment appears in no file it writes.
func TestEmitWritesNoSecret(t *testing.T) {
	const canary = "canary-secret-4f1d2a9b7c"
	t.Setenv("SPECKIT_WEBHOOK_SECRET", canary)
	root, cfg := sampleRepo(t, "ten-subscriptions.toml")
	em := &Emitter{Config: cfg, RepoRoot: root}
	if _, err := em.Emit(Request{Spec: "SPEC-1", Stage: "plan", Status: "failure", Data: map[string]string{"a": "b"}}); err != nil {
		t.Fatal(err)
	}
	dir := specDir(t, root, cfg, "SPEC-1")
	err := filepath.WalkDir(dir.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if strings.Contains(string(data), canary) {
			t.Errorf("%s holds the secret", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestIdempotencyKeys(t *testing.T) {
	tests := []struct {
		name                      string
		req                       Request
		typ, stage, session, want string
	}{
		{"explicit wins", Request{IdempotencyKey: "k"}, event.TypeStageCompleted, "Plan", "s1", "k"},
		{"stage from session", Request{}, event.TypeStageCompleted, "Plan", "s1", "S/Plan/s1"},
		{"other event from session", Request{}, event.TypeConsensusConflict, "Plan", "s1", "S/" + event.TypeConsensusConflict + "/Plan/s1"},
		{"task", Request{TaskID: "T60"}, event.TypeTaskCompleted, "", "", "S/" + event.TypeTaskCompleted + "/T60"},
		{"no identity: event id", Request{}, event.TypeStageCompleted, "Plan", "", "EVENT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := idempotencyKey(tt.req, tt.typ, "S", tt.stage, "", tt.session, "EVENT"); got != tt.want {
				t.Fatalf("key = %q, want %q", got, tt.want)
			}
		})
	}
}

func BenchmarkEmit10Subscriptions(b *testing.B) {
	root := b.TempDir()
	os.WriteFile(filepath.Join(root, "config.toml"), mustRead(b, "configs/ten-subscriptions.toml"), 0o644)
	cfg, err := config.Load(filepath.Join(root, "config.toml"))
	if err != nil {
		b.Fatal(err)
	}
	em := &Emitter{Config: cfg, RepoRoot: root}
	i := 0
	for b.Loop() {
		i++
		if _, err := em.Emit(Request{Spec: "SPEC-1", Stage: "plan", Status: "success", IdempotencyKey: fmt.Sprint(i)}); err != nil {
			b.Fatal(err)
		}
	}
}

func mustRead(b *testing.B, name string) []byte {
	data, err := fixtures.FS.ReadFile(name)
	if err != nil {
		b.Fatal(err)
	}
	return data
}
