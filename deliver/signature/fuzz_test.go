package signature

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

var fuzzSentinels = []error{ErrNoSecret, ErrBadSecret, ErrBadHeaderValue, ErrMissingHeader, ErrBadSignature, ErrTimestamp}

// fuzzCheckSentinel fails unless err wraps exactly one sentinel error, as
// the package documentation promises.
func fuzzCheckSentinel(t *testing.T, what string, err error) {
	t.Helper()
	n := 0
	for _, s := range fuzzSentinels {
		if errors.Is(err, s) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%s: error %q wraps %d sentinels, want exactly one", what, err, n)
	}
}

// fuzzSecrets is the secret list of a fuzz input: secret, then prev unless
// it is empty.
func fuzzSecrets(secret, prev string) []string {
	if prev == "" {
		return []string{secret}
	}
	return []string{secret, prev}
}

// FuzzVerify: Verify never panics on any headers, body and secrets; a
// refusal wraps exactly one sentinel and never shows a secret; an
// acceptance means the request does carry a MAC of one of the secrets over
// exactly this body (and id and timestamp, for webhook-signature), made at
// a time within tolerance of now.
func FuzzVerify(f *testing.F) {
	const (
		id     = "0192f0e4-3c1a-7b2e-8c3d-4e5f60718293"
		secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		prev   = "old-raw-secret"
	)
	ts := time.Unix(1_800_000_000, 0)
	for _, body := range []string{`{"event":"spec-auto.stage.completed","status":"success"}`, "", "\x00\xff"} {
		for _, secrets := range [][]string{{secret}, {secret, prev}, {prev}} {
			h := http.Header{}
			if err := Sign(h, id, "spec-auto.stage.completed", ts, []byte(body), secrets...); err != nil {
				f.Fatal(err)
			}
			f.Add(h.Get(HeaderSpecKitSignature), h.Get(HeaderSpecKitTimestamp), h.Get(HeaderSpecKitID),
				h.Get(HeaderWebhookID), h.Get(HeaderWebhookTimestamp), h.Get(HeaderWebhookSignature),
				[]byte(body), secret, prev, ts.Unix()+30, int64(0))
		}
	}
	// The Standard Webhooks test vector, and GitHub's, alone.
	f.Add("", "", "", "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330",
		"v1a,xx v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
		[]byte(`{"test": 2432232314}`), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "", int64(1614265330), int64(60))
	f.Add("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", "1700000000", "", "", "", "",
		[]byte("Hello, World!"), "It's a Secret to Everybody", "", int64(1700000000-299), int64(0))
	f.Add("sha256=", "99999999999999999999", "x", "", "-1", "v1,\nv1,====", []byte(nil), "whsec_", "whsec_!!", int64(-1), int64(-1))

	f.Fuzz(func(t *testing.T, ghSig, skTS, skID, whID, whTS, whSig string, body []byte, secret, prev string, nowUnix, tolSec int64) {
		h := http.Header{}
		for _, kv := range [][2]string{
			{HeaderSpecKitSignature, ghSig}, {HeaderSpecKitTimestamp, skTS}, {HeaderSpecKitID, skID},
			{HeaderWebhookID, whID}, {HeaderWebhookTimestamp, whTS},
		} {
			if kv[1] != "" {
				h.Set(kv[0], kv[1])
			}
		}
		if whSig != "" {
			for v := range strings.SplitSeq(whSig, "\n") { // several header lines
				h.Add(HeaderWebhookSignature, v)
			}
		}
		secrets := fuzzSecrets(secret, prev)
		now := time.Unix(nowUnix, 0)
		tolerance := time.Duration(tolSec) * time.Second

		err := Verify(h, body, now, tolerance, secrets...)
		if err != nil {
			fuzzCheckSentinel(t, "Verify", err)
		} else {
			fuzzCheckAccepted(t, h, body, now, tolerance, secrets)
		}

		// The same request checked with secrets that hold a marker: no
		// error may show it, whether the secret is raw or whsec_.
		const marker = "Zq7marker"
		for _, s := range []string{marker + secret, standardSecretPrefix + marker + secret} {
			if err := Verify(h, body, now, tolerance, s); err != nil {
				fuzzCheckSentinel(t, "Verify with a marked secret", err)
				if strings.Contains(err.Error(), marker) {
					t.Fatalf("error shows the secret: %v", err)
				}
			}
		}
	})
}

// fuzzCheckAccepted fails unless the request Verify accepted carries a
// matching MAC made within tolerance of now.
func fuzzCheckAccepted(t *testing.T, h http.Header, body []byte, now time.Time, tolerance time.Duration, secrets []string) {
	t.Helper()
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	stamp := h.Get(HeaderWebhookTimestamp)
	if stamp == "" {
		stamp = h.Get(HeaderSpecKitTimestamp)
	}
	unix, ok := parseUnix(stamp)
	if !ok {
		t.Fatalf("accepted a request whose timestamp %q is not unix seconds", stamp)
	}
	if d := now.Sub(time.Unix(unix, 0)); d > tolerance || d < -tolerance {
		t.Fatalf("accepted a request %v away from now, tolerance %v", d, tolerance)
	}
	var entries []string
	for _, v := range h.Values(HeaderWebhookSignature) {
		entries = append(entries, strings.Fields(v)...)
	}
	if len(entries) > 0 {
		id := h.Get(HeaderWebhookID)
		for _, s := range secrets {
			key, err := standardKey(s)
			if err != nil {
				t.Fatalf("accepted with a secret standardKey refuses: %v", err)
			}
			want := standardMAC(key, id, unix, body)
			for _, e := range entries {
				if sig, ok := strings.CutPrefix(e, "v1,"); ok {
					if mac, err := base64.StdEncoding.DecodeString(sig); err == nil && hmac.Equal(mac, want) {
						return
					}
				}
			}
		}
		t.Fatalf("accepted webhook-signature %q, which holds no MAC of any secret", entries)
	}
	mac, err := hex.DecodeString(strings.TrimPrefix(h.Get(HeaderSpecKitSignature), "sha256="))
	if err == nil {
		for _, s := range secrets {
			if hmac.Equal(mac, gitHubMAC(s, body)) {
				return
			}
		}
	}
	t.Fatalf("accepted %s %q, which is no MAC of any secret", HeaderSpecKitSignature, h.Get(HeaderSpecKitSignature))
}

// FuzzSignVerify: Sign refuses exactly the ids, events, times and secrets
// it documents as unusable, leaving the headers untouched; what it signs,
// Verify accepts (all headers, each scheme alone, and with only the
// previous secret during a rotation); flipping any one body byte, changing
// the id or the signed timestamp, or using another secret makes Verify
// refuse.
func FuzzSignVerify(f *testing.F) {
	f.Add("0192f0e4-3c1a-7b2e-8c3d-4e5f60718293", "spec-auto.stage.completed", int64(1_800_000_000),
		[]byte(`{"status":"success"}`), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "", uint(3), byte(1))
	f.Add("msg_p5jXN8AQM9LWM0D4loKWxJek", "spec-kit.ping", int64(1614265330),
		[]byte(`{"test": 2432232314}`), "new-secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", uint(0), byte(0x80))
	f.Add("a", "e", int64(0), []byte{}, "s", "s", uint(0), byte(0))
	f.Add("bad id", "e", int64(-1), []byte("x"), "whsec_!!", "", uint(9), byte(0xff))
	f.Add("a.b", "", int64(1), []byte("x"), "", "whsec_", uint(1), byte(2))

	f.Fuzz(func(t *testing.T, id, ev string, unix int64, body []byte, secret, prev string, at uint, bit byte) {
		secrets := fuzzSecrets(secret, prev)
		ts := time.Unix(unix, 0)
		stamp := ts.Unix() // what Sign sends
		h := http.Header{}
		err := Sign(h, id, ev, ts, body, secrets...)

		valid := checkID(id) == nil && checkToken(ev) == nil && stamp >= 0
		var keys [][]byte
		for _, s := range secrets {
			k, kerr := standardKey(s)
			if kerr != nil {
				valid = false
			}
			keys = append(keys, k)
		}
		if err != nil {
			fuzzCheckSentinel(t, "Sign", err)
			if valid {
				t.Fatalf("Sign refused a valid request: %v", err)
			}
			if len(h) != 0 {
				t.Fatalf("Sign failed but set headers: %v", h)
			}
			return
		}
		if !valid {
			t.Fatalf("Sign accepted id %q, event %q, time %d, secrets %q", id, ev, stamp, secrets)
		}

		verify := func(what string, h http.Header, body []byte, secrets ...string) error {
			t.Helper()
			err := Verify(h, body, ts, 0, secrets...)
			if err != nil {
				fuzzCheckSentinel(t, what, err)
			}
			return err
		}
		onlyStandard, onlyGitHub := h.Clone(), h.Clone()
		onlyStandard.Del(HeaderSpecKitSignature)
		for _, k := range []string{HeaderWebhookID, HeaderWebhookTimestamp, HeaderWebhookSignature} {
			onlyGitHub.Del(k)
		}
		variants := []struct {
			name string
			h    http.Header
		}{{"all headers", h}, {"webhook-signature alone", onlyStandard}, {"X-SpecKit-Signature alone", onlyGitHub}}
		for _, v := range variants {
			if err := verify(v.name, v.h, body, secrets...); err != nil {
				t.Fatalf("%s: Verify refused what Sign signed: %v", v.name, err)
			}
		}
		if prev != "" && !sameStandardKey(secret, prev) {
			// A receiver still holding only the previous secret. (A
			// previous secret whose key is the current one's, such as
			// "\xd3" after "whsec_0w==", verifies the first
			// webhook-signature entry, so it is taken for the current
			// secret and must verify X-SpecKit-Signature too, which it
			// cannot: Verify refuses, as it should.)
			if err := verify("previous secret", h, body, prev); err != nil {
				t.Fatalf("Verify with the previous secret: %v", err)
			}
		}

		if len(body) > 0 {
			i := at % uint(len(body))
			bad := append([]byte(nil), body...)
			bad[i] ^= max(bit, 1)
			for _, v := range variants {
				if err := verify(v.name+", flipped body", v.h, bad, secrets...); !errors.Is(err, ErrBadSignature) {
					t.Fatalf("%s: body byte %d flipped: Verify = %v, want ErrBadSignature", v.name, i, err)
				}
			}
		}

		// Another id or timestamp under webhook-signature (which signs
		// them).
		otherID := onlyStandard.Clone()
		otherID.Set(HeaderWebhookID, id+"0")
		if err := verify("other id", otherID, body, secrets...); err == nil {
			t.Fatal("Verify accepted webhook-signature under another webhook-id")
		}
		if stamp < math.MaxInt64 {
			otherTS := onlyStandard.Clone()
			otherTS.Set(HeaderWebhookTimestamp, strconv.FormatInt(stamp+1, 10))
			otherTS.Set(HeaderSpecKitTimestamp, strconv.FormatInt(stamp+1, 10))
			if err := verify("other timestamp", otherTS, body, secrets...); err == nil {
				t.Fatal("Verify accepted webhook-signature under another timestamp")
			}
		}

		// A secret the sender did not use (unless it happens to make the
		// same Standard Webhooks MAC as one it did, as "s" and "s\x00" do).
		wrong := secret + "x"
		if kw, err := standardKey(wrong); err == nil {
			mac := standardMAC(kw, id, stamp, body)
			for _, k := range keys {
				if hmac.Equal(mac, standardMAC(k, id, stamp, body)) {
					return
				}
			}
		}
		if err := verify("wrong secret", h, body, wrong); err == nil {
			t.Fatal("Verify accepted a secret the sender did not use")
		}
	})
}

// sameStandardKey reports whether two secrets, both valid, have the same
// Standard Webhooks key.
func sameStandardKey(a, b string) bool {
	ka, erra := standardKey(a)
	kb, errb := standardKey(b)
	return erra == nil && errb == nil && string(ka) == string(kb)
}
