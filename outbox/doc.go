// Package outbox turns Spec-Kit pipeline events into durable deliveries:
// it builds an event's payload, routes it to the matching subscriptions and
// writes one immutable spool file per (event, subscription), recording each
// in the SPEC's ledger.
//
// It is the logic behind `outbox emit`, and it stays off the network: an
// emit costs a few file writes and fsyncs, so a guardrail hook can call it
// on every stage. Sub-packages own the parts: config (config.toml), event
// (vocabulary and payload), route (subscription filters), spool (the files)
// and telemetry (reading Spec-Kit evidence).
package outbox
