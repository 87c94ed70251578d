package send

import (
	"net/http"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func zeroRand(int64) int64 { return 0 }

func TestPolicyNextBackoff(t *testing.T) {
	p := Policy{MaxAttempts: 20, InitialBackoff: time.Second, Factor: 2, MaxBackoff: time.Minute, Rand: zeroRand}
	want := []time.Duration{1, 2, 4, 8, 16, 32, 60, 60, 60}
	for i, w := range want {
		attempt := i + 1
		class, due, reason := p.Next(attempt, t0, t0, Result{Class: Retry})
		if class != Retry || reason != "" || due.Sub(t0) != w*time.Second {
			t.Errorf("attempt %d: got %v %v %q, want retry after %v", attempt, class, due.Sub(t0), reason, w*time.Second)
		}
	}
}

func TestPolicyBackoffEdges(t *testing.T) {
	cases := []struct {
		name    string
		p       Policy
		attempt int
		want    time.Duration
	}{
		{"default cap 1h", Policy{InitialBackoff: time.Second, Factor: 2}, 30, time.Hour},
		{"overflowing factor", Policy{InitialBackoff: time.Second, Factor: 1e300, MaxBackoff: 5 * time.Minute}, 10, 5 * time.Minute},
		{"huge attempt", Policy{InitialBackoff: time.Second, Factor: 3, MaxBackoff: time.Minute}, 1 << 30, time.Minute},
		{"factor below 1 is 1", Policy{InitialBackoff: 3 * time.Second, Factor: 0}, 5, 3 * time.Second},
		{"fractional factor", Policy{InitialBackoff: 2 * time.Second, Factor: 1.5}, 3, 4500 * time.Millisecond},
		{"attempt 0 is 1", Policy{InitialBackoff: 2 * time.Second, Factor: 2}, 0, 2 * time.Second},
		{"zero initial", Policy{Factor: 2}, 4, 0},
	}
	for _, tc := range cases {
		if got := tc.p.Backoff(tc.attempt); got != tc.want {
			t.Errorf("%s: Backoff(%d) = %v, want %v", tc.name, tc.attempt, got, tc.want)
		}
	}
}

func TestPolicyNextJitter(t *testing.T) {
	const jitter = 500 * time.Millisecond
	var gotN int64
	maxRand := func(n int64) int64 { gotN = n; return n - 1 }
	p := Policy{InitialBackoff: 4 * time.Second, Factor: 2, Jitter: jitter, Rand: maxRand}
	_, due, _ := p.Next(2, t0, t0, Result{Class: Retry})
	if d := due.Sub(t0); d != 8*time.Second+jitter {
		t.Errorf("max jitter: delay %v, want %v", d, 8*time.Second+jitter)
	}
	if gotN != int64(jitter)+1 {
		t.Errorf("Rand called with n=%d, want %d (inclusive bound)", gotN, int64(jitter)+1)
	}
	p.Rand = zeroRand
	if _, due, _ := p.Next(2, t0, t0, Result{Class: Retry}); due.Sub(t0) != 8*time.Second {
		t.Errorf("zero jitter: delay %v, want 8s", due.Sub(t0))
	}

	// The default source stays within bounds and does vary.
	p.Rand = nil
	seen := map[time.Duration]bool{}
	for range 1000 {
		_, due, _ := p.Next(2, t0, t0, Result{Class: Retry})
		d := due.Sub(t0)
		if d < 8*time.Second || d > 8*time.Second+jitter {
			t.Fatalf("delay %v outside [8s, 8.5s]", d)
		}
		seen[d] = true
	}
	if len(seen) < 100 {
		t.Errorf("only %d distinct delays in 1000 draws", len(seen))
	}
}

func TestPolicyNextOutcomes(t *testing.T) {
	base := Policy{MaxAttempts: 10, InitialBackoff: 5 * time.Minute, Factor: 2, MaxBackoff: time.Hour, MaxAge: 24 * time.Hour, Rand: zeroRand}
	cases := []struct {
		name    string
		p       Policy
		attempt int
		created time.Time
		res     Result
		class   Class
		delay   time.Duration // from t0; only for Retry
		reason  string
	}{
		{name: "delivered", p: base, attempt: 10, created: t0, res: Result{Class: Delivered, Status: 200}, class: Delivered},
		{name: "dead result", p: base, attempt: 1, created: t0, res: Result{Class: Dead, Error: "410 Gone"}, class: Dead, reason: "410 Gone"},
		{name: "retry", p: base, attempt: 1, created: t0, res: Result{Class: Retry}, class: Retry, delay: 5 * time.Minute},
		{name: "retry-after overrides backoff", p: base, attempt: 3, created: t0,
			res: Result{Class: Retry, RetryAfter: 7 * time.Second}, class: Retry, delay: 7 * time.Second},
		{name: "retry-after clamped high", p: base, attempt: 1, created: t0,
			res: Result{Class: Retry, RetryAfter: 3 * time.Hour}, class: Retry, delay: time.Hour},
		{name: "retry-after clamped low", p: base, attempt: 1, created: t0,
			res: Result{Class: Retry, RetryAfter: time.Millisecond}, class: Retry, delay: time.Second},
		{name: "retry-after with jitter", p: Policy{InitialBackoff: time.Minute, Jitter: time.Second, Rand: func(n int64) int64 { return n - 1 }},
			attempt: 1, created: t0, res: Result{Class: Retry, RetryAfter: 7 * time.Second}, class: Retry, delay: 8 * time.Second},
		{name: "attempt 9 of 10", p: base, attempt: 9, created: t0, res: Result{Class: Retry}, class: Retry, delay: time.Hour},
		{name: "max attempts", p: base, attempt: 10, created: t0, res: Result{Class: Retry}, class: Dead, reason: "max attempts (10) reached"},
		{name: "past max attempts", p: base, attempt: 11, created: t0, res: Result{Class: Retry}, class: Dead, reason: "max attempts (10) reached"},
		{name: "no attempt limit", p: Policy{InitialBackoff: time.Second, Factor: 1, Rand: zeroRand}, attempt: 1000, created: t0,
			res: Result{Class: Retry}, class: Retry, delay: time.Second},
		{name: "max age: due would pass it", p: base, attempt: 1, created: t0.Add(-24*time.Hour + time.Minute),
			res: Result{Class: Retry}, class: Dead, reason: "max age (24h0m0s) exceeded"},
		{name: "max age: due just within", p: base, attempt: 1, created: t0.Add(-24*time.Hour + 5*time.Minute),
			res: Result{Class: Retry}, class: Retry, delay: 5 * time.Minute},
		{name: "max age: already old", p: base, attempt: 2, created: t0.Add(-48 * time.Hour),
			res: Result{Class: Retry}, class: Dead, reason: "max age (24h0m0s) exceeded"},
		{name: "max age: retry-after counts", p: base, attempt: 1, created: t0.Add(-23*time.Hour - 30*time.Minute),
			res: Result{Class: Retry, RetryAfter: time.Hour}, class: Dead, reason: "max age (24h0m0s) exceeded"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			class, due, reason := tc.p.Next(tc.attempt, tc.created, t0, tc.res)
			if class != tc.class || reason != tc.reason {
				t.Errorf("got %v %q, want %v %q", class, reason, tc.class, tc.reason)
			}
			if tc.class == Retry {
				if d := due.Sub(t0); d != tc.delay {
					t.Errorf("delay %v, want %v", d, tc.delay)
				}
			} else if !due.IsZero() {
				t.Errorf("due = %v, want zero for %v", due, class)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	date := func(d time.Duration) string { return t0.Add(d).Format(http.TimeFormat) }
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"7", 7 * time.Second, true},
		{" 120 ", 120 * time.Second, true},
		{"0", time.Second, true},
		{"3600", time.Hour, true},
		{"3601", time.Hour, true},
		{"99999999999999999999999999", time.Hour, true},
		{t0.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second, true},
		{date(90 * time.Second), 90 * time.Second, true},
		{t0.Add(45 * time.Second).Format(time.RFC850), 45 * time.Second, true},
		{t0.Add(20 * time.Second).Format(time.ANSIC), 20 * time.Second, true},
		{date(-time.Hour), time.Second, true},
		{date(48 * time.Hour), time.Hour, true},
		{"", 0, false},
		{"soon", 0, false},
		{"-5", 0, false},
		{"1.5", 0, false},
		{"+5", 0, false},
		{"7 seconds", 0, false},
		{"2026-01-02T03:04:35Z", 0, false},
	}
	for _, tc := range cases {
		got, ok := ParseRetryAfter(tc.in, t0)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
