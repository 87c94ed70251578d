package route

import (
	"fmt"
	"testing"

	"github.com/spec-kit/outbox/outbox/config"
	"github.com/spec-kit/outbox/outbox/event"
)

func sub(id string, mod func(*config.Subscription)) config.Subscription {
	s := config.Subscription{ID: id}
	if mod != nil {
		mod(&s)
	}
	return s
}

func TestMatches(t *testing.T) {
	f := false
	stage := Event{Type: event.TypeStageCompleted, Stage: "Plan", Status: event.StatusSuccess}
	anomaly := Event{Type: event.TypeConsensusConflict, Stage: "Plan"}
	task := Event{Type: event.TypeTaskCompleted}
	tests := []struct {
		name string
		sub  config.Subscription
		ev   Event
		want bool
	}{
		{"no filters get stage events", sub("a", nil), stage, true},
		{"no filters get task events", sub("a", nil), task, true},
		{"no filters never get anomalies", sub("a", nil), anomaly, false},
		{"inactive gets nothing", sub("a", func(s *config.Subscription) { s.Active = &f }), stage, false},
		{"named anomaly", sub("a", func(s *config.Subscription) {
			s.IncludeEvents = []string{event.TypeConsensusConflict}
		}), anomaly, true},
		{"anomaly pattern", sub("a", func(s *config.Subscription) {
			s.IncludeEvents = []string{"spec-auto.anomaly.*"}
		}), anomaly, true},
		{"broader pattern names the prefix", sub("a", func(s *config.Subscription) {
			s.IncludeEvents = []string{"spec-auto.*"}
		}), anomaly, true},
		{"pattern of another family", sub("a", func(s *config.Subscription) {
			s.IncludeEvents = []string{"spec-kit.*"}
		}), anomaly, false},
		{"event not included", sub("a", func(s *config.Subscription) {
			s.IncludeEvents = []string{event.TypePipelineCompleted}
		}), stage, false},
		{"stage filtered out", sub("a", func(s *config.Subscription) {
			s.IncludeStages = []string{"Validate"}
		}), stage, false},
		{"stage included", sub("a", func(s *config.Subscription) {
			s.IncludeStages = []string{"Validate", "Plan"}
		}), stage, true},
		{"stage filter ignores events without a stage", sub("a", func(s *config.Subscription) {
			s.IncludeStages = []string{"Validate"}
		}), task, true},
		{"status filtered out", sub("a", func(s *config.Subscription) {
			s.IncludeStatus = []string{event.StatusFailure}
		}), stage, false},
		{"status included", sub("a", func(s *config.Subscription) {
			s.IncludeStatus = []string{event.StatusFailure, event.StatusSuccess}
		}), stage, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Matches(&tt.sub, tt.ev); got != tt.want {
				t.Fatalf("Matches = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMatchManySubscriptionsInOrder(t *testing.T) {
	var subs []config.Subscription
	for i := 0; i < 25; i++ {
		subs = append(subs, sub(fmt.Sprintf("s%02d", i), func(s *config.Subscription) {
			if i%5 == 4 {
				s.IncludeStatus = []string{event.StatusFailure} // every fifth one wants failures only
			}
		}))
	}
	got := Match(subs, Event{Type: event.TypeStageCompleted, Stage: "Audit", Status: event.StatusSuccess})
	if len(got) != 20 {
		t.Fatalf("matched %d subscriptions, want 20", len(got))
	}
	for i := 1; i < len(got); i++ {
		if got[i-1].ID >= got[i].ID {
			t.Fatalf("not in configuration order: %s then %s", got[i-1].ID, got[i].ID)
		}
	}
}
