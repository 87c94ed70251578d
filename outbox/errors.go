package outbox

import "errors"

// Sentinel errors. Errors that come from the request itself wrap ErrUsage,
// so a CLI can tell bad input from a failure of the machine.
var (
	ErrUsage = errors.New("invalid emit request")
)
