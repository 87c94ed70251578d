package inspect

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spec-kit/outbox/internal/uuidv7"
	"github.com/spec-kit/outbox/ledger"
	"github.com/spec-kit/outbox/outbox/config"
	"github.com/spec-kit/outbox/outbox/spool"
)

var now = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

func TestLoadAndStatus(t *testing.T) {
	dir, _ := spool.Open(filepath.Join(t.TempDir(), "w"), "SPEC-1")
	if err := dir.Init(); err != nil {
		t.Fatal(err)
	}
	mk := func(sub string) *spool.Delivery {
		return &spool.Delivery{ID: uuidv7.New(now.Add(-time.Hour)), Event: "e", Spec: "SPEC-1", Subscription: sub, CreatedAt: now, Body: []byte("{}")}
	}
	pending, evicted := mk("ops"), mk("ops")
	if _, err := dir.Enqueue([]*spool.Delivery{pending}, now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	var es []ledger.Entry
	for i := 0; i < 4; i++ {
		es = append(es, ledger.Entry{Time: now.Add(time.Duration(i) * time.Second), Action: ledger.ActionAttempt,
			Delivery: pending.ID, Subscription: "ops", Attempt: i + 1, Error: "connection refused"})
	}
	es = append(es, ledger.Entry{Time: now, Action: ledger.ActionEnqueued, Delivery: evicted.ID, Subscription: "ops", Event: "e"},
		ledger.Entry{Time: now, Action: ledger.ActionEvicted, Delivery: evicted.ID, Subscription: "ops", Reason: "over cap", Bytes: 10})
	if err := ledger.Append(dir.LedgerPath(), es...); err != nil {
		t.Fatal(err)
	}
	s, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Deliveries) != 2 || len(s.Evictions) != 1 {
		t.Fatalf("deliveries %d, evictions %d", len(s.Deliveries), len(s.Evictions))
	}
	d, _ := s.Find(pending.ID[:30])
	if d == nil || d.State != StatePending || d.Attempts != 4 || d.LastError != "connection refused" {
		t.Fatalf("pending: %+v", d)
	}
	e, _ := s.Find(evicted.ID)
	if e.State != StateEvicted || e.Reason != "over cap" {
		t.Fatalf("evicted: %+v", e)
	}
	cfg, _ := config.Parse("c.toml", []byte("[spec_ops.webhooks]\n[[spec_ops.webhooks.subscriptions]]\nid = \"ops\"\nurl = \"https://x.example/h\"\nsecret_env = \"S\"\n"))
	st := Status(s, cfg, func(string) string { return "" }, now)
	if len(st) != 1 || st[0].Pending != 1 || st[0].Due != 1 || st[0].Evicted != 1 || st[0].ConsecutiveFailures != 4 {
		t.Fatalf("status: %+v", st[0])
	}
	all := strings.Join(st[0].Warnings, "\n")
	for _, want := range []string{"failing repeatedly: the last 4 attempts failed (connection refused)", "secret environment variable S is not set", "1 delivery file(s) evicted"} {
		if !strings.Contains(all, want) {
			t.Errorf("warnings lack %q:\n%s", want, all)
		}
	}
}

func TestParseTime(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2026-12-01T10:00:00Z": time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC),
		"2026-12-01":           time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		"24h":                  now.Add(-24 * time.Hour),
	} {
		got, err := ParseTime(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"yesterday", "-5h", ""} {
		if _, err := ParseTime(bad, now); err == nil {
			t.Errorf("ParseTime(%q) accepted", bad)
		}
	}
}
