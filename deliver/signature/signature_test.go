package signature_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spec-kit/outbox/deliver/signature"
)

// Standard Webhooks published test vector, from the reference libraries of
// github.com/standard-webhooks/standard-webhooks:
//
//   - libraries/go/webhook_test.go, TestWebhookSign
//   - libraries/python/tests/test_webhooks.py, test_sign_function
//
// Both sign msg id msg_p5jXN8AQM9LWM0D4loKWxJek, timestamp 1614265330 and
// payload {"test": 2432232314} with secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
// and expect v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=.
const (
	swSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	swMsgID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	swTimestamp = int64(1614265330)
	swPayload   = `{"test": 2432232314}`
	swExpected  = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	// A wrong v1 signature that the same reference tests use.
	swWrong = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
)

// GitHub's documented test values, from "Validating webhook deliveries"
// (https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries,
// section "Testing the webhook payload validation").
const (
	ghSecret   = "It's a Secret to Everybody"
	ghPayload  = "Hello, World!"
	ghExpected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
)

func TestStandardWebhooksVector(t *testing.T) {
	got, err := signature.StandardSignature(swSecret, swMsgID, swTimestamp, []byte(swPayload))
	if err != nil {
		t.Fatal(err)
	}
	if got != swExpected {
		t.Errorf("StandardSignature = %s, want %s", got, swExpected)
	}

	h := http.Header{}
	err = signature.Sign(h, swMsgID, "spec.created", time.Unix(swTimestamp, 0), []byte(swPayload), swSecret)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Get(signature.HeaderWebhookSignature); got != swExpected {
		t.Errorf("Sign: webhook-signature = %s, want %s", got, swExpected)
	}
	if got := h.Get(signature.HeaderWebhookID); got != swMsgID {
		t.Errorf("Sign: webhook-id = %q", got)
	}
	if got := h.Get(signature.HeaderWebhookTimestamp); got != "1614265330" {
		t.Errorf("Sign: webhook-timestamp = %q", got)
	}

	// Verify the vector as a receiver gets it: only the three Standard
	// Webhooks headers, written by hand (not by Sign), lowercase names.
	now := time.Unix(swTimestamp, 0).Add(30 * time.Second)
	recv := http.Header{
		"webhook-id":        {swMsgID},
		"webhook-timestamp": {"1614265330"},
		"webhook-signature": {swExpected},
	}
	recv = canonical(recv)
	if err := signature.Verify(recv, []byte(swPayload), now, 0, swSecret); err != nil {
		t.Errorf("Verify(vector) = %v", err)
	}
	// The reference tests' multi-signature header: wrong v1, a v2, the
	// valid one, wrong v1 again.
	recv.Set(signature.HeaderWebhookSignature, strings.Join([]string{
		swWrong, "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=", swExpected, swWrong,
	}, " "))
	if err := signature.Verify(recv, []byte(swPayload), now, 0, swSecret); err != nil {
		t.Errorf("Verify(multi-signature vector) = %v", err)
	}
	// One changed byte of the payload must fail.
	if err := signature.Verify(recv, []byte(`{"test": 2432232315}`), now, 0, swSecret); !errors.Is(err, signature.ErrBadSignature) {
		t.Errorf("Verify(tampered vector) = %v, want ErrBadSignature", err)
	}
}

// The reference libraries base64-decode a secret even without the whsec_
// prefix; this package uses an unprefixed secret as raw bytes (documented).
// Pin the difference so it is never changed by accident.
func TestUnprefixedSecretIsRawBytes(t *testing.T) {
	unprefixed := strings.TrimPrefix(swSecret, "whsec_")
	got, err := signature.StandardSignature(unprefixed, swMsgID, swTimestamp, []byte(swPayload))
	if err != nil {
		t.Fatal(err)
	}
	if got == swExpected {
		t.Fatal("unprefixed secret was base64-decoded; want it used as raw bytes")
	}
	// The same key given as raw bytes behind whsec_ gives the same result.
	rawAsWhsec := "whsec_" + base64.StdEncoding.EncodeToString([]byte(unprefixed))
	want, err := signature.StandardSignature(rawAsWhsec, swMsgID, swTimestamp, []byte(swPayload))
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("raw %s != whsec_ of the same bytes %s", got, want)
	}
}

func TestGitHubVector(t *testing.T) {
	if got := signature.GitHubSignature(ghSecret, []byte(ghPayload)); got != ghExpected {
		t.Errorf("GitHubSignature = %s, want %s", got, ghExpected)
	}
	h := http.Header{}
	if err := signature.Sign(h, "0192f0e4-3c1a-7b2e-8c3d-4e5f60718293", "spec.created", time.Unix(1700000000, 0), []byte(ghPayload), ghSecret); err != nil {
		t.Fatal(err)
	}
	if got := h.Get(signature.HeaderSpecKitSignature); got != ghExpected {
		t.Errorf("Sign: X-SpecKit-Signature = %s, want %s", got, ghExpected)
	}
	// A receiver that only has the GitHub-style headers.
	recv := http.Header{}
	recv.Set(signature.HeaderSpecKitSignature, ghExpected)
	recv.Set(signature.HeaderSpecKitTimestamp, "1700000000")
	now := time.Unix(1700000000, 0)
	if err := signature.Verify(recv, []byte(ghPayload), now, 0, ghSecret); err != nil {
		t.Errorf("Verify(GitHub vector) = %v", err)
	}
	// Uppercase hex is the same MAC.
	recv.Set(signature.HeaderSpecKitSignature, "sha256="+strings.ToUpper(strings.TrimPrefix(ghExpected, "sha256=")))
	if err := signature.Verify(recv, []byte(ghPayload), now, 0, ghSecret); err != nil {
		t.Errorf("Verify(uppercase hex) = %v", err)
	}
	if err := signature.Verify(recv, []byte("Hello, World?"), now, 0, ghSecret); !errors.Is(err, signature.ErrBadSignature) {
		t.Errorf("Verify(tampered) = %v, want ErrBadSignature", err)
	}
}

// The GitHub-style MAC keys with the secret string as given, whsec_ prefix
// and all, while the Standard Webhooks MAC keys with its decoding.
func TestWhsecSecretKeysEachScheme(t *testing.T) {
	h := http.Header{}
	if err := signature.Sign(h, swMsgID, "e", time.Unix(swTimestamp, 0), []byte(swPayload), swSecret); err != nil {
		t.Fatal(err)
	}
	if got, want := h.Get(signature.HeaderSpecKitSignature), signature.GitHubSignature(swSecret, []byte(swPayload)); got != want {
		t.Errorf("X-SpecKit-Signature = %s, want HMAC keyed with the whole secret %s", got, want)
	}
}

func TestSignSetsAllHeaders(t *testing.T) {
	h := http.Header{}
	ts := time.Date(2026, 12, 4, 15, 42, 45, 987_000_000, time.UTC)
	id := "0192f0e4-3c1a-7b2e-8c3d-4e5f60718293"
	body := []byte(`{"type":"spec.created"}`)
	if err := signature.Sign(h, id, "spec.created", ts, body, "current-secret"); err != nil {
		t.Fatal(err)
	}
	stamp := strconv.FormatInt(ts.Unix(), 10)
	want := map[string]string{
		"X-SpecKit-Signature":         signature.GitHubSignature("current-secret", body),
		"X-SpecKit-Request-Timestamp": stamp,
		"X-SpecKit-Id":                id,
		"X-SpecKit-Event":             "spec.created",
		"webhook-id":                  id,
		"webhook-timestamp":           stamp,
	}
	for name, v := range want {
		if got := h.Get(name); got != v {
			t.Errorf("%s = %q, want %q", name, got, v)
		}
	}
	sw, err := signature.StandardSignature("current-secret", id, ts.Unix(), body)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Get("webhook-signature"); got != sw {
		t.Errorf("webhook-signature = %q, want %q", got, sw)
	}
	if len(h) != 7 {
		t.Errorf("Sign set %d headers, want 7: %v", len(h), h)
	}
	if err := signature.Verify(h, body, ts, 0, "current-secret"); err != nil {
		t.Errorf("Verify(own output) = %v", err)
	}
}

func TestSignLeavesHeaderUnchangedOnError(t *testing.T) {
	h := http.Header{"Content-Type": {"application/json"}}
	err := signature.Sign(h, "id-1", "e", time.Unix(1700000000, 0), []byte("{}"), "good", "whsec_!!!")
	if !errors.Is(err, signature.ErrBadSecret) {
		t.Fatalf("Sign = %v, want ErrBadSecret", err)
	}
	if len(h) != 1 {
		t.Errorf("header changed on error: %v", h)
	}
}

func TestRotation(t *testing.T) {
	const (
		current  = "whsec_" + "Y3VycmVudC1zZWNyZXQta2V5LWJ5dGVzLTAxMjM0NTY3" // 33 bytes
		previous = "previous-plain-secret"
		other    = "some-third-secret"
	)
	body := []byte(`{"type":"spec.created","data":{"id":"S-1"}}`)
	ts := time.Unix(1767225600, 0)
	h := http.Header{}
	if err := signature.Sign(h, "0192f0e4-3c1a-7b2e-8c3d-4e5f60718293", "spec.created", ts, body, current, previous); err != nil {
		t.Fatal(err)
	}
	entries := strings.Fields(h.Get(signature.HeaderWebhookSignature))
	if len(entries) != 2 {
		t.Fatalf("webhook-signature has %d entries, want 2: %q", len(entries), entries)
	}
	for i, s := range []string{current, previous} {
		want, err := signature.StandardSignature(s, "0192f0e4-3c1a-7b2e-8c3d-4e5f60718293", ts.Unix(), body)
		if err != nil {
			t.Fatal(err)
		}
		if entries[i] != want {
			t.Errorf("entry %d = %s, want %s", i, entries[i], want)
		}
	}
	if got, want := h.Get(signature.HeaderSpecKitSignature), signature.GitHubSignature(current, body); got != want {
		t.Errorf("X-SpecKit-Signature = %s, want the current secret's %s", got, want)
	}

	now := ts.Add(time.Minute)
	for _, secrets := range [][]string{{current}, {previous}, {current, previous}, {other, previous}, {other, current}} {
		if err := signature.Verify(h, body, now, 0, secrets...); err != nil {
			t.Errorf("Verify(%d secrets) = %v", len(secrets), err)
		}
	}
	if err := signature.Verify(h, body, now, 0, other); !errors.Is(err, signature.ErrBadSignature) {
		t.Errorf("Verify(third secret) = %v, want ErrBadSignature", err)
	}

	// X-SpecKit-Signature is still checked by a receiver holding the
	// current secret; one holding only the previous secret cannot check it.
	tampered := h.Clone()
	tampered.Set(signature.HeaderSpecKitSignature, signature.GitHubSignature("forged", body))
	for _, secrets := range [][]string{{current}, {current, previous}} {
		if err := signature.Verify(tampered, body, now, 0, secrets...); !errors.Is(err, signature.ErrBadSignature) {
			t.Errorf("Verify(tampered X-SpecKit-Signature, %d secrets) = %v, want ErrBadSignature", len(secrets), err)
		}
	}
	if err := signature.Verify(tampered, body, now, 0, previous); err != nil {
		t.Errorf("Verify(tampered X-SpecKit-Signature, previous only) = %v, want nil (not checkable)", err)
	}
	// Without webhook-signature, the previous secret alone cannot verify.
	ghOnly := h.Clone()
	ghOnly.Del(signature.HeaderWebhookSignature)
	if err := signature.Verify(ghOnly, body, now, 0, previous); !errors.Is(err, signature.ErrBadSignature) {
		t.Errorf("Verify(GitHub only, previous secret) = %v, want ErrBadSignature", err)
	}
}

func TestTolerance(t *testing.T) {
	body := []byte(`{}`)
	ts := time.Unix(1767225600, 0)
	h := signed(t, ts, body)
	for _, c := range []struct {
		name      string
		now       time.Time
		tolerance time.Duration
		ok        bool
	}{
		{"same second", ts, 0, true},
		{"exactly 5m old", ts.Add(5 * time.Minute), 0, true},
		{"exactly 5m ahead", ts.Add(-5 * time.Minute), 0, true},
		{"5m+1s old", ts.Add(5*time.Minute + time.Second), 0, false},
		{"5m+1s ahead", ts.Add(-5*time.Minute - time.Second), 0, false},
		{"negative tolerance is the default", ts.Add(4 * time.Minute), -time.Second, true},
		{"custom 30s, 31s old", ts.Add(31 * time.Second), 30 * time.Second, false},
		{"custom 30s, 31s ahead", ts.Add(-31 * time.Second), 30 * time.Second, false},
		{"custom 1h, 50m old", ts.Add(50 * time.Minute), time.Hour, true},
	} {
		err := signature.Verify(h, body, c.now, c.tolerance, testSecret)
		if c.ok && err != nil {
			t.Errorf("%s: Verify = %v", c.name, err)
		}
		if !c.ok && !errors.Is(err, signature.ErrTimestamp) {
			t.Errorf("%s: Verify = %v, want ErrTimestamp", c.name, err)
		}
	}
	// A zero now means the clock: a fresh signature passes, an old one not.
	fresh := signed(t, time.Now(), body)
	if err := signature.Verify(fresh, body, time.Time{}, 0, testSecret); err != nil {
		t.Errorf("Verify(zero now, fresh) = %v", err)
	}
	if err := signature.Verify(h, body, time.Time{}, 0, testSecret); !errors.Is(err, signature.ErrTimestamp) {
		t.Errorf("Verify(zero now, 2026 timestamp) = %v, want ErrTimestamp", err)
	}
}

const (
	testSecret = "test-secret-for-rejections"
	testID     = "0192f0e4-3c1a-7b2e-8c3d-4e5f60718293"
)

// signed returns the headers Sign makes with testSecret.
func signed(t testing.TB, ts time.Time, body []byte) http.Header {
	t.Helper()
	h := http.Header{}
	if err := signature.Sign(h, testID, "spec.created", ts, body, testSecret); err != nil {
		t.Fatal(err)
	}
	return h
}

// rejection is one request Verify must refuse, and the sentinel it must
// refuse it with.
type rejection struct {
	name    string
	edit    func(h http.Header) // changes the signed headers
	body    string              // replaces the body if not empty
	now     time.Duration       // offset of now from the signing time
	secrets []string            // replaces testSecret if not nil
	want    error
}

// rejections returns the table of refusals for requests signed by Sign with
// secret at the given time.
func rejections(secret string) []rejection {
	set := func(name, v string) func(http.Header) {
		return func(h http.Header) { h.Set(name, v) }
	}
	del := func(names ...string) func(http.Header) {
		return func(h http.Header) {
			for _, n := range names {
				h.Del(n)
			}
		}
	}
	otherSW := "v1," + base64.StdEncoding.EncodeToString(make([]byte, 32))
	return []rejection{
		{name: "tampered body", body: `{"type":"spec.deleted"}`, want: signature.ErrBadSignature},
		{name: "tampered body, GitHub only", edit: del(signature.HeaderWebhookSignature), body: `{"type":"spec.deleted"}`, want: signature.ErrBadSignature},
		{name: "wrong secret", secrets: []string{"wrong-secret"}, want: signature.ErrBadSignature},
		{name: "wrong secret, GitHub only", edit: del(signature.HeaderWebhookSignature), secrets: []string{"wrong-secret"}, want: signature.ErrBadSignature},
		{name: "6 minutes old", now: 6 * time.Minute, want: signature.ErrTimestamp},
		{name: "6 minutes in the future", now: -6 * time.Minute, want: signature.ErrTimestamp},
		{name: "6 minutes old, GitHub only", edit: del(signature.HeaderWebhookSignature, signature.HeaderWebhookTimestamp), now: 6 * time.Minute, want: signature.ErrTimestamp},
		{name: "6 minutes in the future, GitHub only", edit: del(signature.HeaderWebhookSignature, signature.HeaderWebhookTimestamp), now: -6 * time.Minute, want: signature.ErrTimestamp},
		{name: "no signature header", edit: del(signature.HeaderSpecKitSignature, signature.HeaderWebhookSignature), want: signature.ErrMissingHeader},
		{name: "empty signature headers", edit: func(h http.Header) {
			h.Set(signature.HeaderSpecKitSignature, "")
			h.Set(signature.HeaderWebhookSignature, "  ")
		}, want: signature.ErrMissingHeader},
		{name: "no webhook-id", edit: del(signature.HeaderWebhookID), want: signature.ErrMissingHeader},
		{name: "no webhook-timestamp", edit: del(signature.HeaderWebhookTimestamp), want: signature.ErrMissingHeader},
		{name: "no timestamp at all, GitHub only", edit: del(signature.HeaderWebhookSignature, signature.HeaderWebhookTimestamp, signature.HeaderSpecKitTimestamp), want: signature.ErrMissingHeader},
		{name: "unparsable webhook-timestamp", edit: set(signature.HeaderWebhookTimestamp, "yesterday"), want: signature.ErrTimestamp},
		{name: "signed webhook-timestamp", edit: set(signature.HeaderWebhookTimestamp, "+1767225600"), want: signature.ErrTimestamp},
		{name: "fractional X-SpecKit-Request-Timestamp", edit: set(signature.HeaderSpecKitTimestamp, "1767225600.5"), want: signature.ErrTimestamp},
		{name: "negative timestamp, GitHub only", edit: func(h http.Header) {
			del(signature.HeaderWebhookSignature, signature.HeaderWebhookTimestamp)(h)
			h.Set(signature.HeaderSpecKitTimestamp, "-1")
		}, want: signature.ErrTimestamp},
		{name: "timestamps disagree", edit: set(signature.HeaderSpecKitTimestamp, "1767225601"), want: signature.ErrTimestamp},
		{name: "timestamp changed in both headers", edit: func(h http.Header) {
			h.Set(signature.HeaderWebhookTimestamp, "1767225601")
			h.Set(signature.HeaderSpecKitTimestamp, "1767225601")
		}, want: signature.ErrBadSignature},
		{name: "webhook-id changed in both headers", edit: func(h http.Header) {
			h.Set(signature.HeaderWebhookID, "0192f0e4-3c1a-7b2e-8c3d-4e5f60718294")
			h.Set(signature.HeaderSpecKitID, "0192f0e4-3c1a-7b2e-8c3d-4e5f60718294")
		}, want: signature.ErrBadSignature},
		{name: "X-SpecKit-Id differs from webhook-id", edit: set(signature.HeaderSpecKitID, "another-id"), want: signature.ErrBadSignature},
		{name: "malformed webhook-signature", edit: set(signature.HeaderWebhookSignature, "garbage"), want: signature.ErrBadSignature},
		{name: "webhook-signature v1 not base64", edit: set(signature.HeaderWebhookSignature, "v1,not*base64!"), want: signature.ErrBadSignature},
		{name: "webhook-signature v1 too short", edit: set(signature.HeaderWebhookSignature, "v1,"+base64.StdEncoding.EncodeToString(make([]byte, 16))), want: signature.ErrBadSignature},
		{name: "webhook-signature v1 wrong", edit: set(signature.HeaderWebhookSignature, otherSW), want: signature.ErrBadSignature},
		{name: "v1a-only webhook-signature", edit: func(h http.Header) {
			sig := strings.TrimPrefix(h.Get(signature.HeaderWebhookSignature), "v1,")
			h.Set(signature.HeaderWebhookSignature, "v1a,"+sig)
		}, want: signature.ErrBadSignature},
		{name: "V1 uppercase only", edit: func(h http.Header) {
			h.Set(signature.HeaderWebhookSignature, "V1,"+strings.TrimPrefix(h.Get(signature.HeaderWebhookSignature), "v1,"))
		}, want: signature.ErrBadSignature},
		{name: "malformed X-SpecKit-Signature prefix", edit: func(h http.Header) {
			h.Set(signature.HeaderSpecKitSignature, "sha1="+strings.TrimPrefix(h.Get(signature.HeaderSpecKitSignature), "sha256="))
		}, want: signature.ErrBadSignature},
		{name: "malformed X-SpecKit-Signature hex", edit: set(signature.HeaderSpecKitSignature, "sha256=zz"), want: signature.ErrBadSignature},
		{name: "truncated X-SpecKit-Signature", edit: func(h http.Header) {
			h.Set(signature.HeaderSpecKitSignature, h.Get(signature.HeaderSpecKitSignature)[:40])
		}, want: signature.ErrBadSignature},
		{name: "X-SpecKit-Signature wrong, webhook-signature right", edit: set(signature.HeaderSpecKitSignature, signature.GitHubSignature("forged", []byte(`{}`))), want: signature.ErrBadSignature},
		{name: "webhook-signature wrong, X-SpecKit-Signature right", edit: set(signature.HeaderWebhookSignature, otherSW+" v1a,"+otherSW[3:]), want: signature.ErrBadSignature},
		{name: "no secret", secrets: []string{}, want: signature.ErrNoSecret},
		{name: "empty secret", secrets: []string{secret, ""}, want: signature.ErrNoSecret},
		{name: "malformed whsec_ secret", secrets: []string{secret, "whsec_" + secret + "%%"}, want: signature.ErrBadSecret},
		{name: "whsec_ secret with no key", secrets: []string{"whsec_"}, want: signature.ErrBadSecret},
	}
}

func TestVerifyRejects(t *testing.T) {
	ts := time.Unix(1767225600, 0)
	body := []byte(`{"type":"spec.created"}`)
	base := signed(t, ts, body)
	if err := signature.Verify(base, body, ts, 0, testSecret); err != nil {
		t.Fatalf("unedited request: Verify = %v", err)
	}
	for _, c := range rejections(testSecret) {
		t.Run(c.name, func(t *testing.T) {
			h := base.Clone()
			if c.edit != nil {
				c.edit(h)
			}
			b := body
			if c.body != "" {
				b = []byte(c.body)
			}
			secrets := []string{testSecret}
			if c.secrets != nil {
				secrets = c.secrets
			}
			err := signature.Verify(h, b, ts.Add(c.now), 0, secrets...)
			if !errors.Is(err, c.want) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}

func TestSignRejects(t *testing.T) {
	ts := time.Unix(1767225600, 0)
	for _, c := range []struct {
		name      string
		id, event string
		ts        time.Time
		secrets   []string
		want      error
	}{
		{"no secret", testID, "e", ts, nil, signature.ErrNoSecret},
		{"empty current secret", testID, "e", ts, []string{""}, signature.ErrNoSecret},
		{"empty previous secret", testID, "e", ts, []string{"a", ""}, signature.ErrNoSecret},
		{"malformed whsec_", testID, "e", ts, []string{"whsec_not base64"}, signature.ErrBadSecret},
		{"empty whsec_", testID, "e", ts, []string{"whsec_"}, signature.ErrBadSecret},
		{"empty id", "", "e", ts, []string{"a"}, signature.ErrBadHeaderValue},
		{"id with a dot", "msg.1", "e", ts, []string{"a"}, signature.ErrBadHeaderValue},
		{"id with a space", "msg 1", "e", ts, []string{"a"}, signature.ErrBadHeaderValue},
		{"id with a newline", "msg\r\nX-Evil: 1", "e", ts, []string{"a"}, signature.ErrBadHeaderValue},
		{"empty event", testID, "", ts, []string{"a"}, signature.ErrBadHeaderValue},
		{"event with a control byte", testID, "spec\x00created", ts, []string{"a"}, signature.ErrBadHeaderValue},
		{"time before the epoch", testID, "e", time.Unix(-1, 0), []string{"a"}, signature.ErrTimestamp},
	} {
		err := signature.Sign(http.Header{}, c.id, c.event, c.ts, []byte("{}"), c.secrets...)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: Sign = %v, want %v", c.name, err, c.want)
		}
	}
}

// TestSecretsNeverInErrors drives every error path with distinctive
// secrets and checks that no error text contains a secret, its whsec_
// payload or the key it decodes to, or any long piece of them.
func TestSecretsNeverInErrors(t *testing.T) {
	const rawCanary = "CANARY-raw-5b1d7e0c93a4f628-secret"
	keyCanary := "CANARY-key-e81f4a07c2d95b36-bytes"
	b64 := base64.StdEncoding.EncodeToString([]byte(keyCanary))
	whsecCanary := "whsec_" + b64
	badWhsec := "whsec_" + rawCanary + "==="
	forbidden := []string{rawCanary, keyCanary, b64, whsecCanary, badWhsec, "5b1d7e0c93a4f628", "e81f4a07c2d95b36"}

	ts := time.Unix(1767225600, 0)
	body := []byte(`{"type":"spec.created"}`)
	var errs []error
	for _, secret := range []string{rawCanary, whsecCanary} {
		h := http.Header{}
		if err := signature.Sign(h, testID, "spec.created", ts, body, secret); err != nil {
			t.Fatal(err)
		}
		for _, c := range rejections(secret) {
			hh := h.Clone()
			if c.edit != nil {
				c.edit(hh)
			}
			b := body
			if c.body != "" {
				b = []byte(c.body)
			}
			secrets := []string{secret}
			if c.secrets != nil {
				secrets = c.secrets
			}
			errs = append(errs, signature.Verify(hh, b, ts.Add(c.now), 0, secrets...))
		}
		for _, bad := range [][]string{nil, {""}, {secret, ""}, {badWhsec}, {secret, badWhsec}, {"whsec_"}} {
			errs = append(errs,
				signature.Sign(http.Header{}, testID, "e", ts, body, bad...),
				signature.Verify(h, body, ts, 0, bad...))
			if len(bad) > 0 {
				_, err := signature.StandardSignature(bad[len(bad)-1], testID, ts.Unix(), body)
				errs = append(errs, err)
			}
		}
		// Inputs that carry the secret itself must not be echoed either.
		for _, id := range []string{"", "a.b", "a b", secret + ".x", secret + " ", secret + "\n"} {
			errs = append(errs, signature.Sign(http.Header{}, id, "e", ts, body, secret))
			_, err := signature.StandardSignature(secret, id, ts.Unix(), body)
			errs = append(errs, err)
		}
		errs = append(errs,
			signature.Sign(http.Header{}, testID, "", ts, body, secret),
			signature.Sign(http.Header{}, testID, "bad event "+secret, ts, body, secret),
			signature.Sign(http.Header{}, testID, "e", time.Unix(-5, 0), body, secret))
		_, err := signature.StandardSignature(secret, testID, -5, body)
		errs = append(errs, err)
	}

	covered := map[error]bool{}
	sentinels := []error{signature.ErrNoSecret, signature.ErrBadSecret, signature.ErrBadHeaderValue,
		signature.ErrMissingHeader, signature.ErrBadSignature, signature.ErrTimestamp}
	for i, err := range errs {
		if err == nil {
			t.Errorf("call %d: got no error; every call here must fail", i)
			continue
		}
		msg := err.Error()
		for _, f := range forbidden {
			if strings.Contains(msg, f) {
				t.Errorf("error %d leaks %q: %s", i, f, msg)
			}
		}
		for _, s := range sentinels {
			if errors.Is(err, s) {
				covered[s] = true
			}
		}
	}
	for _, s := range sentinels {
		if !covered[s] {
			t.Errorf("no error path wrapping %q was exercised", s)
		}
	}
	if len(errs) < 100 {
		t.Errorf("only %d error paths exercised, want at least 100", len(errs))
	}
}

// canonical returns h with canonical keys, as net/http hands them to a
// handler; literal maps with lowercase keys are not.
func canonical(h http.Header) http.Header {
	out := http.Header{}
	for k, vs := range h {
		for _, v := range vs {
			out.Add(k, v)
		}
	}
	return out
}

func BenchmarkSign2KB(b *testing.B) {
	body := []byte(strings.Repeat(`{"k":"v"},`, 205)[:2048])
	ts := time.Unix(1767225600, 0)
	h := http.Header{}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := signature.Sign(h, testID, "spec.created", ts, body, swSecret); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSign2KBRotating(b *testing.B) {
	body := []byte(strings.Repeat(`{"k":"v"},`, 205)[:2048])
	ts := time.Unix(1767225600, 0)
	h := http.Header{}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := signature.Sign(h, testID, "spec.created", ts, body, swSecret, testSecret); err != nil {
			b.Fatal(err)
		}
	}
}
