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
	var buf [128]byte
	return string(n.Append(buf[:0]))
}

// Append appends the file name to b.
func (n Name) Append(b []byte) []byte {
	due := n.Due.UTC()
	y, mo, d := due.Date()
	if y < 0 || y > 9999 || n.Attempt < 0 {
		return fmt.Appendf(b, "%s_%03d_%s_%s%s", due.Format(dueLayout), n.Attempt, n.ID, n.Subscription, Ext)
	}
	h, mi, s := due.Clock()
	ms := due.Nanosecond() / 1e6
	b = append(b,
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10),
		byte('0'+int(mo)/10), byte('0'+int(mo)%10), byte('0'+d/10), byte('0'+d%10), 'T',
		byte('0'+h/10), byte('0'+h%10), byte('0'+mi/10), byte('0'+mi%10), byte('0'+s/10), byte('0'+s%10),
		'.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z', '_')
	if n.Attempt < 100 {
		b = append(b, '0')
		if n.Attempt < 10 {
			b = append(b, '0')
		}
	}
	b = strconv.AppendInt(b, int64(n.Attempt), 10)
	b = append(b, '_')
	b = append(b, n.ID...)
	b = append(b, '_')
	b = append(b, n.Subscription...)
	return append(b, Ext...)
}

// ParseName parses a delivery file name.
func ParseName(s string) (Name, error) {
	base, ok := strings.CutSuffix(s, Ext)
	var parts [4]string
	n := 0
	for part := range strings.SplitSeq(base, "_") {
		if n == len(parts) {
			n++
			break
		}
		parts[n] = part
		n++
	}
	if !ok || n != len(parts) {
		return Name{}, fmt.Errorf("%w: %q: want <due>_<attempt>_<id>_<subscription>%s", ErrBadName, s, Ext)
	}
	due, ok := parseDue(parts[0])
	if !ok {
		var err error
		if due, err = time.Parse(dueLayout, parts[0]); err != nil {
			return Name{}, fmt.Errorf("%w: %q: due time: %v", ErrBadName, s, err)
		}
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

// parseDue reads a due time in dueLayout when it is plainly valid: every
// digit in place and every field in range. Anything else (ok false) is
// left to time.Parse, which also explains what is wrong.
func parseDue(s string) (time.Time, bool) {
	if len(s) != len(dueLayout) || s[8] != 'T' || s[15] != '.' || s[19] != 'Z' {
		return time.Time{}, false
	}
	var v [19]int
	for i := 0; i < 19; i++ {
		if i == 8 || i == 15 {
			continue
		}
		c := s[i]
		if c < '0' || c > '9' {
			return time.Time{}, false
		}
		v[i] = int(c - '0')
	}
	y := v[0]*1000 + v[1]*100 + v[2]*10 + v[3]
	mo := v[4]*10 + v[5]
	d := v[6]*10 + v[7]
	h, mi, sec := v[9]*10+v[10], v[11]*10+v[12], v[13]*10+v[14]
	ms := v[16]*100 + v[17]*10 + v[18]
	if mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, ms*1e6, time.UTC)
	if t.Day() != d { // past the end of the month
		return time.Time{}, false
	}
	return t, true
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
