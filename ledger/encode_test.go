package ledger

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// TestAppendLineMatchesJSON: the hand-written encoder writes exactly what
// encoding/json writes for the same entry, for random field values
// including control characters, invalid UTF-8 and U+2028/U+2029.
func TestAppendLineMatchesJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	pieces := []string{"", "a", "Z", "0", " ", "\"", "\\", "/", "<", ">", "&", "\x00", "\x01", "\x1f", "\x7f", "\b", "\f",
		"\n", "\r", "\t", "é", "✓", "日本", "\u2028", "\u2029", "\xff", "\xe2\x80", "\xc3", "\U0001F600", "\ufeff", "\ufffd"}
	str := func() string {
		if rng.IntN(3) == 0 {
			return ""
		}
		var sb strings.Builder
		for j := rng.IntN(10); j > 0; j-- {
			sb.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return sb.String()
	}
	num := func() int64 {
		switch rng.IntN(3) {
		case 0:
			return 0
		case 1:
			return -rng.Int64N(1000)
		}
		return rng.Int64()
	}
	tm := func() time.Time {
		if rng.IntN(3) == 0 {
			return time.Time{}
		}
		return time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)).In(time.FixedZone("X", 3600*rng.IntN(12)))
	}
	now := time.Date(2026, 12, 4, 16, 0, 1, 234_567_000, time.UTC)
	for i := 0; i < 20000; i++ {
		e := Entry{
			Time: tm(), Action: str(), Spec: str(), Delivery: str(), EventID: str(), Event: str(),
			Subscription: str(), Key: str(), Attempt: int(num()), Status: int(num()), DurationMS: num(),
			Host: str(), NextDue: tm(), Error: str(), Reason: str(), Response: str(), Bytes: num(),
		}
		if checkSafe(e) != nil {
			continue
		}
		got, err := AppendLine(nil, e, now)
		if err != nil {
			t.Fatal(err)
		}
		want := e
		if want.Time.IsZero() {
			want.Time = now
		}
		var buf bytes.Buffer
		if err := encodeLine(&buf, want.wire()); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, buf.Bytes()) {
			t.Fatalf("entry %+v:\n got %q\nwant %q", e, got, buf.Bytes())
		}
	}
}

// encodeLine is how lines were encoded before AppendLine: the reference.
func encodeLine(w *bytes.Buffer, l line) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(l) // Encode appends the newline
}

func TestAppendLineRefusesURLs(t *testing.T) {
	if _, err := AppendLine(nil, Entry{Action: ActionAttempt, Error: "see https://x"}, time.Now()); err == nil {
		t.Fatal("a URL in an error field was accepted")
	}
}

func BenchmarkAppendLine(b *testing.B) {
	e := Entry{Time: time.Now(), Action: ActionAttempt, Delivery: "0192f0e4-3c1a-7b2e-8c3d-4e5f60718293",
		Subscription: "ops", Attempt: 1, Status: 204, DurationMS: 1, Host: "127.0.0.1:8080"}
	var buf []byte
	for b.Loop() {
		buf, _ = AppendLine(buf[:0], e, time.Time{})
	}
}

func BenchmarkEncodeLineJSON(b *testing.B) {
	e := Entry{Time: time.Now(), Action: ActionAttempt, Delivery: "0192f0e4-3c1a-7b2e-8c3d-4e5f60718293",
		Subscription: "ops", Attempt: 1, Status: 204, DurationMS: 1, Host: "127.0.0.1:8080"}
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		encodeLine(&buf, e.wire())
	}
}
