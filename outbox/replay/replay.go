// Package replay moves delivered or dead-lettered deliveries back into the
// spool, due now, with the same delivery id and the identical body: a
// replay is a file rename and a ledger line, nothing more. Sending is left
// to the delivery runner.
//
// It never changes a delivery file's content, never replays a delivery
// whose file was evicted (there is no payload left to send), and replays a
// delivered one only when asked to.
package replay

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spec-kit/outbox/ledger"
	"github.com/spec-kit/outbox/outbox/inspect"
	"github.com/spec-kit/outbox/outbox/spool"
)

// Sentinel errors.
var (
	ErrNotReplayable = errors.New("cannot be replayed")
	ErrSent          = errors.New("was delivered: replay it with --force")
)

// Replayed is one delivery moved back into the spool.
type Replayed struct {
	ID           string `json:"id"`
	Spec         string `json:"spec"`
	Subscription string `json:"subscription"`
	From         string `json:"from"` // sent or dead
}

// Replay moves each of ds (deliveries of dir's SPEC) back into spool/, due
// at now with a fresh attempt budget, after recording a "replayed" ledger
// line for it. force allows replaying delivered ones.
func Replay(dir *spool.Dir, ds []*inspect.Delivery, now time.Time, force bool) ([]Replayed, error) {
	unlock, err := dir.Lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	var out []Replayed
	for _, d := range ds {
		var from spool.State
		switch d.State {
		case inspect.StateDead:
			from = spool.Dead
		case inspect.StateSent:
			if !force {
				return out, fmt.Errorf("delivery %s %w", d.ID, ErrSent)
			}
			from = spool.Sent
		default:
			return out, fmt.Errorf("delivery %s is %s: %w", d.ID, d.State, ErrNotReplayable)
		}
		old, err := spool.ParseName(strings.TrimPrefix(d.File, string(from)+"/"))
		if err != nil {
			return out, err
		}
		next := spool.Name{Due: now, Attempt: 1, ID: old.ID, Subscription: old.Subscription}
		err = ledger.Append(dir.LedgerPath(), ledger.Entry{
			Time: now, Action: ledger.ActionReplayed, Delivery: d.ID, Subscription: d.Subscription,
			NextDue: now, Reason: "from " + string(from) + "/",
		})
		if err != nil {
			return out, err
		}
		if err := os.Rename(dir.Path(from, old), dir.Path(spool.Pending, next)); err != nil {
			return out, fmt.Errorf("replay %s: %w", d.ID, errors.Unwrap(err))
		}
		if err := errors.Join(dir.SyncState(from), dir.SyncState(spool.Pending)); err != nil {
			return out, err
		}
		out = append(out, Replayed{ID: d.ID, Spec: dir.Spec, Subscription: d.Subscription, From: string(from)})
	}
	return out, nil
}
