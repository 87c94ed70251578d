package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"strconv"
	"sync"
)

// maxKeyed bounds the keyed states a macSet keeps: a current and a
// previous secret, in both of their forms.
const maxKeyed = 4

// macSet holds HMAC-SHA256 states keyed with the keys Sign used last, and
// scratch space. Keying a state costs two SHA-256 blocks and five
// allocations, and a delivery run signs every attempt with the same few
// keys, so Sign takes a set from a pool, resets the states it finds keyed
// with its keys, and keys new ones for the others.
type macSet struct {
	keyed []keyedMAC
	sum   [sha256.Size]byte
	buf   []byte
}

type keyedMAC struct {
	key string
	h   hash.Hash
}

var macSets = sync.Pool{New: func() any { return &macSet{buf: make([]byte, 0, 256)} }}

// mac returns a state keyed with key, reset.
func (s *macSet) mac(key string) hash.Hash {
	for _, m := range s.keyed {
		if m.key == key {
			m.h.Reset()
			return m.h
		}
	}
	if len(s.keyed) == maxKeyed {
		s.keyed = append(s.keyed[:0], s.keyed[1:]...)
	}
	h := hmac.New(sha256.New, []byte(key))
	s.keyed = append(s.keyed, keyedMAC{key: key, h: h})
	return h
}

// signatures returns Sign's computed header values in one string: the
// X-SpecKit-Signature value ("sha256=<hex>", keyed with the secret as
// given), the unix timestamp, and the webhook-signature value (one "v1,"
// entry per key in keys); ghEnd and stampEnd are where the first two end.
func (s *macSet) signatures(secret string, keys []string, id string, unix int64, body []byte) (all string, ghEnd, stampEnd int) {
	b := append(s.buf[:0], "sha256="...)
	h := s.mac(secret)
	h.Write(body)
	b = hex.AppendEncode(b, h.Sum(s.sum[:0]))
	ghEnd = len(b)
	b = strconv.AppendInt(b, unix, 10)
	stampEnd = len(b)
	for i, k := range keys {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, "v1,"...)
		// "<id>.<unix>." then the body, the prefix written from the
		// buffer's spare room.
		h := s.mac(k)
		p := len(b)
		b = append(b, id...)
		b = append(b, '.')
		b = append(b, b[ghEnd:stampEnd]...)
		b = append(b, '.')
		h.Write(b[p:])
		h.Write(body)
		b = base64.StdEncoding.AppendEncode(b[:p], h.Sum(s.sum[:0]))
	}
	s.buf = b
	return string(b), ghEnd, stampEnd
}
