// Package ledger owns ledger.jsonl, the append-only log of everything outbox
// does to a SPEC's deliveries: one compact JSON object per line, keys in a
// fixed order, UTC timestamps, committed to git beside the evidence.
//
// Appends from any number of processes never tear or interleave: each append
// takes an exclusive flock on the ledger file, writes all its lines with one
// write(2) on an O_APPEND descriptor and fsyncs before releasing the lock.
// The ledger never holds a secret, a request body or a full URL; callers pass
// a subscription id and at most a host. It never rewrites or deletes a line.
package ledger

import (
	"errors"
	"time"
)

// Actions recorded in the ledger.
const (
	ActionEnqueued       = "enqueued"
	ActionAttempt        = "attempt"
	ActionDelivered      = "delivered"
	ActionRetryScheduled = "retry_scheduled"
	ActionDead           = "dead"
	ActionReplayed       = "replayed"
	ActionDryRun         = "dry_run"
	ActionEvicted        = "evicted"
	ActionDuplicate      = "duplicate"
)

// Sentinel errors.
var (
	ErrMalformedLine = errors.New("malformed ledger line")
	ErrUnsafeField   = errors.New("ledger field holds a URL")
)

// TimeLayout is the fixed-width UTC layout of every ledger timestamp.
const TimeLayout = "2006-01-02T15:04:05.000Z"

// Entry is one ledger line. Zero-valued fields are left out of the line.
type Entry struct {
	Time         time.Time // when it happened; Append fills in now when zero
	Action       string    // one of the Action constants
	Spec         string    // SPEC id
	Delivery     string    // delivery id (UUIDv7)
	EventID      string    // event id shared by the deliveries of one event
	Event        string    // event type
	Subscription string    // subscription id
	Key          string    // idempotency key (enqueued lines)
	Attempt      int       // attempt number, from 1
	Status       int       // HTTP status code
	DurationMS   int64     // request duration
	Host         string    // endpoint host, never the full URL
	NextDue      time.Time // next attempt (retry_scheduled, replayed)
	Error        string    // why an attempt failed
	Reason       string    // why a delivery moved (dead, evicted, duplicate)
	Response     string    // short sanitised prefix of the response body
	Bytes        int64     // bytes freed (evicted)
}

// line is the wire form of an Entry; its field order is the line's key order.
type line struct {
	TS           string `json:"ts"`
	Action       string `json:"action"`
	Spec         string `json:"spec,omitempty"`
	Delivery     string `json:"delivery,omitempty"`
	EventID      string `json:"event_id,omitempty"`
	Event        string `json:"event,omitempty"`
	Subscription string `json:"sub,omitempty"`
	Key          string `json:"key,omitempty"`
	Attempt      int    `json:"attempt,omitempty"`
	Status       int    `json:"status,omitempty"`
	DurationMS   int64  `json:"duration_ms,omitempty"`
	Host         string `json:"host,omitempty"`
	NextDue      string `json:"next_due,omitempty"`
	Error        string `json:"error,omitempty"`
	Reason       string `json:"reason,omitempty"`
	Response     string `json:"response,omitempty"`
	Bytes        int64  `json:"bytes,omitempty"`
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(TimeLayout)
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

func (e Entry) wire() line {
	return line{
		TS: formatTime(e.Time), Action: e.Action, Spec: e.Spec, Delivery: e.Delivery,
		EventID: e.EventID, Event: e.Event, Subscription: e.Subscription, Key: e.Key,
		Attempt: e.Attempt, Status: e.Status, DurationMS: e.DurationMS, Host: e.Host,
		NextDue: formatTime(e.NextDue), Error: e.Error, Reason: e.Reason,
		Response: e.Response, Bytes: e.Bytes,
	}
}

func (l line) entry() (Entry, error) {
	ts, err := parseTime(l.TS)
	if err != nil {
		return Entry{}, err
	}
	due, err := parseTime(l.NextDue)
	if err != nil {
		return Entry{}, err
	}
	return Entry{
		Time: ts, Action: l.Action, Spec: l.Spec, Delivery: l.Delivery,
		EventID: l.EventID, Event: l.Event, Subscription: l.Subscription, Key: l.Key,
		Attempt: l.Attempt, Status: l.Status, DurationMS: l.DurationMS, Host: l.Host,
		NextDue: due, Error: l.Error, Reason: l.Reason, Response: l.Response, Bytes: l.Bytes,
	}, nil
}
