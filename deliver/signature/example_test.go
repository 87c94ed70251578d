package signature_test

import (
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/spec-kit/outbox/deliver/signature"
)

func ExampleSign() {
	body := []byte(`{"test": 2432232314}`)
	h := http.Header{}
	err := signature.Sign(h, "msg_p5jXN8AQM9LWM0D4loKWxJek", "spec.created",
		time.Unix(1614265330, 0), body, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(h.Get(signature.HeaderWebhookSignature))
	// Output: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
}

// A receiver verifies the raw body before decoding it.
func ExampleVerify() {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	handler := func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "unreadable body", http.StatusBadRequest)
			return
		}
		if err := signature.Verify(r.Header, body, time.Now(), signature.DefaultTolerance, secret); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		// Decode body; use r.Header.Get(signature.HeaderWebhookID) as the
		// idempotency key.
		w.WriteHeader(http.StatusNoContent)
	}
	_ = handler
}
