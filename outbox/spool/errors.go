package spool

import "errors"

// Sentinel errors.
var (
	ErrBadName      = errors.New("not a delivery file name")
	ErrBadFile      = errors.New("malformed delivery file")
	ErrBodyMismatch = errors.New("delivery body does not match its checksum")
	ErrBadSpecID    = errors.New("invalid SPEC id")
	ErrExists       = errors.New("delivery file already exists")
)
