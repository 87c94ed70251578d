package receiver

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/spec-kit/outbox/deliver/signature"
)

func post(t *testing.T, h http.Handler, secret, id string, body []byte) Delivery {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/hook", bytes.NewReader(body))
	if err := signature.Sign(req.Header, id, "spec-kit.ping", time.Now(), body, secret); err != nil {
		t.Fatal(err)
	}
	var got Delivery
	hh := h.(*Handler)
	hh.OnDeliver = func(d Delivery) { got = d }
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != got.Status {
		t.Fatalf("answered %d, reported %d", rec.Code, got.Status)
	}
	return got
}

func TestHandler(t *testing.T) {
	h := &Handler{Secrets: []string{"right"}, Fail: 2}
	body := []byte(`{"schemaVersion":"1.0"}`)
	steps := []struct {
		secret, id string
		status     int
		verified   bool
		dup        bool
	}{
		{"wrong", "01", 401, false, false}, // not verified: 401, and it does not count as a failure
		{"right", "02", 503, true, false},  // --fail 2: first
		{"right", "02", 200, true, false},  // the count includes the unverified one
		{"right", "02", 200, true, true},   // same id again: a duplicate
		{"right", "03", 200, true, false},
	}
	for i, s := range steps {
		d := post(t, h, s.secret, s.id, body)
		if d.Status != s.status || d.Verified != s.verified || d.Duplicate != s.dup || d.ID != s.id {
			t.Fatalf("step %d: got %+v, want status %d verified %v duplicate %v", i, d, s.status, s.verified, s.dup)
		}
		if !s.verified && d.Error == "" {
			t.Fatalf("step %d: no reason for the failed verification", i)
		}
	}
}

func TestLineNeverHoldsBody(t *testing.T) {
	d := Delivery{Status: 200, Event: "e", ID: "i", Path: "/p", Bytes: 3, Body: []byte("SECRET-BODY"), Verified: true}
	if l := d.Line(); bytes.Contains([]byte(l), []byte("SECRET-BODY")) {
		t.Fatalf("line holds the body: %s", l)
	}
}
