package consensus

import "errors"

// Sentinel errors; test them with errors.Is. Every error of Parse and
// ParseArbiter wraps ErrFormat. FindArbiter's errors wrap ErrUnknownStage or
// the error of reading the directory.
var (
	// ErrFormat: the bytes are not consensus evidence this package can read:
	// empty, not JSON, not an object, no known key, or a field of the wrong
	// type. The message names the line or the field.
	ErrFormat = errors.New("malformed consensus evidence")
	// ErrNoDecision: an arbiter file has no resolution.decision (also wraps
	// ErrFormat).
	ErrNoDecision = errors.New("no arbiter decision")
	// ErrUnknownStage: FindArbiter was given a stage that is not one of
	// event.Stages in any of its spellings.
	ErrUnknownStage = errors.New("unknown stage")
)
