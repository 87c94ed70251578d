// Package route decides which subscriptions receive an event, from their
// include_events, include_stages and include_status filters and their
// active flag. It reads nothing and writes nothing.
//
// A filter that is not set lets everything through, with one exception:
// anomaly events (spec-auto.anomaly.*) reach only subscriptions whose
// include_events names them, exactly or by a pattern such as
// "spec-auto.anomaly.*". Stage and status filters apply only to events that
// carry a stage or a status.
package route

import (
	"slices"
	"strings"

	"github.com/spec-kit/outbox/outbox/config"
	"github.com/spec-kit/outbox/outbox/event"
)

// Event is what routing looks at.
type Event struct {
	Type   string
	Stage  string // canonical stage, or ""
	Status string // canonical status, or ""
}

// Match returns the subscriptions that receive ev, in configuration order.
func Match(subs []config.Subscription, ev Event) []*config.Subscription {
	var out []*config.Subscription
	for i := range subs {
		if Matches(&subs[i], ev) {
			out = append(out, &subs[i])
		}
	}
	return out
}

// Matches reports whether s receives ev.
func Matches(s *config.Subscription, ev Event) bool {
	if !s.IsActive() {
		return false
	}
	if !eventIncluded(s.IncludeEvents, ev.Type) {
		return false
	}
	if ev.Stage != "" && len(s.IncludeStages) > 0 && !slices.Contains(s.IncludeStages, ev.Stage) {
		return false
	}
	if ev.Status != "" && len(s.IncludeStatus) > 0 && !slices.Contains(s.IncludeStatus, ev.Status) {
		return false
	}
	return true
}

func eventIncluded(include []string, typ string) bool {
	if len(include) == 0 {
		return !event.IsAnomaly(typ)
	}
	for _, pat := range include {
		if pat == typ {
			return true
		}
		if prefix, ok := strings.CutSuffix(pat, "*"); ok && strings.HasPrefix(typ, prefix) {
			return true
		}
	}
	return false
}
