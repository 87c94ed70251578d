// Package uuidv7 makes RFC 9562 version 7 UUIDs: a 48-bit Unix millisecond
// timestamp followed by random bits, so that ids sort by creation time.
//
// Within one process ids are strictly increasing: the 12-bit rand_a field is
// used as a counter for ids made in the same millisecond (RFC 9562 §6.2,
// method 1). It never reads or writes anything but crypto/rand.
package uuidv7

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"sync"
	"time"
)

// ErrInvalid reports a string that is not a canonical version 7 UUID.
var ErrInvalid = errors.New("not a version 7 UUID")

var (
	mu     sync.Mutex
	lastMS int64
	seq    uint16
)

// New returns a new version 7 UUID in canonical form, made at now.
func New(now time.Time) string {
	var b [16]byte
	_, _ = rand.Read(b[6:])
	ms := now.UnixMilli()
	mu.Lock()
	if ms <= lastMS {
		ms = lastMS
		seq++
		if seq > 0xfff { // counter exhausted: borrow the next millisecond
			ms++
			seq = 0
		}
	} else {
		seq = binary.BigEndian.Uint16(b[6:8]) & 0x3ff // leave headroom for the counter
	}
	lastMS = ms
	s := seq
	mu.Unlock()

	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], uint64(ms))
	copy(b[0:6], ts[2:8])
	b[6] = 0x70 | byte(s>>8)&0x0f
	b[7] = byte(s)
	b[8] = 0x80 | b[8]&0x3f
	return format(b)
}

func format(b [16]byte) string {
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], b[10:16])
	return string(out[:])
}

// Valid reports whether s is a canonical lower-case version 7 UUID.
func Valid(s string) bool {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f':
		default:
			return false
		}
	}
	return s[14] == '7' && (s[19] == '8' || s[19] == '9' || s[19] == 'a' || s[19] == 'b')
}

// Time returns the millisecond timestamp embedded in a version 7 UUID.
func Time(s string) (time.Time, error) {
	if !Valid(s) {
		return time.Time{}, ErrInvalid
	}
	var b [8]byte
	if _, err := hex.Decode(b[2:6], []byte(s[0:8])); err != nil {
		return time.Time{}, ErrInvalid
	}
	if _, err := hex.Decode(b[6:8], []byte(s[9:13])); err != nil {
		return time.Time{}, ErrInvalid
	}
	return time.UnixMilli(int64(binary.BigEndian.Uint64(b[:]))).UTC(), nil
}
