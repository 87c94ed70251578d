package ledger

import "slices"

// History is what the ledger says about one delivery, folded from its lines.
type History struct {
	Delivery     string
	Spec         string
	Subscription string
	Event        string
	EventID      string
	Entries      []Entry // in ledger order
	Attempts     int     // attempt lines, replays included
	LastStatus   int     // status of the newest attempt, 0 if none
	LastError    string  // error of the newest attempt
	Outcome      string  // newest of delivered, dead, retry_scheduled, replayed, enqueued, dry_run, evicted
}

// Fold groups entries by delivery id, keeping ledger order inside each
// history. Lines without a delivery id (run summaries) are ignored. The
// result is sorted by delivery id, which for UUIDv7 ids is creation order.
func Fold(entries []Entry) []*History {
	byID := map[string]*History{}
	var order []string
	for _, e := range entries {
		if e.Delivery == "" {
			continue
		}
		h := byID[e.Delivery]
		if h == nil {
			h = &History{Delivery: e.Delivery}
			byID[e.Delivery] = h
			order = append(order, e.Delivery)
		}
		h.add(e)
	}
	slices.Sort(order)
	out := make([]*History, 0, len(order))
	for _, id := range order {
		out = append(out, byID[id])
	}
	return out
}

func (h *History) add(e Entry) {
	h.Entries = append(h.Entries, e)
	fill := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	fill(&h.Spec, e.Spec)
	fill(&h.Subscription, e.Subscription)
	fill(&h.Event, e.Event)
	fill(&h.EventID, e.EventID)
	switch e.Action {
	case ActionAttempt:
		h.Attempts++
		h.LastStatus = e.Status
		h.LastError = e.Error
	case ActionDelivered, ActionDead, ActionRetryScheduled, ActionReplayed,
		ActionEnqueued, ActionDryRun, ActionEvicted:
		h.Outcome = e.Action
	}
}
