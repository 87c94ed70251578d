package ledger

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary act as a ledger appender process for the
// concurrency test.
func TestMain(m *testing.M) {
	if path := os.Getenv("LEDGER_TEST_APPEND"); path != "" {
		os.Exit(appendProcess(path))
	}
	os.Exit(m.Run())
}

func appendProcess(path string) int {
	proc := os.Getenv("LEDGER_TEST_PROC")
	n, _ := strconv.Atoi(os.Getenv("LEDGER_TEST_LINES"))
	for i := 0; i < n; {
		batch := 1 + i%7 // mixed batch sizes
		var es []Entry
		for j := 0; j < batch && i < n; j++ {
			es = append(es, Entry{
				Action:       ActionAttempt,
				Delivery:     fmt.Sprintf("%s-%06d", proc, i),
				Subscription: proc,
				Attempt:      i + 1,
				Error:        strings.Repeat("x", i%300), // lines of varied length
			})
			i++
		}
		if err := Append(path, es...); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

func TestConcurrentProcessesNeverTearOrLose(t *testing.T) {
	const procs, lines = 6, 2000
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	var cmds []*exec.Cmd
	for p := 0; p < procs; p++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(),
			"LEDGER_TEST_APPEND="+path,
			fmt.Sprintf("LEDGER_TEST_PROC=p%d", p),
			fmt.Sprintf("LEDGER_TEST_LINES=%d", lines))
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("appender failed: %v", err)
		}
	}
	entries, err := ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != procs*lines {
		t.Fatalf("got %d lines, want %d", len(entries), procs*lines)
	}
	next := map[string]int{}
	for _, e := range entries {
		want := fmt.Sprintf("%s-%06d", e.Subscription, next[e.Subscription])
		if e.Delivery != want {
			t.Fatalf("line out of order or lost: got %s, want %s", e.Delivery, want)
		}
		if len(e.Error) != next[e.Subscription]%300 {
			t.Fatalf("line %s has a torn error field", e.Delivery)
		}
		next[e.Subscription]++
	}
}

func TestLineFormatIsStable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	ts := time.Date(2026, 12, 4, 16, 0, 1, 234_567_000, time.FixedZone("CET", 3600))
	err := Append(path, Entry{
		Time: ts, Action: ActionRetryScheduled, Spec: "SPEC-KIT-065", Delivery: "d1",
		Subscription: "ops", Attempt: 2, Status: 503, DurationMS: 12, Host: "hooks.example.com",
		NextDue: ts.Add(2 * time.Second), Error: "503 Service Unavailable <&>",
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := `{"ts":"2026-12-04T15:00:01.234Z","action":"retry_scheduled","spec":"SPEC-KIT-065","delivery":"d1","sub":"ops","attempt":2,"status":503,"duration_ms":12,"host":"hooks.example.com","next_due":"2026-12-04T15:00:03.234Z","error":"503 Service Unavailable <&>"}` + "\n"
	if string(got) != want {
		t.Fatalf("line:\n got %s\nwant %s", got, want)
	}
	es, err := ReadAll(path)
	if err != nil || len(es) != 1 || es[0].Status != 503 || !es[0].NextDue.Equal(ts.Add(2*time.Second).Truncate(time.Millisecond)) {
		t.Fatalf("round trip: %+v, %v", es, err)
	}
}

func TestTornTailIsSkippedAndNotExtended(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	if err := Append(path, Entry{Action: ActionEnqueued, Delivery: "a"}); err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"ts":"2026-12-04T15:00:01.234Z","act`) // crash mid-append
	f.Close()
	es, err := ReadAll(path)
	if err != nil || len(es) != 1 {
		t.Fatalf("before: %d entries, %v", len(es), err)
	}
	if err := Append(path, Entry{Action: ActionEnqueued, Delivery: "b"}); err != nil {
		t.Fatal(err)
	}
	_, err = ReadAll(path)
	if !errors.Is(err, ErrMalformedLine) || !strings.Contains(err.Error(), "ledger.jsonl:2") {
		t.Fatalf("the torn line, now complete, must be reported by line: %v", err)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), `"act`+"\n"+`{"ts":`) {
		t.Fatalf("new line was not started on a fresh line:\n%s", data)
	}
}

func TestMalformedLineNamesFileAndLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	os.WriteFile(path, []byte(`{"ts":"2026-12-04T15:00:01.234Z","action":"enqueued"}`+"\nnot json\n"), 0o644)
	_, err := ReadAll(path)
	if !errors.Is(err, ErrMalformedLine) || !strings.Contains(err.Error(), "ledger.jsonl:2") {
		t.Fatalf("err = %v", err)
	}
}

func TestAppendRefusesURLs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	err := Append(path, Entry{Action: ActionAttempt, Error: "Post https://hooks.example.com/T0K3N: timeout"})
	if !errors.Is(err, ErrUnsafeField) {
		t.Fatalf("err = %v, want ErrUnsafeField", err)
	}
	if _, statErr := os.Stat(path); statErr == nil {
		data, _ := os.ReadFile(path)
		if strings.Contains(string(data), "T0K3N") {
			t.Fatal("URL reached the ledger")
		}
	}
}

func TestHasKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	if ok, err := HasKey(path, "k"); ok || err != nil {
		t.Fatalf("missing ledger: %v %v", ok, err)
	}
	Append(path,
		Entry{Action: ActionEnqueued, Delivery: "a", Key: `SPEC-1/Plan/"s1"<x>`},
		Entry{Action: ActionDuplicate, Key: "only-dup"},
		Entry{Action: ActionEnqueued, Delivery: "b", Key: "SPEC-1/Plan/s10"},
	)
	tests := []struct {
		key  string
		want bool
	}{
		{`SPEC-1/Plan/"s1"<x>`, true},
		{"SPEC-1/Plan/s10", true},
		{"SPEC-1/Plan/s1", false}, // a prefix of another key is not a hit
		{"only-dup", false},       // only enqueued lines count
		{"", false},
	}
	for _, tt := range tests {
		got, err := HasKey(path, tt.key)
		if err != nil || got != tt.want {
			t.Errorf("HasKey(%q) = %v, %v; want %v", tt.key, got, err, tt.want)
		}
	}
}

func TestFold(t *testing.T) {
	es := []Entry{
		{Action: ActionEnqueued, Delivery: "b", Subscription: "s2", Event: "e"},
		{Action: ActionEnqueued, Delivery: "a", Subscription: "s1", Event: "e"},
		{Action: ActionAttempt, Delivery: "a", Attempt: 1, Status: 503},
		{Action: ActionRetryScheduled, Delivery: "a"},
		{Action: ActionAttempt, Delivery: "a", Attempt: 2, Status: 200},
		{Action: ActionDelivered, Delivery: "a"},
		{Action: "run"},
	}
	hs := Fold(es)
	if len(hs) != 2 || hs[0].Delivery != "a" || hs[1].Delivery != "b" {
		t.Fatalf("fold order: %+v", hs)
	}
	a := hs[0]
	if a.Attempts != 2 || a.LastStatus != 200 || a.Outcome != ActionDelivered || a.Subscription != "s1" || len(a.Entries) != 5 {
		t.Fatalf("history a: %+v", a)
	}
	if hs[1].Outcome != ActionEnqueued || hs[1].Attempts != 0 {
		t.Fatalf("history b: %+v", hs[1])
	}
}

func BenchmarkAppend(b *testing.B) {
	path := filepath.Join(b.TempDir(), "ledger.jsonl")
	for b.Loop() {
		if err := Append(path, Entry{Action: ActionEnqueued, Delivery: "0192f0e4-3c1a-7b2e-8c3d-4e5f60718293", Subscription: "ops", Key: "SPEC/Plan/s"}); err != nil {
			b.Fatal(err)
		}
	}
}
