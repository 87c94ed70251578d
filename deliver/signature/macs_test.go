package signature_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spec-kit/outbox/deliver/signature"
)

// Sign reuses keyed HMAC states across calls (and goroutines): whatever
// the order of the secrets it is given, more of them than a set keeps,
// raw or whsec_, alone or in rotation pairs, every header is what the
// one-shot functions compute.
func TestSignReusesKeyedStatesCorrectly(t *testing.T) {
	secrets := []string{"alpha", swSecret, "beta", "whsec_Z2FtbWEta2V5LWJ5dGVz", "delta", "alpha-2", "whsec_ZXBzaWxvbg=="}
	ts := time.Unix(1767225600, 0)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 300 {
				cur := secrets[(g+i)%len(secrets)]
				ss := []string{cur}
				if i%3 == 0 {
					ss = append(ss, secrets[(g+2*i+1)%len(secrets)])
				}
				id := fmt.Sprintf("msg_%d_%d", g, i)
				body := []byte(strings.Repeat("b", i))
				h := http.Header{}
				if err := signature.Sign(h, id, "spec.created", ts, body, ss...); err != nil {
					errs <- err
					return
				}
				if got, want := h.Get(signature.HeaderSpecKitSignature), signature.GitHubSignature(cur, body); got != want {
					errs <- fmt.Errorf("%s: X-SpecKit-Signature %q, want %q", id, got, want)
					return
				}
				var want []string
				for _, s := range ss {
					e, err := signature.StandardSignature(s, id, ts.Unix(), body)
					if err != nil {
						errs <- err
						return
					}
					want = append(want, e)
				}
				if got := h.Get(signature.HeaderWebhookSignature); got != strings.Join(want, " ") {
					errs <- fmt.Errorf("%s: webhook-signature %q, want %q", id, got, strings.Join(want, " "))
					return
				}
				if h.Get(signature.HeaderWebhookTimestamp) != "1767225600" || h.Get(signature.HeaderSpecKitTimestamp) != "1767225600" {
					errs <- fmt.Errorf("%s: timestamps %v", id, h)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
