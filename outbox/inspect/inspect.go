// Package inspect reads what outbox knows about a SPEC's deliveries, from
// the state folders and the ledger, into one record per delivery and one
// summary per subscription: what `outbox list`, `show` and `status` print,
// and what `/spec-status` and the TUI read.
//
// It only reads. It never opens a delivery file to list it (the file name
// holds the state, the schedule and the subscription); only Show reads a
// payload.
package inspect

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spec-kit/outbox/internal/uuidv7"
	"github.com/spec-kit/outbox/ledger"
	"github.com/spec-kit/outbox/outbox/spool"
)

// State of a delivery, as listed.
const (
	StatePending = "pending"
	StateSent    = "sent"
	StateDead    = "dead"
	StateEvicted = "evicted" // only in the ledger: its file was evicted to keep the spool bounded
)

// stateOf maps a spool state folder to its listed name.
var stateOf = map[spool.State]string{spool.Pending: StatePending, spool.Sent: StateSent, spool.Dead: StateDead}

// Delivery is one delivery as the files and the ledger tell it.
type Delivery struct {
	ID           string    `json:"id"`
	Spec         string    `json:"spec"`
	Subscription string    `json:"subscription"`
	Event        string    `json:"event,omitempty"`
	State        string    `json:"state"`
	File         string    `json:"file,omitempty"` // path under the webhooks directory
	CreatedAt    time.Time `json:"created_at"`
	NextAttempt  int       `json:"next_attempt,omitempty"` // pending: the number of the next attempt
	Due          time.Time `json:"due,omitzero"`           // pending: when it may be sent
	Attempts     int       `json:"attempts"`               // attempts in the ledger, replays included
	Replays      int       `json:"replays"`
	LastStatus   int       `json:"last_status,omitempty"`
	LastError    string    `json:"last_error,omitempty"`
	LastAttempt  time.Time `json:"last_attempt,omitzero"`
	Reason       string    `json:"reason,omitempty"` // why it is dead or evicted

	History []ledger.Entry `json:"-"`
}

// Spec is everything known about one SPEC.
type Spec struct {
	ID         string
	Deliveries []*Delivery // by id: creation order
	Evictions  []ledger.Entry
	Stray      []string // files in a state folder that are not deliveries
}

// Load reads a SPEC's state folders and ledger.
func Load(dir *spool.Dir) (*Spec, error) {
	s := &Spec{ID: dir.Spec}
	byID := map[string]*Delivery{}
	for _, st := range spool.States {
		names, bad, err := dir.List(st)
		if err != nil {
			return nil, err
		}
		for _, b := range bad {
			s.Stray = append(s.Stray, string(st)+"/"+b)
		}
		for _, n := range names {
			d := &Delivery{ID: n.ID, Spec: dir.Spec, Subscription: n.Subscription, State: stateOf[st],
				File: string(st) + "/" + n.String()}
			d.CreatedAt, _ = uuidv7.Time(n.ID)
			if st == spool.Pending {
				d.NextAttempt, d.Due = n.Attempt, n.Due
			}
			byID[n.ID] = d
		}
	}
	err := ledger.Scan(dir.LedgerPath(), func(e ledger.Entry) error {
		if e.Action == ledger.ActionEvicted && e.Delivery == "" {
			s.Evictions = append(s.Evictions, e)
			return nil
		}
		if e.Delivery == "" {
			return nil
		}
		d := byID[e.Delivery]
		if d == nil {
			// In the ledger only: evicted, or its file was removed by hand.
			d = &Delivery{ID: e.Delivery, Spec: dir.Spec, Subscription: e.Subscription, State: StateEvicted}
			d.CreatedAt, _ = uuidv7.Time(e.Delivery)
			byID[e.Delivery] = d
		}
		d.add(e)
		if e.Action == ledger.ActionEvicted {
			s.Evictions = append(s.Evictions, e)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, d := range byID {
		if d.State == StateEvicted && !d.evicted() {
			d.State, d.Reason = StateEvicted, firstNonEmpty(d.Reason, "file missing from every state folder")
		}
		s.Deliveries = append(s.Deliveries, d)
	}
	slices.SortFunc(s.Deliveries, func(a, b *Delivery) int { return strings.Compare(a.ID, b.ID) })
	return s, nil
}

func (d *Delivery) evicted() bool {
	for _, e := range d.History {
		if e.Action == ledger.ActionEvicted {
			return true
		}
	}
	return false
}

func (d *Delivery) add(e ledger.Entry) {
	d.History = append(d.History, e)
	if d.Event == "" {
		d.Event = e.Event
	}
	if d.Subscription == "" {
		d.Subscription = e.Subscription
	}
	switch e.Action {
	case ledger.ActionAttempt:
		d.Attempts++
		d.LastStatus, d.LastError, d.LastAttempt = e.Status, e.Error, e.Time
	case ledger.ActionReplayed:
		d.Replays++
		d.Reason = "" // why it was dead no longer holds
	case ledger.ActionDead, ledger.ActionEvicted:
		d.Reason = e.Reason
	}
}

// Find returns the delivery with id, or one whose id starts with id when
// that prefix is unique.
func (s *Spec) Find(id string) (*Delivery, error) {
	var found []*Delivery
	for _, d := range s.Deliveries {
		if d.ID == id {
			return d, nil
		}
		if strings.HasPrefix(d.ID, id) {
			found = append(found, d)
		}
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("%q matches %d deliveries: give more of the id", id, len(found))
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
