// Package event holds the vocabulary of outbox events (types, pipeline stages,
// statuses) and the versioned JSON payload that is sent to subscribers.
//
// It owns the exact bytes of a payload: once built, a body is never rebuilt or
// re-encoded, so every retry and replay sends identical bytes. It never reads
// files, touches the network or knows about subscriptions.
package event

import (
	"slices"
	"strings"
)

// Event types.
const (
	TypeStageCompleted    = "spec-auto.stage.completed"
	TypePipelineCompleted = "spec-auto.pipeline.completed"
	TypeTaskCompleted     = "spec-kit.task.completed"
	TypeConsensusConflict = "spec-auto.anomaly.consensus_conflict"
	TypePing              = "spec-kit.ping"

	// AnomalyPrefix starts every anomaly event type. Anomalies reach only the
	// subscriptions that name them.
	AnomalyPrefix = "spec-auto.anomaly."
)

// Types lists every known event type, in documentation order.
var Types = []string{
	TypeStageCompleted,
	TypePipelineCompleted,
	TypeTaskCompleted,
	TypeConsensusConflict,
	TypePing,
}

// Stages of a /spec-auto pipeline, in pipeline order, spelled as in config.toml.
var Stages = []string{"Plan", "Tasks", "Implement", "Validate", "Audit", "Unlock"}

// Statuses an event can carry.
const (
	StatusSuccess = "success"
	StatusFailure = "failure"
	StatusHalt    = "halt"
)

// Statuses lists every known status.
var Statuses = []string{StatusSuccess, StatusFailure, StatusHalt}

// IsKnownType reports whether t is a known event type.
func IsKnownType(t string) bool { return slices.Contains(Types, t) }

// IsAnomaly reports whether t is an anomaly event type.
func IsAnomaly(t string) bool { return strings.HasPrefix(t, AnomalyPrefix) }

// NormalizeStage maps "plan", "spec-plan", "spec-ops-plan" or "PLAN" to the
// canonical stage name "Plan". ok is false for an unknown stage.
func NormalizeStage(s string) (stage string, ok bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimPrefix(s, "spec-ops-")
	s = strings.TrimPrefix(s, "spec-")
	for _, st := range Stages {
		if strings.ToLower(st) == s {
			return st, true
		}
	}
	return "", false
}

// NormalizeStatus maps a status spelled in any case to its canonical form.
// ok is false for an unknown status.
func NormalizeStatus(s string) (status string, ok bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if slices.Contains(Statuses, s) {
		return s, true
	}
	return "", false
}
