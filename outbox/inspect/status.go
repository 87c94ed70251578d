package inspect

import (
	"fmt"
	"slices"
	"time"

	"github.com/spec-kit/outbox/ledger"
	"github.com/spec-kit/outbox/outbox/config"
)

// failingAfter is how many failed attempts in a row make a subscription
// "failing repeatedly".
const failingAfter = 3

// Filter selects deliveries for `outbox list`.
type Filter struct {
	State        string    // pending, sent, dead, evicted; "" for all
	Subscription string    // "" for all
	Since        time.Time // created at or after; zero for all
}

// Match reports whether d passes the filter.
func (f Filter) Match(d *Delivery) bool {
	return (f.State == "" || d.State == f.State) &&
		(f.Subscription == "" || d.Subscription == f.Subscription) &&
		(f.Since.IsZero() || !d.CreatedAt.Before(f.Since))
}

// SubStatus is the state of one (SPEC, subscription).
type SubStatus struct {
	Spec                string    `json:"spec"`
	Subscription        string    `json:"subscription"`
	Pending             int       `json:"pending"`
	Due                 int       `json:"due"` // pending and due now
	Sent                int       `json:"sent"`
	Dead                int       `json:"dead"`
	Evicted             int       `json:"evicted"`
	OldestPending       time.Time `json:"oldest_pending,omitzero"`
	OldestPendingAgeS   int64     `json:"oldest_pending_age_s,omitempty"`
	LastSuccess         time.Time `json:"last_success,omitzero"`
	ConsecutiveFailures int       `json:"consecutive_failures"`
	LastError           string    `json:"last_error,omitempty"`
	Warnings            []string  `json:"warnings"`
}

// Status summarises a SPEC per subscription, with warnings: dead letters,
// a replay that failed again, a subscription failing repeatedly, an unset
// secret, a subscription no longer configured, evictions.
func Status(s *Spec, cfg *config.Config, getenv func(string) string, now time.Time) []*SubStatus {
	by := map[string]*SubStatus{}
	get := func(sub string) *SubStatus {
		st := by[sub]
		if st == nil {
			st = &SubStatus{Spec: s.ID, Subscription: sub, Warnings: []string{}}
			by[sub] = st
		}
		return st
	}
	for _, sub := range cfg.Webhooks.Subscriptions {
		if sub.IsActive() {
			get(sub.ID)
		}
	}
	type attempt struct {
		at time.Time
		ok bool
		e  string
	}
	attempts := map[string][]attempt{}
	replayFailed := map[string]int{}
	for _, d := range s.Deliveries {
		st := get(d.Subscription)
		switch d.State {
		case StatePending:
			st.Pending++
			if !d.Due.After(now) {
				st.Due++
			}
			if st.OldestPending.IsZero() || d.CreatedAt.Before(st.OldestPending) {
				st.OldestPending = d.CreatedAt
			}
		case StateSent:
			st.Sent++
		case StateDead:
			st.Dead++
			if d.Replays > 0 {
				replayFailed[d.Subscription]++
			}
		case StateEvicted:
			st.Evicted++
		}
		for _, e := range d.History {
			switch e.Action {
			case ledger.ActionAttempt:
				attempts[d.Subscription] = append(attempts[d.Subscription], attempt{e.Time, e.Status >= 200 && e.Status < 300, e.Error})
			case ledger.ActionDelivered:
				if e.Time.After(st.LastSuccess) {
					st.LastSuccess = e.Time
				}
			}
		}
	}
	var out []*SubStatus
	for sub, st := range by {
		as := attempts[sub]
		slices.SortStableFunc(as, func(a, b attempt) int { return a.at.Compare(b.at) })
		for i := len(as) - 1; i >= 0 && !as[i].ok; i-- {
			st.ConsecutiveFailures++
			if st.LastError == "" {
				st.LastError = as[i].e
			}
		}
		if !st.OldestPending.IsZero() {
			st.OldestPendingAgeS = int64(now.Sub(st.OldestPending).Seconds())
		}
		st.Warnings = append(st.Warnings, warnings(st, cfg, getenv, replayFailed[sub])...)
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b *SubStatus) int {
		if a.Subscription < b.Subscription {
			return -1
		}
		if a.Subscription > b.Subscription {
			return 1
		}
		return 0
	})
	return out
}

func warnings(st *SubStatus, cfg *config.Config, getenv func(string) string, replayFailed int) []string {
	var w []string
	if st.Dead > 0 {
		w = append(w, fmt.Sprintf("%d dead letter(s): outbox list --failed --spec %s", st.Dead, st.Spec))
	}
	if replayFailed > 0 {
		w = append(w, fmt.Sprintf("%d replayed delivery(ies) failed again", replayFailed))
	}
	if st.ConsecutiveFailures >= failingAfter {
		msg := fmt.Sprintf("failing repeatedly: the last %d attempts failed", st.ConsecutiveFailures)
		if st.LastError != "" {
			msg += " (" + st.LastError + ")"
		}
		w = append(w, msg)
	}
	if st.Evicted > 0 {
		w = append(w, fmt.Sprintf("%d delivery file(s) evicted to keep the spool under its size cap", st.Evicted))
	}
	sub, ok := cfg.Subscription(st.Subscription)
	switch {
	case !ok:
		w = append(w, "subscription is not in the configuration: its pending deliveries will be dead-lettered")
	case getenv(sub.SecretEnv) == "":
		w = append(w, fmt.Sprintf("secret environment variable %s is not set: deliveries cannot be signed", sub.SecretEnv))
	}
	return w
}

// ParseTime reads a --since or --until value: an RFC 3339 time, a date
// (2026-12-04, UTC midnight), or a duration meaning that long before now
// (24h, 90m).
func ParseTime(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q: want an RFC 3339 time (2026-12-04T10:00:00Z), a date (2026-12-04) or a duration ago (24h)", s)
}
