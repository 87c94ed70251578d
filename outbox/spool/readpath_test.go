package spool

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/spec-kit/outbox/internal/uuidv7"
)

// ReadPath stops at the first short read of a delivery file, and reads to
// EOF when what it got does not decode, as a short read that was not the
// end (a network file system's) would leave it.
func TestReadPathReadsOnAfterAShortReadThatIsNotTheEnd(t *testing.T) {
	d := &Delivery{ID: uuidv7.New(t0), Event: "spec-auto.stage.completed", Spec: "SPEC-1", Subscription: "ops",
		CreatedAt: t0, Body: []byte(`{"k": "v"}`)}
	data, err := d.Encode()
	if err != nil {
		t.Fatal(err)
	}
	n := Name{Due: t0, Attempt: 1, ID: d.ID, Subscription: "ops"}
	p := filepath.Join(t.TempDir(), n.String())
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	// The real reader: one short read is the whole file.
	got, err := readPath(p, n, readFileInto)
	if err != nil || !bytes.Equal(got.Body, d.Body) {
		t.Fatalf("readFileInto: %+v, %v", got, err)
	}

	// A reader whose first read stops halfway.
	var calls []bool
	halfFirst := func(p string, buf []byte, untilShort bool) ([]byte, bool, error) {
		calls = append(calls, untilShort)
		all, short, err := readFileInto(p, buf, untilShort)
		if untilShort {
			return all[:len(buf)+(len(all)-len(buf))/2], true, err
		}
		return all, short, err
	}
	got, err = readPath(p, n, halfFirst)
	if err != nil || !bytes.Equal(got.Body, d.Body) || len(calls) != 2 || calls[1] {
		t.Fatalf("after a short first read: %+v, %v; reads %v", got, err, calls)
	}

	// A file that is damaged stays damaged on the second read.
	if err := os.WriteFile(p, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	calls = nil
	if _, err := readPath(p, n, halfFirst); !errors.Is(err, ErrBadFile) || len(calls) != 2 {
		t.Fatalf("a damaged file: %v (reads %v), want ErrBadFile after two reads", err, calls)
	}
}
