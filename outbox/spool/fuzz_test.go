package spool

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spec-kit/outbox/internal/uuidv7"
	"go.yaml.in/yaml/v3"
)

// seedDeliveries are deliveries as emit writes them, plus bodies that take
// Encode's slow (YAML encoder) path.
func seedDeliveries() []*Delivery {
	bodies := []string{
		`{"schema_version":"1.0","event":"spec-auto.stage.completed","spec_id":"SPEC-KIT-065","stage":"Plan","status":"success"}`,
		"{\n  \"a\": 1,\n  \"s\": \"héllo ✓\"\n}",
		"",
		"  leading spaces\n",
		"a\r\nb\t\n",
		"\xff\xfe not utf-8",
		"\u2028x\x85",
	}
	var ds []*Delivery
	for i, b := range bodies {
		d := &Delivery{ID: uuidv7.New(t0), EventID: uuidv7.New(t0), Event: "spec-auto.stage.completed",
			Spec: "SPEC-KIT-065-add-webhook-notification-system-for", Subscription: "chatops-slack",
			IdempotencyKey: "SPEC-KIT-065/Plan/2026-11-20T10:01:02Z-1234567890", CreatedAt: t0, Body: []byte(b)}
		if i%2 == 1 {
			d.EventID, d.IdempotencyKey, d.Subscription = "", "", "ops.v2"
		}
		ds = append(ds, d)
	}
	return ds
}

// FuzzDecode: Decode never panics; it fails with ErrBadFile or
// ErrBodyMismatch naming the file; what it accepts has every required field
// and the body its checksum describes, and survives Encode and Decode again.
// Whenever the fast reader accepts a file, it reads what the YAML decoder
// reads.
func FuzzDecode(f *testing.F) {
	for _, d := range seedDeliveries() {
		data, err := d.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(header + "version: 1\nid: x\nevent: e\nspec: s\nsubscription: o\ncreated_at: 2026-01-02T03:04:05Z\nbody_sha256: 0\n"))
	f.Add([]byte("version: 1\nbody: !!binary AAEC\n"))
	f.Add([]byte("\x00\x01"))

	const name = "spool/20261204T154245.123Z_001_x_ops.yaml"
	f.Fuzz(func(t *testing.T, data []byte) {
		if ff, ok := decodeFast(data); ok {
			var y file
			dec := yaml.NewDecoder(bytes.NewReader(data))
			dec.KnownFields(true)
			if err := dec.Decode(&y); err != nil {
				t.Fatalf("the fast reader accepts a file the YAML decoder rejects (%v):\n%q", err, data)
			}
			if ff != y {
				t.Fatalf("fast read differs from YAML:\nfast %+v\nyaml %+v\n%q", ff, y, data)
			}
		}
		d, err := Decode(name, data)
		if err != nil {
			if d != nil {
				t.Errorf("Decode returned a delivery with error %v", err)
			}
			if !errors.Is(err, ErrBadFile) && !errors.Is(err, ErrBodyMismatch) {
				t.Errorf("error %v wraps neither ErrBadFile nor ErrBodyMismatch", err)
			}
			if !strings.Contains(err.Error(), name) {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		if d.ID == "" || d.Event == "" || d.Spec == "" || d.Subscription == "" {
			t.Fatalf("accepted a delivery without a required field: %+v", d)
		}
		again, err := d.Encode()
		if err != nil {
			t.Fatalf("cannot encode what Decode returned: %v\n%+v", err, d)
		}
		d2, err := Decode(name, again)
		if err != nil {
			// created_at may name an instant the ms layout cannot write
			// back (a year before 0000 or after 9999 in UTC).
			if y := d.CreatedAt.UTC().Year(); y < 0 || y > 9999 {
				return
			}
			t.Fatalf("cannot decode the re-encoded delivery: %v\n%q\nre-encoded:\n%q", err, data, again)
		}
		if !sameDelivery(d, d2, time.Millisecond) {
			t.Fatalf("re-encoding changed the delivery:\n got %+v\nwant %+v", d2, d)
		}
	})
}

// FuzzEncodeDecode: any delivery Encode writes, Decode gives back with the
// same body bytes and the same fields (created_at to the millisecond).
func FuzzEncodeDecode(f *testing.F) {
	for _, d := range seedDeliveries() {
		f.Add(d.ID, d.EventID, d.Event, d.Spec, d.Subscription, d.IdempotencyKey, d.CreatedAt.UnixMilli(), d.Body)
	}
	f.Add("1", "", "true", "null", "~", "- x", int64(0), []byte("---\n..."))
	f.Add("0x1F", "1e3", "a: b", "#c", "'q'", "\"dq\"", int64(253402300799999), []byte("\ttab"))
	f.Add("é", "\u2028", "a\nb", " x ", "x:", "\\", int64(-62135596800000), []byte{0})

	f.Fuzz(func(t *testing.T, id, eventID, ev, spec, sub, key string, createdMS int64, body []byte) {
		if id == "" || ev == "" || spec == "" || sub == "" {
			return // Decode requires these; emit always sets them
		}
		// Encode writes created_at as YYYY-MM-DDTHH:MM:SS.000Z in UTC:
		// years 0001 to 9999.
		const minMS, maxMS = -62135596800000, 253402300799999
		if createdMS < minMS || createdMS > maxMS {
			return
		}
		d := &Delivery{ID: id, EventID: eventID, Event: ev, Spec: spec, Subscription: sub,
			IdempotencyKey: key, CreatedAt: time.UnixMilli(createdMS), Body: body}
		data, err := d.Encode()
		if err != nil {
			t.Fatalf("Encode: %v\n%+v", err, d)
		}
		got, err := Decode("x.yaml", data)
		if err != nil {
			t.Fatalf("Decode what Encode wrote: %v\ndelivery %+v\nfile:\n%s", err, d, data)
		}
		if !bytes.Equal(got.Body, body) {
			t.Fatalf("body changed:\n got %q\nwant %q\nfile:\n%s", got.Body, body, data)
		}
		if !sameDelivery(got, d, 0) {
			t.Fatalf("round trip changed the delivery:\n got %+v\nwant %+v\nfile:\n%s", got, d, data)
		}
	})
}

// sameDelivery compares every field; created_at to within trunc (Encode
// keeps milliseconds).
func sameDelivery(a, b *Delivery, trunc time.Duration) bool {
	return a.ID == b.ID && a.EventID == b.EventID && a.Event == b.Event && a.Spec == b.Spec &&
		a.Subscription == b.Subscription && a.IdempotencyKey == b.IdempotencyKey &&
		a.CreatedAt.Truncate(trunc).Equal(b.CreatedAt.Truncate(trunc)) && bytes.Equal(a.Body, b.Body)
}
