package deliver

import "errors"

// Sentinel errors.
var (
	ErrNoSpec     = errors.New("no such SPEC spool")
	ErrLedger     = errors.New("ledger write failed")
	ErrBadSpoolID = errors.New("invalid SPEC id")
)
