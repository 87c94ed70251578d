package ledger

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fuzzScan runs scan over data and returns every entry and the error.
func fuzzScan(data []byte) ([]Entry, error) {
	var out []Entry
	err := scan("fuzz/ledger.jsonl", bytes.NewReader(data), func(e Entry) error {
		out = append(out, e)
		return nil
	})
	return out, err
}

// FuzzRead: the ledger reader never panics. A bad line is an error wrapping
// ErrMalformedLine that names the file and a line of the input; a torn last
// line (no newline) is skipped, so appending one to a ledger changes
// nothing; every entry read has an action and writes back as a line that
// reads the same.
func FuzzRead(f *testing.F) {
	ts := time.Date(2026, 12, 4, 15, 0, 1, 234_000_000, time.UTC)
	var buf bytes.Buffer
	for _, e := range []Entry{
		{Time: ts, Action: ActionEnqueued, Spec: "SPEC-KIT-065", Delivery: "0192f0e4-3c1a-7b2e-8c3d-4e5f60718293", EventID: "0192f0e4-3c1a-7b2e-8c3d-4e5f60718294", Event: "spec-auto.stage.completed", Subscription: "ops", Key: "SPEC-KIT-065/Plan/s1"},
		{Time: ts, Action: ActionAttempt, Delivery: "d1", Subscription: "ops", Attempt: 1, Status: 503, DurationMS: 12, Host: "hooks.example.com", Error: "503 Service Unavailable <&>", Response: "busy \"é\""},
		{Time: ts, Action: ActionRetryScheduled, Delivery: "d1", Attempt: 2, NextDue: ts.Add(2 * time.Second)},
		{Time: ts, Action: ActionEvicted, Reason: "spool over max_spool_bytes", Bytes: 4096},
	} {
		if err := encodeLine(&buf, e.wire()); err != nil {
			f.Fatal(err)
		}
	}
	good := buf.String()
	for _, s := range []string{
		good,
		good + `{"ts":"2026-12-04T15:00:01.234Z","act`, // torn tail
		good[:len(good)/2] + "\n" + good,               // a torn line, completed by a later append
		"",
		"\n\n  \r\n",
		`{"ts":"2026-12-04T15:00:01+01:00","action":"dead","next_due":"not a time"}` + "\n",
		`{"ts":"","action":""}` + "\n" + `[1,2]` + "\n",
		`{"ts":"2026-12-04T15:00:01.234Z","action":"attempt","attempt":1.5,"TS":"x"}` + "\n",
		"not json\n",
	} {
		f.Add([]byte(s))
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := fuzzScan(data)
		if err != nil {
			if !errors.Is(err, ErrMalformedLine) {
				t.Fatalf("error %v does not wrap ErrMalformedLine", err)
			}
			lines := bytes.Count(data, []byte("\n"))
			var n int
			if _, serr := errorLine(err.Error(), &n); serr != nil || n < 1 || n > lines {
				t.Fatalf("error %q does not name the file and a line (1 to %d) of the input", err, lines)
			}
		}
		for i, e := range entries {
			if e.Action == "" {
				t.Fatalf("entry %d has no action: %+v", i, e)
			}
		}

		// A torn tail, as a crash mid-append leaves it, is skipped.
		if len(data) == 0 || data[len(data)-1] == '\n' {
			torn := append(append([]byte(nil), data...), `{"ts":"2026-12-04T15:00:01.234Z","action":"enq`...)
			entries2, err2 := fuzzScan(torn)
			if !reflect.DeepEqual(entries, entries2) || errString(err) != errString(err2) {
				t.Fatalf("a torn tail changed the result:\n%+v, %v\n%+v, %v", entries, err, entries2, err2)
			}
		}

		// What was read writes back as lines that read the same, down to
		// the millisecond (within the years the fixed layout can write).
		var out bytes.Buffer
		var want []Entry
		for _, e := range entries {
			if !writable(e.Time) || !writable(e.NextDue) {
				continue
			}
			if err := encodeLine(&out, e.wire()); err != nil {
				t.Fatalf("cannot write back %+v: %v", e, err)
			}
			e.Time = truncMS(e.Time)
			e.NextDue = truncMS(e.NextDue)
			want = append(want, e)
		}
		got, err := fuzzScan(out.Bytes())
		if err != nil {
			t.Fatalf("cannot read back what was written: %v\n%s", err, out.Bytes())
		}
		if len(got) != len(want) {
			t.Fatalf("wrote %d entries, read back %d", len(want), len(got))
		}
		for i := range got {
			if !sameEntry(got[i], want[i]) {
				t.Fatalf("entry %d changed on the way back:\n got %+v\nwant %+v", i, got[i], want[i])
			}
		}
	})
}

// errorLine sets n to N of "ledger: fuzz/ledger.jsonl:N: ...".
func errorLine(msg string, n *int) (int, error) {
	rest, ok := strings.CutPrefix(msg, "ledger: fuzz/ledger.jsonl:")
	if !ok {
		return 0, errors.New("no file name")
	}
	i := strings.IndexByte(rest, ':')
	if i <= 0 {
		return 0, errors.New("no line")
	}
	*n = 0
	for _, c := range rest[:i] {
		if c < '0' || c > '9' {
			return 0, errors.New("bad line")
		}
		*n = *n*10 + int(c-'0')
	}
	return 1, nil
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// writable reports whether TimeLayout can write t (zero is left out).
func writable(t time.Time) bool {
	y := t.UTC().Year()
	return t.IsZero() || y >= 1 && y <= 9999
}

func truncMS(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Millisecond)
}

func sameEntry(a, b Entry) bool {
	ta, tb := a.Time, b.Time
	da, db := a.NextDue, b.NextDue
	a.Time, b.Time, a.NextDue, b.NextDue = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return a == b && ta.Equal(tb) && da.Equal(db)
}
