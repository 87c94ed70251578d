package spool

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

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
	Body           string `yaml:"body"`
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
		Body: string(d.Body),
	}
	var node yaml.Node
	if err := node.Encode(&f); err != nil {
		return nil, err
	}
	last := node.Content[len(node.Content)-1] // the body value
	last.Style = yaml.LiteralStyle
	var buf bytes.Buffer
	buf.WriteString(header)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&node); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Decode parses a delivery file and checks its body against its checksum.
// name is used in error messages only.
func Decode(name string, data []byte) (*Delivery, error) {
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadFile, name, err)
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
	sum := sha256.Sum256([]byte(f.Body))
	if hex.EncodeToString(sum[:]) != f.BodySHA256 {
		return nil, fmt.Errorf("%w: %s", ErrBodyMismatch, name)
	}
	return &Delivery{
		ID: f.ID, EventID: f.EventID, Event: f.Event, Spec: f.Spec, Subscription: f.Subscription,
		IdempotencyKey: f.IdempotencyKey, CreatedAt: created, Body: []byte(f.Body),
	}, nil
}
