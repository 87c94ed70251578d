// Package receiver is a webhook receiver for testing: an http.Handler that
// verifies both of outbox's signature schemes on every request, reports
// each delivery, and can be told to fail, so that a subscription can be
// tried end to end on loopback (`outbox listen`, the demo, the tests).
//
// It never prints a secret, and prints a body only when asked.
package receiver

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/spec-kit/outbox/deliver/signature"
)

// maxBody bounds what the receiver reads of a request body.
const maxBody = 4 << 20

// Delivery is what the receiver saw of one request.
type Delivery struct {
	Received  time.Time `json:"received"`
	Path      string    `json:"path"`
	ID        string    `json:"id"`
	Event     string    `json:"event"`
	Verified  bool      `json:"verified"`
	Error     string    `json:"error,omitempty"` // why verification failed
	Status    int       `json:"status"`          // what the receiver answered
	Bytes     int       `json:"bytes"`
	Body      []byte    `json:"-"`
	Duplicate bool      `json:"duplicate,omitempty"` // id seen before (a retry or replay after a success)
}

// Handler verifies and records deliveries.
type Handler struct {
	Secrets   []string      // current secret first; any one verifying is enough
	Tolerance time.Duration // timestamp tolerance; default 5 minutes
	Fail      int           // answer FailStatus to the first Fail requests
	Status    int           // answer this to every request after the failures (default 200)
	FailWith  int           // status for the first Fail requests (default 503)
	// RetryAfter, when positive, is sent as Retry-After (in seconds) with
	// the first Fail answers, as a throttling endpoint does.
	RetryAfter int
	OnDeliver  func(Delivery)

	mu    sync.Mutex
	count int
	seen  map[string]bool
}

// ServeHTTP verifies the request, answers, and reports it.
func (h *Handler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, maxBody))
	if err != nil {
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	d := Delivery{
		Received: time.Now().UTC(), Path: req.URL.Path, Bytes: len(body), Body: body,
		ID: req.Header.Get(signature.HeaderWebhookID), Event: req.Header.Get(signature.HeaderSpecKitEvent),
	}
	if d.ID == "" {
		d.ID = req.Header.Get(signature.HeaderSpecKitID)
	}
	if err := signature.Verify(req.Header, body, time.Now(), h.Tolerance, h.Secrets...); err != nil {
		d.Error = err.Error()
	} else {
		d.Verified = true
	}
	h.mu.Lock()
	h.count++
	n := h.count
	switch {
	case !d.Verified:
		d.Status = http.StatusUnauthorized
	case n <= h.Fail:
		d.Status = h.FailWith
		if d.Status == 0 {
			d.Status = http.StatusServiceUnavailable
		}
	default:
		d.Status = h.Status
		if d.Status == 0 {
			d.Status = http.StatusOK
		}
	}
	if d.Verified && d.Status < 300 {
		if h.seen == nil {
			h.seen = map[string]bool{}
		}
		d.Duplicate = h.seen[d.ID]
		h.seen[d.ID] = true
	}
	h.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if h.RetryAfter > 0 && d.Verified && n <= h.Fail {
		w.Header().Set("Retry-After", strconv.Itoa(h.RetryAfter))
	}
	w.WriteHeader(d.Status)
	json.NewEncoder(w).Encode(map[string]any{"id": d.ID, "verified": d.Verified, "status": d.Status})
	if h.OnDeliver != nil {
		h.OnDeliver(d)
	}
}

// Line is the one-line human form of a delivery.
func (d Delivery) Line() string {
	v := "verified"
	if !d.Verified {
		v = "NOT VERIFIED: " + d.Error
	}
	dup := ""
	if d.Duplicate {
		dup = " (duplicate id)"
	}
	return fmt.Sprintf("%s %d %s %s %s %dB %s%s", d.Received.Format("15:04:05.000"), d.Status, d.Event, d.ID, d.Path, d.Bytes, v, dup)
}
