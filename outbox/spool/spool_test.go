package spool

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spec-kit/outbox/internal/uuidv7"
	"go.yaml.in/yaml/v3"
)

var t0 = time.Date(2026, 12, 4, 15, 42, 45, 123_000_000, time.UTC)

func TestNameRoundTrip(t *testing.T) {
	id := uuidv7.New(t0)
	n := Name{Due: t0, Attempt: 3, ID: id, Subscription: "chatops-slack"}
	s := n.String()
	if want := "20261204T154245.123Z_003_" + id + "_chatops-slack.yaml"; s != want {
		t.Fatalf("String = %s, want %s", s, want)
	}
	got, err := ParseName(s)
	if err != nil || got != n {
		t.Fatalf("ParseName(%s) = %+v, %v", s, got, err)
	}
}

func TestParseNameRejects(t *testing.T) {
	id := uuidv7.New(t0)
	tests := []struct{ name, in, want string }{
		{"no extension", "20261204T154245.123Z_001_" + id + "_ops", "want <due>"},
		{"bad due", "2026-12-04_001_" + id + "_ops.yaml", "due time"},
		{"zero attempt", "20261204T154245.123Z_000_" + id + "_ops.yaml", "attempt"},
		{"not uuid", "20261204T154245.123Z_001_abc_ops.yaml", "UUIDv7"},
		{"extra part", "20261204T154245.123Z_001_" + id + "_a_b.yaml", "want <due>"},
		{"bad sub", "20261204T154245.123Z_001_" + id + "_.yaml", "subscription"},
		{"stray file", "README.md", "want <due>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseName(tt.in)
			if !errors.Is(err, ErrBadName) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrBadName mentioning %q", err, tt.want)
			}
		})
	}
}

func TestValidIDs(t *testing.T) {
	for _, tt := range []struct {
		spec bool
		id   string
		want bool
	}{
		{true, "SPEC-KIT-065-add-webhook-notification-system-for", true},
		{true, "SPEC_KIT.1", true},
		{true, "../etc", false},
		{true, "a/b", false},
		{true, "a..b", false},
		{true, "", false},
		{true, "-x", false},
		{false, "chatops-slack", true},
		{false, "ops.v2", true},
		{false, "has_underscore", false},
		{false, strings.Repeat("a", 65), false},
	} {
		f := ValidSubscriptionID
		if tt.spec {
			f = ValidSpecID
		}
		if got := f(tt.id); got != tt.want {
			t.Errorf("valid(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestDeliveryRoundTripKeepsBodyBytes(t *testing.T) {
	bodies := []string{
		"{\n  \"a\": 1\n}",
		`{"compact":true,"s":"tab\tnl\nquote\"","u":"héllo ✓ 日本"}`,
		"{\n  \"trailing\": \"newline\"\n}\n",
		"{}",
		"  leading spaces",
		"#not a comment\n- not a list\n",
		"\n   x\ny",
		"a \nb",
		"a\r\nb",
		"x\x7fy",
		"\ufeffx",
		"tab\t\nend",
		"",
		"\xff\xfe invalid utf-8",
		"a\n\n\nb",
		"a\n",
	}
	// And random bodies from an alphabet of YAML's troublemakers.
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{" ", "\n", "\t", "#", ":", "-", "|", ">", "'", "\"", "{", "}", "a", "é", "\r", "\x00", "\u2028", "\\", "---", "..."}
	for i := 0; i < 2000; i++ {
		var sb strings.Builder
		for j := rng.IntN(30); j > 0; j-- {
			sb.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		bodies = append(bodies, sb.String())
	}
	for _, b := range bodies {
		d := &Delivery{ID: uuidv7.New(t0), EventID: uuidv7.New(t0), Event: "spec-auto.stage.completed",
			Spec: "SPEC-1", Subscription: "ops", IdempotencyKey: "SPEC-1/Plan/s1", CreatedAt: t0, Body: []byte(b)}
		data, err := d.Encode()
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode("x.yaml", data)
		if err != nil {
			t.Fatalf("decode %q: %v\n%s", b, err, data)
		}
		if string(got.Body) != b || got.ID != d.ID || !got.CreatedAt.Equal(t0) || got.IdempotencyKey != d.IdempotencyKey {
			t.Fatalf("round trip changed the delivery:\n got %+v\nwant %+v\nfile:\n%s", got, d, data)
		}
	}
}

func TestDecodeRejectsDamage(t *testing.T) {
	d := &Delivery{ID: uuidv7.New(t0), Event: "e", Spec: "S", Subscription: "ops", CreatedAt: t0, Body: []byte(`{"status":"success"}`)}
	data, _ := d.Encode()
	tests := []struct {
		name string
		data string
		want error
	}{
		{"tampered body", strings.Replace(string(data), "success", "failure", 1), ErrBodyMismatch},
		{"truncated", string(data[:len(data)/2]), ErrBadFile},
		{"unknown key", string(data) + "extra: 1\n", ErrBadFile},
		{"wrong version", strings.Replace(string(data), "version: 1", "version: 9", 1), ErrBadFile},
		{"not yaml", "\x00\x01", ErrBadFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode("dead/x.yaml", []byte(tt.data))
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), "dead/x.yaml") {
				t.Fatalf("err = %v, want %v naming the file", err, tt.want)
			}
		})
	}
}

func TestEnqueueWritesCompleteFilesAndCleansTmp(t *testing.T) {
	root := filepath.Join(t.TempDir(), "a", "webhooks")
	d, err := Open(root, "SPEC-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Init(); err != nil {
		t.Fatal(err)
	}
	ign, err := os.ReadFile(filepath.Join(root, ".gitignore"))
	if err != nil || !strings.Contains(string(ign), "tmp/") || !strings.Contains(string(ign), ".lock") {
		t.Fatalf(".gitignore: %q %v", ign, err)
	}
	var ds []*Delivery
	for _, sub := range []string{"a", "b", "c"} {
		ds = append(ds, &Delivery{ID: uuidv7.New(t0), Event: "e", Spec: "SPEC-1", Subscription: sub, CreatedAt: t0, Body: []byte(`{"x":1}`)})
	}
	names, err := d.Enqueue(ds, t0)
	if err != nil || len(names) != 3 {
		t.Fatalf("Enqueue: %v %v", names, err)
	}
	listed, bad, err := d.List(Pending)
	if err != nil || len(bad) != 0 || len(listed) != 3 {
		t.Fatalf("List: %v %v %v", listed, bad, err)
	}
	for i, n := range listed {
		if n != names[i] || n.Attempt != 1 || !n.Due.Equal(t0) {
			t.Fatalf("listed[%d] = %+v, want %+v", i, n, names[i])
		}
		got, err := d.Read(Pending, n)
		if err != nil || string(got.Body) != `{"x":1}` {
			t.Fatalf("Read: %v %v", got, err)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(root, "tmp")); len(ents) != 0 {
		t.Fatalf("tmp/ not empty: %v", ents)
	}
	// Immutable: the same delivery cannot be enqueued over itself.
	if _, err := d.Enqueue(ds[:1], t0); !errors.Is(err, ErrExists) {
		t.Fatalf("re-enqueue: err = %v, want ErrExists", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(root, "tmp")); len(ents) != 0 {
		t.Fatalf("tmp/ not cleaned after a failed enqueue: %v", ents)
	}
}

func TestListReportsStrayFiles(t *testing.T) {
	d, _ := Open(t.TempDir(), "S")
	if err := d.Init(); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(d.StatePath(Pending), "notes.txt"), []byte("x"), 0o644)
	_, bad, err := d.List(Pending)
	if err != nil || len(bad) != 1 || bad[0] != "notes.txt" {
		t.Fatalf("bad = %v, err = %v", bad, err)
	}
}

func TestOpenRejectsUnsafeSpec(t *testing.T) {
	if _, err := Open(t.TempDir(), "../../x"); !errors.Is(err, ErrBadSpecID) {
		t.Fatalf("err = %v", err)
	}
}

// TestFastDecodeAgreesWithYAML: whenever the fast reader accepts a file,
// it reads exactly what the YAML decoder reads; and it accepts what emit
// writes.
func TestFastDecodeAgreesWithYAML(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	pieces := []string{"a", "Z", "0", "-", "_", ".", "/", ":", " ", "#", "\"", "'", "\\", "é", "null", "true", "- ", ": ", "{", "[", "*", "&", "!", "%", "@", "`", "\t"}
	randStr := func() string {
		var sb strings.Builder
		for j := rng.IntN(12); j > 0; j-- {
			sb.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return sb.String()
	}
	fast := 0
	for i := 0; i < 3000; i++ {
		d := &Delivery{ID: uuidv7.New(t0), EventID: uuidv7.New(t0), Event: "spec-auto.stage.completed",
			Spec: "SPEC-1", Subscription: "ops", IdempotencyKey: randStr(), CreatedAt: t0,
			Body: []byte("{\n  \"k\": \"" + strings.ReplaceAll(randStr(), `"`, "") + "\"\n}")}
		if i%3 == 0 {
			d.IdempotencyKey = "SPEC-1/Plan/2026-11-20T10:01:02Z-1234567890"
			d.EventID = ""
		}
		data, err := d.Encode()
		if err != nil {
			t.Fatal(err)
		}
		f, ok := decodeFast(data)
		var y file
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&y); err != nil {
			t.Fatalf("yaml cannot read what Encode wrote: %v\n%s", err, data)
		}
		if !ok {
			continue
		}
		fast++
		if f != y {
			t.Fatalf("fast read differs from YAML:\nfast %+v\nyaml %+v\n%s", f, y, data)
		}
	}
	if fast < 1000 {
		t.Fatalf("the fast reader accepted only %d of 3000 files", fast)
	}
}
