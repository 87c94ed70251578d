package spool

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// FormatVersion is the version of the delivery file format.
const FormatVersion = 1

// header opens every delivery file.
const header = "# outbox delivery: immutable; its schedule is in the file name.\n"

// Delivery is the content of one delivery file: one event for one
// subscription, with the exact body bytes to send.
type Delivery struct {
	ID             string    // delivery id (UUIDv7), sent as X-SpecKit-Id and webhook-id
	EventID        string    // id of the event, shared by its deliveries
	Event          string    // event type
	Spec           string    // SPEC id
	Subscription   string    // subscription id
	IdempotencyKey string    // key that makes a repeated emit a no-op
	CreatedAt      time.Time // when it was enqueued
	Body           []byte    // the JSON payload, sent byte for byte
}

// file is the YAML form of a Delivery; field order is the file's key order.
type file struct {
	Version        int    `yaml:"version"`
	ID             string `yaml:"id"`
	EventID        string `yaml:"event_id"`
	Event          string `yaml:"event"`
	Spec           string `yaml:"spec"`
	Subscription   string `yaml:"subscription"`
	IdempotencyKey string `yaml:"idempotency_key"`
	CreatedAt      string `yaml:"created_at"`
	BodySHA256     string `yaml:"body_sha256"`
	Body           string `yaml:"body,omitempty"`
}

const timeLayout = "2006-01-02T15:04:05.000Z"

// Encode returns the file content for d. The body is written as a YAML
// literal block so that it reads well in a pull request, and its SHA-256
// is stored so a damaged file is detected rather than sent.
func (d *Delivery) Encode() ([]byte, error) {
	sum := sha256.Sum256(d.Body)
	f := file{
		Version: FormatVersion, ID: d.ID, EventID: d.EventID, Event: d.Event,
		Spec: d.Spec, Subscription: d.Subscription, IdempotencyKey: d.IdempotencyKey,
		CreatedAt: d.CreatedAt.UTC().Format(timeLayout), BodySHA256: hex.EncodeToString(sum[:]),
	}
	var buf bytes.Buffer
	buf.Grow(len(header) + 400 + len(d.Body) + len(d.Body)/8)
	buf.WriteString(header)
	if literalSafe(d.Body) {
		// Fast path: the header through the YAML encoder, the body as a
		// literal block written here (the encoder's per-character emitter
		// dominates the cost of an emit otherwise).
		if err := encodeYAML(&buf, &f); err != nil {
			return nil, err
		}
		buf.WriteString("body: |-\n")
		for line := range bytes.SplitSeq(d.Body, []byte("\n")) {
			if len(line) > 0 {
				buf.WriteString("  ")
				buf.Write(line)
			}
			buf.WriteByte('\n')
		}
		return buf.Bytes(), nil
	}
	// Anything else: a double-quoted scalar, which escapes what it must.
	// (Left to choose, the encoder picks a literal block for some bodies
	// that start with a tab, which it then cannot read back.)
	var node yaml.Node
	if err := node.Encode(&f); err != nil { // body is empty here, so left out
		return nil, err
	}
	val := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: string(d.Body), Style: yaml.DoubleQuotedStyle}
	if !utf8.Valid(d.Body) { // not text: YAML's !!binary (base64)
		val = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!binary", Value: base64.StdEncoding.EncodeToString(d.Body)}
	}
	node.Content = append(node.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "body"}, val)
	if err := encodeYAML(&buf, &node); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func encodeYAML(buf *bytes.Buffer, v any) error {
	enc := yaml.NewEncoder(buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return err
	}
	return enc.Close()
}

// literalSafe reports whether body can be written as a "|-" literal block
// by indenting its lines: valid UTF-8 of YAML-printable characters without
// carriage returns, no line ending in a space or tab, a first line that
// starts with neither white space nor a newline, and no trailing newline. JSON from event.Payload
// always qualifies; anything else takes the YAML encoder's path.
func literalSafe(body []byte) bool {
	if len(body) == 0 || body[len(body)-1] == '\n' || body[0] == ' ' || body[0] == '\t' || body[0] == '\n' {
		return false
	}
	// ASCII first, a byte at a time (JSON bodies usually are); the rune
	// loop below decides anything else.
	prev := byte('\n')
	for _, c := range body {
		switch {
		case c == '\n':
			if prev == ' ' || prev == '\t' {
				return false
			}
		case c == '\t', c >= 0x20 && c <= 0x7e:
		case c >= 0x80:
			return literalSafeText(body)
		default:
			return false
		}
		prev = c
	}
	return prev != ' ' && prev != '\t'
}

// literalSafeText is literalSafe's rule for a body that is not all ASCII.
func literalSafeText(body []byte) bool {
	if !utf8.Valid(body) {
		return false
	}
	prev := byte('\n')
	for _, r := range string(body) {
		switch {
		case r == '\n':
			if prev == ' ' || prev == '\t' {
				return false
			}
		case r == '\t', r >= 0x20 && r <= 0x7e, // 0x85, U+2028 and U+2029 break lines in YAML
			r >= 0xa0 && r <= 0xd7ff && r != 0x2028 && r != 0x2029, r >= 0xe000 && r <= 0xfffd && r != 0xfeff, r >= 0x10000 && r <= 0x10ffff:
		default:
			return false
		}
		if r < 0x80 {
			prev = byte(r)
		} else {
			prev = 0
		}
	}
	return prev != ' ' && prev != '\t'
}

// Decode parses a delivery file and checks its body against its checksum.
// name is used in error messages only.
func Decode(name string, data []byte) (*Delivery, error) {
	f, body, ok := decodeFastBody(data)
	if !ok {
		f = file{}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&f); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrBadFile, name, err)
		}
		body = []byte(f.Body)
	}
	if f.Version != FormatVersion {
		return nil, fmt.Errorf("%w: %s: version %d, want %d", ErrBadFile, name, f.Version, FormatVersion)
	}
	for _, req := range []struct{ key, val string }{
		{"id", f.ID}, {"event", f.Event}, {"spec", f.Spec}, {"subscription", f.Subscription},
		{"body_sha256", f.BodySHA256},
	} {
		if req.val == "" {
			return nil, fmt.Errorf("%w: %s: missing %s", ErrBadFile, name, req.key)
		}
	}
	created, err := time.Parse(time.RFC3339Nano, f.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: created_at: %v", ErrBadFile, name, err)
	}
	sum := sha256.Sum256(body)
	var sumHex [2 * sha256.Size]byte
	hex.Encode(sumHex[:], sum[:])
	if string(sumHex[:]) != f.BodySHA256 {
		return nil, fmt.Errorf("%w: %s", ErrBodyMismatch, name)
	}
	return &Delivery{
		ID: f.ID, EventID: f.EventID, Event: f.Event, Spec: f.Spec, Subscription: f.Subscription,
		IdempotencyKey: f.IdempotencyKey, CreatedAt: created, Body: body,
	}, nil
}
