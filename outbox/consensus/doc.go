// Package consensus reads Spec-Kit consensus evidence: the synthesis file a
// multi-agent stage run writes, the telemetry v2 JSONL that records the run's
// consensus block, and the arbiter file that settles a conflict. `outbox
// emit` uses it to report a stage's consensus (status, agreements, conflicts,
// agents) and to raise spec-auto.anomaly.consensus_conflict with the
// arbiter's decision as mitigation.
//
// It never writes files, never touches the network, and does no work at
// package initialisation.
//
// # Formats
//
// [Parse] decides by content, not by file name:
//
//   - A JSON object whose schemaVersion is 2 (2, 2.0, "2", "2.0"), or that has
//     a "consensus" object together with "command", is telemetry v2
//     ([FormatTelemetryV2]). Its "consensus" object is required.
//   - Text that is not one JSON object but several non-blank lines, the first
//     or last of which is a JSON object by itself, is telemetry v2 JSONL. The
//     last line that parses and has a "consensus" object wins; lines before or
//     after it that are malformed are ignored. When no line is good, the error
//     of the first bad line is returned.
//   - Any other JSON object with one of the keys status, agreements,
//     conflicts, conflicts_resolved, disagreement_points,
//     disagreement_detected, notes, telemetry, consensus or agents (stage
//     alone is not enough: arbiter files have it too) is a synthesis
//     ([FormatSynthesis]). Two shapes exist: flat {stage, status,
//     agreements, conflicts, notes} and nested {stage, status, telemetry,
//     consensus:{agreements, conflicts, conflicts_resolved}}; some
//     syntheses also carry specId, timestamp and agents [{agent, path}].
//
// # Fields
//
// The keys of a consensus block (status, agreements, conflicts,
// conflicts_resolved, disagreement_points, disagreement_detected, agents,
// escalation_triggered, escalation_reason, notes) are looked up first in the
// "consensus" object, then at the top level, and agreements and conflicts
// last in telemetry v2's "consensusSummary"; the first non-null one wins.
// ReportedStatus falls back on telemetry v2's "consensusStatus".
// consensusSummary's lists and consensusStatus are ignored when malformed.
//
// Stage comes from "stage", else "command", through event.NormalizeStage
// ("spec-plan" is "Plan"); an unknown stage is "". specId, sessionId and
// timestamp are read in both formats. telemetry is kept as written (often a
// repository-relative path; telemetry v2 holds absolute ones elsewhere).
//
// Entries of agreements, conflicts, disagreement_points, notes and arbiter
// followups may be strings or objects; an object stands for the first of its
// "summary", "point", "issue", "description" and "topic" that is a non-blank
// string, else for itself as compact JSON. Text is trimmed; null and blank
// entries are left out. Conflicts holds the conflicts entries followed by
// those disagreement_points entries that are not already among them
// (telemetry v2 usually lists the same points in both).
//
// Null is accepted wherever a value is (a null list is empty, a null string
// is "", a null boolean is false). Unknown keys are ignored. A known key with
// a value of the wrong type is an error that names it.
//
// # Status
//
// [Consensus.ConflictCount] is len(Conflicts), or 1 when that is 0 but
// disagreement_detected is true or the file reports status "conflict".
// [Consensus.Status] is "conflict" when ConflictCount is above 0, else
// "degraded" when the file reports "degraded" or an agent's status is set
// and is neither "ok" nor "success", else "ok". The status a file reports is
// not trusted on its own: real syntheses say "ok" next to unresolved
// conflicts.
//
// # Errors
//
// Errors are one line and wrap [ErrFormat]. They name the line of a JSON
// syntax error ("line 3, column 7: invalid character ..."), the line of a
// JSONL file ("line 3: ..."), or the field, with its path
// ("consensus.agents[1].status: want a string, got a number", "agreements:
// want a list of strings, got a string"). Empty input, a top level that is
// not an object, and an object with none of the known keys are errors. The
// caller adds the file name.
//
// # Arbiter files
//
// [ParseArbiter] reads {stage, arbiter, resolution:{status, decision,
// updates:{followups}}}; a missing decision is an error wrapping
// [ErrNoDecision]. [FindArbiter] finds the newest arbiter file of a stage
// beside a consensus file (spec-plan-arbiter_030.json,
// spec-plan_2026-11-20T10:05:12Z_arbiter.json).
package consensus
