package ledger

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendLine appends e's ledger line, newline included, to dst: the bytes
// Append writes for e, without the json package's reflection. A zero Time
// is filled in with now. It refuses the same entries Append refuses.
func AppendLine(dst []byte, e Entry, now time.Time) ([]byte, error) {
	if e.Time.IsZero() {
		e.Time = now
	}
	if err := checkSafe(e); err != nil {
		return dst, err
	}
	return appendWire(dst, e), nil
}

// appendWire encodes e as encoding/json encodes e.wire() with HTML
// escaping off (see line for the keys and their omitempty rules),
// followed by a newline.
func appendWire(b []byte, e Entry) []byte {
	b = append(b, `{"ts":`...)
	b = appendTime(b, e.Time)
	b = append(b, `,"action":`...)
	b = appendString(b, e.Action)
	b = appendStringField(b, `,"spec":`, e.Spec)
	b = appendStringField(b, `,"delivery":`, e.Delivery)
	b = appendStringField(b, `,"event_id":`, e.EventID)
	b = appendStringField(b, `,"event":`, e.Event)
	b = appendStringField(b, `,"sub":`, e.Subscription)
	b = appendStringField(b, `,"key":`, e.Key)
	b = appendIntField(b, `,"attempt":`, int64(e.Attempt))
	b = appendIntField(b, `,"status":`, int64(e.Status))
	b = appendIntField(b, `,"duration_ms":`, e.DurationMS)
	b = appendStringField(b, `,"host":`, e.Host)
	if !e.NextDue.IsZero() {
		b = append(b, `,"next_due":`...)
		b = appendTime(b, e.NextDue)
	}
	b = appendStringField(b, `,"error":`, e.Error)
	b = appendStringField(b, `,"reason":`, e.Reason)
	b = appendStringField(b, `,"response":`, e.Response)
	b = appendIntField(b, `,"bytes":`, e.Bytes)
	return append(b, '}', '\n')
}

func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	if !t.IsZero() {
		b = appendTimeLayout(b, t)
	}
	return append(b, '"')
}

// appendTimeLayout appends t in TimeLayout, as t.UTC().AppendFormat does.
func appendTimeLayout(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return t.AppendFormat(b, TimeLayout)
	}
	h, mi, s := t.Clock()
	ms := t.Nanosecond() / 1e6
	return append(b,
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+int(mo)/10), byte('0'+int(mo)%10), '-', byte('0'+d/10), byte('0'+d%10), 'T',
		byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':',
		byte('0'+s/10), byte('0'+s%10), '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
}

func appendStringField(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return appendString(append(b, key...), s)
}

func appendIntField(b []byte, key string, n int64) []byte {
	if n == 0 {
		return b
	}
	return strconv.AppendInt(append(b, key...), n, 10)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string the way encoding/json does with
// HTML escaping off: invalid UTF-8 becomes U+FFFD, and U+2028 and U+2029
// are escaped (JSONP safety).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
