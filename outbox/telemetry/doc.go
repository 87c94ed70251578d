// Package telemetry reads Spec-Kit guardrail telemetry files and decides, from
// what they say, the spec, stage and status of the event that
// `outbox emit --telemetry FILE` enqueues.
//
// It owns the reading of guardrail telemetry v1 (the JSON a /spec-ops-<stage>
// guardrail writes as docs/SPEC-OPS-004-integrated-coder-hooks/evidence/
// commands/<SPEC-ID>/spec-<stage>_<sessionId>.json), the inference of an event
// status from the checks recorded in it, and the mapping of the artifact paths
// it lists to repository-relative paths.
//
// It never writes files, never touches the network and never fails an emit:
// malformed telemetry yields an error value that the caller puts into the
// payload, and the event still goes out with whatever could be read.
//
// # Partial results
//
// [ParseGuardrail] and [ReadGuardrail] return a nil *Guardrail only when
// nothing could be read: the file is missing, unreadable or larger than 4 MiB,
// the bytes are not JSON, or the JSON is not an object. When the JSON parses but part of it is
// off (schemaVersion is not 1, the command names no known stage, specId is
// missing, a field has the wrong type), they return the partially filled
// *Guardrail together with the error, so the caller can still use what is
// known. Errors are one line, name the file (ReadGuardrail) and the line and
// column of a JSON error, and wrap one or more of the sentinels
// ([ErrMalformed], [ErrNotGuardrail], [ErrUnknownCommand], [ErrMissingSpecID]);
// test them with errors.Is. A missing or unreadable file's error wraps the os
// error instead (errors.Is(err, fs.ErrNotExist)).
//
// # Status inference
//
// Every check present in the file is read, its status compared in lower case
// with surrounding space removed:
//
//	check name          from
//	-----------------   --------------------------------
//	lock_status         lock_status
//	hook_status         hook_status
//	hook:<name>         hooks.<name> (sorted by name)
//	tool                tool.status
//	baseline            baseline.status
//	policy.prefilter    policy.prefilter.status
//	policy.final        policy.final.status
//	scenario:<name>     scenarios[i].status (file order)
//	hal.summary         hal.summary.status
//	unlock_status       unlock_status
//
// The status of the event is then:
//
//	failure  any check is failed, fail, failure, error, errored, rejected
//	         or denied
//	halt     no check failed, and any is halt, halted, blocked, aborted,
//	         cancelled, canceled or timeout
//	success  otherwise: passed, ok, skipped, ready, locked, unlocked, no-run
//	         and any word not listed above are non-failing
//
// A check whose block is absent, or whose status is empty or null, is not
// looked at and does not appear in [Guardrail.Checks]. Every check that was
// looked at appears there, in the order of the table, with its status exactly
// as written in the file.
package telemetry
