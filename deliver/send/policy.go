package send

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	// MinRetryAfter and MaxRetryAfter bound a server's Retry-After.
	MinRetryAfter = time.Second
	MaxRetryAfter = time.Hour

	// DefaultMaxBackoff caps one delay when Policy.MaxBackoff is zero.
	DefaultMaxBackoff = time.Hour
)

// Policy is a subscription's retry policy.
type Policy struct {
	MaxAttempts    int           // attempts in all, the first included; 0 = no limit
	InitialBackoff time.Duration // delay after the first attempt
	Factor         float64       // growth per attempt; below 1 is taken as 1
	Jitter         time.Duration // a uniform random [0, Jitter] is added to each delay
	MaxBackoff     time.Duration // cap of one delay before jitter; DefaultMaxBackoff when zero
	MaxAge         time.Duration // a delivery older than this is dead rather than retried; 0 = no limit

	// Rand returns a uniform random int64 in [0, n), n > 0. Nil means
	// math/rand/v2's Int64N; tests inject a deterministic source.
	Rand func(n int64) int64
}

// Next decides what happens after attempt number attempt (1-based) of a
// delivery created at created, given that attempt's Result, at now.
//
// Delivered stays Delivered and Dead stays Dead (reason: res.Error); a due
// time is returned only for Retry. A Retry (any other class is treated as
// Retry) becomes Dead with the reason "max attempts (N) reached" when
// attempt >= MaxAttempts, or "max age (D) exceeded" when the next due time
// would pass created+MaxAge. Otherwise the next attempt is due at now plus
// res.RetryAfter when set (clamped to [1s, 1h]), else plus
// InitialBackoff*Factor^(attempt-1) capped at MaxBackoff, plus in both cases
// a uniform random jitter in [0, Jitter].
func (p Policy) Next(attempt int, created, now time.Time, res Result) (class Class, due time.Time, reason string) {
	switch res.Class {
	case Delivered:
		return Delivered, time.Time{}, ""
	case Dead:
		return Dead, time.Time{}, res.Error
	}
	attempt = max(attempt, 1)
	if p.MaxAttempts > 0 && attempt >= p.MaxAttempts {
		return Dead, time.Time{}, fmt.Sprintf("max attempts (%d) reached", p.MaxAttempts)
	}
	delay := p.Backoff(attempt)
	if res.RetryAfter > 0 {
		delay = clampRetryAfter(res.RetryAfter)
	}
	due = now.Add(delay + p.jitter())
	if p.MaxAge > 0 && due.After(created.Add(p.MaxAge)) {
		return Dead, time.Time{}, fmt.Sprintf("max age (%s) exceeded", p.MaxAge)
	}
	return Retry, due, ""
}

// Backoff returns the delay after attempt number attempt (1-based) without
// jitter: InitialBackoff*Factor^(attempt-1), capped at MaxBackoff.
func (p Policy) Backoff(attempt int) time.Duration {
	ceiling := p.MaxBackoff
	if ceiling <= 0 {
		ceiling = DefaultMaxBackoff
	}
	factor := p.Factor
	if !(factor >= 1) { // NaN too
		factor = 1
	}
	d := float64(max(p.InitialBackoff, 0)) * math.Pow(factor, float64(max(attempt, 1)-1))
	if math.IsNaN(d) || d >= float64(ceiling) {
		return ceiling
	}
	return time.Duration(d)
}

// jitter returns a uniform random duration in [0, Jitter].
func (p Policy) jitter() time.Duration {
	if p.Jitter <= 0 {
		return 0
	}
	n := int64(p.Jitter)
	if n < math.MaxInt64 {
		n++ // inclusive upper bound
	}
	rnd := p.Rand
	if rnd == nil {
		rnd = rand.Int64N
	}
	return time.Duration(min(max(rnd(n), 0), n-1))
}

// ParseRetryAfter parses a Retry-After header value, delta-seconds or an
// HTTP-date taken relative to now, clamped to [MinRetryAfter,
// MaxRetryAfter] (a date in the past gives MinRetryAfter). ok is false when
// v is neither.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if isDigits(v) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n > int64(MaxRetryAfter/time.Second) { // only overflow fails
			return MaxRetryAfter, true
		}
		return clampRetryAfter(time.Duration(n) * time.Second), true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return clampRetryAfter(t.Sub(now)), true
}

func clampRetryAfter(d time.Duration) time.Duration {
	return min(max(d, MinRetryAfter), MaxRetryAfter)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
