package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"time"

	"github.com/spec-kit/outbox/deliver"
	"github.com/spec-kit/outbox/outbox"
	"github.com/spec-kit/outbox/outbox/inspect"
	"github.com/spec-kit/outbox/outbox/replay"
)

// ReplayCmd is `outbox replay` (the spec's /spec-notify --replay).
type ReplayCmd struct {
	IDs          []string      `arg:"" optional:"" name:"id" help:"Delivery ids (or unique prefixes) to replay."`
	Spec         []string      `placeholder:"SPEC-ID" help:"Only this SPEC (repeatable). Default: every SPEC."`
	Failed       bool          `help:"Replay every dead letter that the other filters select (bulk)."`
	Subscription string        `placeholder:"ID" help:"Bulk: only this subscription."`
	Since        string        `placeholder:"TIME" help:"Bulk: only deliveries created since TIME (RFC 3339, a date, or a duration ago)."`
	Until        string        `placeholder:"TIME" help:"Bulk: only deliveries created before TIME."`
	Force        bool          `help:"Also replay deliveries that were delivered (in sent/)."`
	NoDeliver    bool          `help:"Only move them back into the spool; the next deliver run sends them."`
	Linger       time.Duration `default:"3s" help:"While delivering, keep going while a retry is due within this window."`
	commitFlag
}

// Help is shown by `outbox replay --help`.
func (c *ReplayCmd) Help() string {
	return `Moves dead letters (or, with --force, delivered ones) back into the spool,
due now, with the same delivery id and the identical body; the ledger gets a
"replayed" line. Then it delivers them at once, unless --no-deliver. It exits
1 when a replayed delivery was not delivered.

Examples:
  outbox replay 01a241e4-7562-70d9-9abb-e701634fe07d
  outbox replay --spec SPEC-KIT-065 --failed --subscription chatops --since 24h`
}

type replayJSON struct {
	Replayed []replay.Replayed `json:"replayed"`
	Deliver  *deliver.Summary  `json:"deliver,omitempty"`
	Pending  []string          `json:"not_delivered"`
}

// Run replays.
func (c *ReplayCmd) Run(env *Env) error {
	if len(c.IDs) == 0 && !c.Failed {
		return withCode(exitUsage, errors.New("name delivery ids, or select dead letters with --failed (and --spec, --subscription, --since, --until)"))
	}
	if len(c.IDs) > 0 && (c.Failed || c.Subscription != "" || c.Since != "" || c.Until != "") {
		return withCode(exitUsage, errors.New("give delivery ids or bulk filters, not both"))
	}
	ws, err := env.workspace()
	if err != nil {
		return err
	}
	since, err := timeFlag("since", c.Since)
	if err != nil {
		return err
	}
	until, err := timeFlag("until", c.Until)
	if err != nil {
		return err
	}
	specs, dirs, err := loadSpecs(ws, c.Spec)
	if err != nil {
		return err
	}
	picked, err := c.pick(specs, since, until)
	if err != nil {
		return err
	}
	out := replayJSON{Replayed: []replay.Replayed{}, Pending: []string{}}
	now := time.Now()
	ids := map[string]bool{}
	var touched []string
	for _, spec := range sortedKeys(picked) {
		done, err := replay.Replay(dirs[spec], picked[spec], now, c.Force)
		out.Replayed = append(out.Replayed, done...)
		for _, r := range done {
			ids[r.ID] = true
		}
		if len(done) > 0 {
			touched = append(touched, spec)
		}
		if errors.Is(err, replay.ErrSent) || errors.Is(err, replay.ErrNotReplayable) {
			return withCode(exitUsage, err)
		}
		if err != nil {
			return withCode(exitRuntime, err)
		}
	}
	if !env.JSON {
		for _, r := range out.Replayed {
			fmt.Fprintf(env.Stdout, "replayed %s %s (from %s/)\n", r.ID, r.Subscription, r.From)
		}
	}
	if len(out.Replayed) == 0 {
		fmt.Fprintln(env.Stderr, "outbox: nothing to replay")
	} else if !c.NoDeliver {
		sum, err := c.deliver(env, ws, touched, ids)
		if err != nil {
			return err
		}
		out.Deliver = &sum
		for _, spec := range touched {
			s, err := inspect.Load(dirs[spec])
			if err != nil {
				return withCode(exitRuntime, err)
			}
			for _, d := range s.Deliveries {
				if ids[d.ID] && d.State != inspect.StateSent {
					out.Pending = append(out.Pending, d.ID)
				}
			}
		}
	}
	if env.JSON {
		if err := printJSON(env.Stdout, out); err != nil {
			return err
		}
	} else if out.Deliver != nil {
		fmt.Fprintf(env.Stdout, "delivered %d, retrying %d, dead %d\n", out.Deliver.Delivered, out.Deliver.Retrying, out.Deliver.Dead)
	}
	summary := fmt.Sprintf("replayed %d", len(out.Replayed))
	if out.Deliver != nil {
		summary += ", " + deliverSummary(*out.Deliver)
	}
	if err := c.commit(env, ws, touched, summary); err != nil {
		return err
	}
	if len(out.Pending) > 0 {
		return withCode(exitFailed, fmt.Errorf("%d replayed delivery(ies) not delivered: see outbox status", len(out.Pending)))
	}
	return nil
}

// pick selects the deliveries to replay, per SPEC.
func (c *ReplayCmd) pick(specs []*inspect.Spec, since, until time.Time) (map[string][]*inspect.Delivery, error) {
	picked := map[string][]*inspect.Delivery{}
	if len(c.IDs) > 0 {
		for _, id := range c.IDs {
			var found *inspect.Delivery
			for _, s := range specs {
				d, err := s.Find(id)
				if err != nil {
					return nil, withCode(exitUsage, err)
				}
				if d != nil {
					found = d
				}
			}
			if found == nil {
				return nil, withCode(exitFailed, fmt.Errorf("no delivery %q", id))
			}
			picked[found.Spec] = append(picked[found.Spec], found)
		}
		return picked, nil
	}
	f := inspect.Filter{State: inspect.StateDead, Subscription: c.Subscription, Since: since}
	for _, s := range specs {
		for _, d := range s.Deliveries {
			if f.Match(d) && (until.IsZero() || d.CreatedAt.Before(until)) {
				picked[s.ID] = append(picked[s.ID], d)
			}
		}
	}
	return picked, nil
}

// deliver sends the replayed deliveries now, and only them.
func (c *ReplayCmd) deliver(env *Env, ws *outbox.Workspace, specs []string, ids map[string]bool) (deliver.Summary, error) {
	r, closeIdle := newRunner(ws, 0)
	defer closeIdle()
	r.Linger, r.Only = c.Linger, ids
	var done func()
	r.Progress, done = progress(env.Stderr, "replay")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sum, err := r.Run(ctx, specs)
	done()
	if err != nil {
		return sum, withCode(exitRuntime, err)
	}
	for _, b := range sum.Busy {
		fmt.Fprintf(env.Stderr, "outbox: %s: another deliver run is working on it; it will send the replayed deliveries\n", b)
	}
	return sum, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
