package spool

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spec-kit/outbox/internal/uuidv7"
)

// dueLayout is the fixed-width UTC layout of the due time in a file name.
const dueLayout = "20060102T150405.000Z"

// Ext is the extension of every delivery file.
const Ext = ".yaml"

// Name is the schedule of a delivery, encoded in its file name:
//
//	<due>_<attempt>_<delivery-id>_<subscription>.yaml
//	20261204T154245.123Z_001_0192f0e4-3c1a-7b2e-8c3d-4e5f60718293_ops.yaml
//
// due is when the next attempt may start (UTC, milliseconds), attempt is the
// number of that next attempt (from 1). Names sort by due time; the delivery
// id, a UUIDv7, orders deliveries by creation for FIFO.
type Name struct {
	Due          time.Time
	Attempt      int
	ID           string
	Subscription string
}

// String formats the file name.
func (n Name) String() string {
	return fmt.Sprintf("%s_%03d_%s_%s%s", n.Due.UTC().Format(dueLayout), n.Attempt, n.ID, n.Subscription, Ext)
}

// ParseName parses a delivery file name.
func ParseName(s string) (Name, error) {
	base, ok := strings.CutSuffix(s, Ext)
	parts := strings.Split(base, "_")
	if !ok || len(parts) != 4 {
		return Name{}, fmt.Errorf("%w: %q: want <due>_<attempt>_<id>_<subscription>%s", ErrBadName, s, Ext)
	}
	due, err := time.Parse(dueLayout, parts[0])
	if err != nil {
		return Name{}, fmt.Errorf("%w: %q: due time: %v", ErrBadName, s, err)
	}
	attempt, err := strconv.Atoi(parts[1])
	if err != nil || attempt < 1 {
		return Name{}, fmt.Errorf("%w: %q: attempt %q", ErrBadName, s, parts[1])
	}
	if !uuidv7.Valid(parts[2]) {
		return Name{}, fmt.Errorf("%w: %q: delivery id %q is not a UUIDv7", ErrBadName, s, parts[2])
	}
	if !ValidSubscriptionID(parts[3]) {
		return Name{}, fmt.Errorf("%w: %q: subscription %q", ErrBadName, s, parts[3])
	}
	return Name{Due: due, Attempt: attempt, ID: parts[2], Subscription: parts[3]}, nil
}

// ValidSubscriptionID reports whether id can stand in a file name: a letter
// or digit, then up to 63 letters, digits, dots or hyphens.
func ValidSubscriptionID(id string) bool {
	if id == "" || len(id) > 64 || !isAlnum(id[0]) {
		return false
	}
	for i := 1; i < len(id); i++ {
		if c := id[i]; !isAlnum(c) && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

// ValidSpecID reports whether id is safe as a directory name: a letter or
// digit, then letters, digits, dots, hyphens or underscores, and no "..".
func ValidSpecID(id string) bool {
	if id == "" || len(id) > 200 || !isAlnum(id[0]) || strings.Contains(id, "..") {
		return false
	}
	for i := 1; i < len(id); i++ {
		if c := id[i]; !isAlnum(c) && c != '.' && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
