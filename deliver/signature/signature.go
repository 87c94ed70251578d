package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// Header names. Standard Webhooks names are lowercase as the specification
// spells them; http.Header canonicalises them (Webhook-Id, ...) and HTTP
// header names are case-insensitive, so Get works with either spelling.
const (
	HeaderSpecKitSignature = "X-SpecKit-Signature"
	HeaderSpecKitTimestamp = "X-SpecKit-Request-Timestamp"
	HeaderSpecKitID        = "X-SpecKit-Id"
	HeaderSpecKitEvent     = "X-SpecKit-Event"
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
)

// DefaultTolerance is how far a request timestamp may lie in the past or in
// the future when Verify is given no tolerance.
const DefaultTolerance = 5 * time.Minute

// standardSecretPrefix marks a base64-encoded Standard Webhooks secret.
const standardSecretPrefix = "whsec_"

// Sentinel errors. Every error this package returns wraps exactly one of
// them; none contains a secret or a key.
var (
	// ErrNoSecret: no secret was given, or one of them is empty.
	ErrNoSecret = errors.New("no signing secret")
	// ErrBadSecret: a whsec_ secret is not valid base64 or encodes no key.
	ErrBadSecret = errors.New("malformed signing secret")
	// ErrBadHeaderValue: Sign was given an id or event it cannot send
	// intact (empty, or not printable ASCII without spaces; an id also must
	// not contain '.', which delimits the Standard Webhooks signed content).
	ErrBadHeaderValue = errors.New("invalid header value")
	// ErrMissingHeader: a header that Verify needs is absent.
	ErrMissingHeader = errors.New("missing signature header")
	// ErrBadSignature: a signature header is malformed, holds no usable
	// signature, or matches none of the secrets.
	ErrBadSignature = errors.New("signature does not verify")
	// ErrTimestamp: a timestamp is unparsable, too old, too new, or the two
	// timestamp headers disagree.
	ErrTimestamp = errors.New("bad request timestamp")
)

// Sign sets every signature header on h for one request: the four
// X-SpecKit-* headers and the three Standard Webhooks headers. id is the
// delivery id (sent as X-SpecKit-Id and webhook-id), event the event type,
// ts the time of this attempt (sent as unix seconds) and body the exact bytes
// that will be sent.
//
// secrets[0] is the current secret: it signs X-SpecKit-Signature and the
// first webhook-signature entry. Each further secret (a previous one, while
// a secret is being rotated) adds one more webhook-signature entry, so a
// receiver still holding only the previous secret keeps verifying.
//
// Sign validates everything before it touches h, so on error h is left
// unchanged. It fails with ErrNoSecret when no secret or an empty one is
// given, ErrBadSecret for a malformed whsec_ secret, ErrBadHeaderValue for
// an unusable id or event, and ErrTimestamp for a ts before the Unix epoch.
// h must not be nil.
func Sign(h http.Header, id, event string, ts time.Time, body []byte, secrets ...string) error {
	if err := checkID(id); err != nil {
		return err
	}
	if err := checkToken(event); err != nil {
		return fmt.Errorf("%w: event %v", ErrBadHeaderValue, err)
	}
	unix := ts.Unix()
	if unix < 0 {
		return fmt.Errorf("%w: %d is before the Unix epoch", ErrTimestamp, unix)
	}
	if len(secrets) == 0 {
		return fmt.Errorf("%w: none given", ErrNoSecret)
	}
	var keyArr [2]string
	keys := keyArr[:0]
	for i, s := range secrets {
		k, err := standardKeyString(s)
		if err != nil {
			return fmt.Errorf("secret %d of %d: %w", i+1, len(secrets), err)
		}
		keys = append(keys, k)
	}
	set := macSets.Get().(*macSet)
	all, ghEnd, stampEnd := set.signatures(secrets[0], keys, id, unix, body)
	macSets.Put(set)

	// h.Set for each header, with the keys canonicalised once and the
	// values in one backing array: Sign runs for every delivery attempt.
	stamp := all[ghEnd:stampEnd]
	vals := [...]string{all[:ghEnd], stamp, id, event, id, stamp, all[stampEnd:]}
	for i, k := range signedHeaderKeys {
		h[k] = vals[i : i+1 : i+1]
	}
	return nil
}

// signedHeaderKeys are the canonical forms of the headers Sign sets, in
// the order of its values.
var signedHeaderKeys = [...]string{
	textproto.CanonicalMIMEHeaderKey(HeaderSpecKitSignature),
	textproto.CanonicalMIMEHeaderKey(HeaderSpecKitTimestamp),
	textproto.CanonicalMIMEHeaderKey(HeaderSpecKitID),
	textproto.CanonicalMIMEHeaderKey(HeaderSpecKitEvent),
	textproto.CanonicalMIMEHeaderKey(HeaderWebhookID),
	textproto.CanonicalMIMEHeaderKey(HeaderWebhookTimestamp),
	textproto.CanonicalMIMEHeaderKey(HeaderWebhookSignature),
}

// GitHubSignature returns the X-SpecKit-Signature value for body:
// "sha256=" and the lowercase hex HMAC-SHA256 of body keyed with the bytes
// of secret exactly as given. It accepts any secret, even an empty one;
// Sign and Verify are the ones that refuse empty secrets.
func GitHubSignature(secret string, body []byte) string {
	return "sha256=" + hex.EncodeToString(gitHubMAC(secret, body))
}

// StandardSignature returns one webhook-signature entry, "v1," and the
// standard base64 HMAC-SHA256 of "<id>.<ts>.<body>", keyed as described in
// the package documentation (whsec_ secrets are base64-decoded, others used
// raw). It refuses what Sign refuses: an empty or malformed secret, an
// unusable id, a negative ts.
func StandardSignature(secret, id string, ts int64, body []byte) (string, error) {
	if err := checkID(id); err != nil {
		return "", err
	}
	if ts < 0 {
		return "", fmt.Errorf("%w: %d is before the Unix epoch", ErrTimestamp, ts)
	}
	key, err := standardKey(secret)
	if err != nil {
		return "", err
	}
	return "v1," + base64.StdEncoding.EncodeToString(standardMAC(key, id, ts, body)), nil
}

// Verify checks the signature headers of a received request whose body is
// body, against the secrets the receiver currently accepts (several during a
// rotation; any one of them may match).
//
// At least one of X-SpecKit-Signature and webhook-signature must be
// present, and each one present must verify:
//
//   - webhook-signature needs webhook-id and webhook-timestamp; it verifies
//     when any of its v1 entries matches any secret. Entries of other
//     versions (v1a, v2, ...) are ignored, so a header with no v1 entry
//     fails.
//   - X-SpecKit-Signature must be "sha256=<hex>" matching any secret.
//
// One exception keeps rotation working for a receiver that still holds only
// the previous secret: X-SpecKit-Signature is made with the sender's current
// secret only, which also makes the first webhook-signature entry (see Sign).
// So when webhook-signature verifies but no secret matches its first v1
// entry, the receiver cannot hold the sender's current secret and
// X-SpecKit-Signature is not checked. Nothing is lost: webhook-signature
// authenticates the body as well as the id and timestamp.
//
// The request time is webhook-timestamp, or X-SpecKit-Request-Timestamp when
// webhook-timestamp is absent; it must lie within tolerance of now, in the
// past or in the future. If both timestamp headers are present they must be
// equal, and if both X-SpecKit-Id and webhook-id are present they must be
// equal, since no MAC covers those X-SpecKit headers. When only
// X-SpecKit-Signature is present the timestamp is not authenticated, so the
// tolerance check alone does not stop a replay; prefer webhook-signature.
//
// A tolerance of zero or less means DefaultTolerance; a zero now means
// time.Now(). Verify returns nil, or an error wrapping ErrNoSecret or
// ErrBadSecret (the secrets), ErrMissingHeader, ErrTimestamp or
// ErrBadSignature, whose text names the check that failed.
func Verify(h http.Header, body []byte, now time.Time, tolerance time.Duration, secrets ...string) error {
	keys, err := standardKeys(secrets)
	if err != nil {
		return err
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if now.IsZero() {
		now = time.Now()
	}

	gitHubSig := h.Get(HeaderSpecKitSignature)
	var entries []string
	for _, v := range h.Values(HeaderWebhookSignature) {
		entries = append(entries, strings.Fields(v)...)
	}
	if gitHubSig == "" && len(entries) == 0 {
		return fmt.Errorf("%w: neither %s nor %s is present", ErrMissingHeader, HeaderSpecKitSignature, HeaderWebhookSignature)
	}

	var id string
	if len(entries) > 0 {
		if id = h.Get(HeaderWebhookID); id == "" {
			return fmt.Errorf("%w: %s is present without %s", ErrMissingHeader, HeaderWebhookSignature, HeaderWebhookID)
		}
		if h.Get(HeaderWebhookTimestamp) == "" {
			return fmt.Errorf("%w: %s is present without %s", ErrMissingHeader, HeaderWebhookSignature, HeaderWebhookTimestamp)
		}
		if sk := h.Get(HeaderSpecKitID); sk != "" && sk != id {
			return fmt.Errorf("%w: %s differs from the signed %s", ErrBadSignature, HeaderSpecKitID, HeaderWebhookID)
		}
		if strings.Contains(id, ".") {
			// The signed content is id.timestamp.body: a dot in the id
			// would let its parts shift. Sign never makes such an id.
			return fmt.Errorf("%w: %s contains '.'", ErrBadSignature, HeaderWebhookID)
		}
	}

	unix, err := requestTime(h)
	if err != nil {
		return err
	}
	if err := checkFresh(unix, now, tolerance); err != nil {
		return err
	}

	checkGitHub := gitHubSig != ""
	if len(entries) > 0 {
		holdsCurrent, err := verifyStandard(entries, id, unix, body, keys)
		if err != nil {
			return err
		}
		checkGitHub = checkGitHub && holdsCurrent
	}
	if checkGitHub {
		if err := verifyGitHub(gitHubSig, body, secrets); err != nil {
			return err
		}
	}
	return nil
}

// requestTime returns the request's unix time: webhook-timestamp, else
// X-SpecKit-Request-Timestamp; both must parse and agree when both are set.
func requestTime(h http.Header) (int64, error) {
	var (
		unix  int64
		found bool
	)
	for _, name := range []string{HeaderWebhookTimestamp, HeaderSpecKitTimestamp} {
		v := h.Get(name)
		if v == "" {
			continue
		}
		t, ok := parseUnix(v)
		if !ok {
			return 0, fmt.Errorf("%w: %s is not unix seconds", ErrTimestamp, name)
		}
		if found && t != unix {
			return 0, fmt.Errorf("%w: %s differs from %s", ErrTimestamp, HeaderSpecKitTimestamp, HeaderWebhookTimestamp)
		}
		unix, found = t, true
	}
	if !found {
		return 0, fmt.Errorf("%w: neither %s nor %s is present", ErrMissingHeader, HeaderWebhookTimestamp, HeaderSpecKitTimestamp)
	}
	return unix, nil
}

// parseUnix parses non-negative decimal unix seconds, digits only.
func parseUnix(s string) (int64, bool) {
	if s == "" || len(s) > 19 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// checkFresh rejects a unix time more than tolerance before or after now.
func checkFresh(unix int64, now time.Time, tolerance time.Duration) error {
	t := time.Unix(unix, 0)
	if age := now.Sub(t); age > tolerance {
		return fmt.Errorf("%w: too old: %v before now, tolerance %v", ErrTimestamp, age.Truncate(time.Second), tolerance)
	}
	if ahead := t.Sub(now); ahead > tolerance {
		return fmt.Errorf("%w: too new: %v after now, tolerance %v", ErrTimestamp, ahead.Truncate(time.Second), tolerance)
	}
	return nil
}

// verifyStandard accepts when any v1 entry matches any key. holdsCurrent
// reports whether a key matches the first v1 entry, the one Sign makes with
// the sender's current secret.
func verifyStandard(entries []string, id string, unix int64, body []byte, keys [][]byte) (holdsCurrent bool, err error) {
	want := make([][]byte, len(keys))
	for i, k := range keys {
		want[i] = standardMAC(k, id, unix, body)
	}
	var v1, malformed int
	first := true
	for _, e := range entries {
		version, sig, ok := strings.Cut(e, ",")
		if !ok {
			malformed++
			continue
		}
		if version != "v1" {
			continue // another scheme (v1a is ed25519): not ours to check
		}
		isFirst := first
		first = false
		mac, err := base64.StdEncoding.DecodeString(sig)
		if err != nil || len(mac) != sha256.Size {
			malformed++
			continue
		}
		v1++
		for _, w := range want {
			if hmac.Equal(mac, w) {
				// Entries are tried in order, so a later match means the
				// first v1 entry matched no key.
				return isFirst, nil
			}
		}
	}
	switch {
	case v1 > 0:
		return false, fmt.Errorf("%w: no v1 entry of %s matches", ErrBadSignature, HeaderWebhookSignature)
	case malformed > 0:
		return false, fmt.Errorf("%w: %s is malformed", ErrBadSignature, HeaderWebhookSignature)
	default:
		return false, fmt.Errorf("%w: %s has no v1 entry", ErrBadSignature, HeaderWebhookSignature)
	}
}

// verifyGitHub accepts "sha256=<hex>" matching the MAC of any secret.
func verifyGitHub(header string, body []byte, secrets []string) error {
	digits, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return fmt.Errorf("%w: %s is not sha256=<hex>", ErrBadSignature, HeaderSpecKitSignature)
	}
	mac, err := hex.DecodeString(digits)
	if err != nil || len(mac) != sha256.Size {
		return fmt.Errorf("%w: %s is not sha256=<hex>", ErrBadSignature, HeaderSpecKitSignature)
	}
	for _, s := range secrets {
		if hmac.Equal(mac, gitHubMAC(s, body)) {
			return nil
		}
	}
	return fmt.Errorf("%w: %s does not match", ErrBadSignature, HeaderSpecKitSignature)
}

// gitHubMAC is HMAC-SHA256(secret as given, body).
func gitHubMAC(secret string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return m.Sum(nil)
}

// standardMAC is HMAC-SHA256(key, "<id>.<unix>.<body>").
func standardMAC(key []byte, id string, unix int64, body []byte) []byte {
	prefix := make([]byte, 0, len(id)+22)
	prefix = append(prefix, id...)
	prefix = append(prefix, '.')
	prefix = strconv.AppendInt(prefix, unix, 10)
	prefix = append(prefix, '.')
	m := hmac.New(sha256.New, key)
	m.Write(prefix)
	m.Write(body)
	return m.Sum(nil)
}

// standardKeys derives the Standard Webhooks key of every secret; at least
// one secret is required. Errors give a secret's position, never its value.
func standardKeys(secrets []string) ([][]byte, error) {
	if len(secrets) == 0 {
		return nil, fmt.Errorf("%w: none given", ErrNoSecret)
	}
	keys := make([][]byte, len(secrets))
	for i, s := range secrets {
		k, err := standardKey(s)
		if err != nil {
			return nil, fmt.Errorf("secret %d of %d: %w", i+1, len(secrets), err)
		}
		keys[i] = k
	}
	return keys, nil
}

// standardKey derives the Standard Webhooks key of one secret: the base64
// decoding of what follows "whsec_", else the secret's own bytes. The
// decoder's error is dropped on purpose: its text is not needed, and no
// detail about the secret's content belongs in an error.
func standardKey(secret string) ([]byte, error) {
	k, err := standardKeyString(secret)
	if err != nil {
		return nil, err
	}
	return []byte(k), nil
}

// standardKeyString is standardKey as a string: a secret without the
// prefix is its own key, with no copy.
func standardKeyString(secret string) (string, error) {
	if secret == "" {
		return "", fmt.Errorf("%w: empty", ErrNoSecret)
	}
	encoded, ok := strings.CutPrefix(secret, standardSecretPrefix)
	if !ok {
		return secret, nil
	}
	key, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return "", fmt.Errorf("%w: the text after %s is not standard base64", ErrBadSecret, standardSecretPrefix)
	}
	if len(key) == 0 {
		return "", fmt.Errorf("%w: %s with no key after it", ErrBadSecret, standardSecretPrefix)
	}
	return string(key), nil
}

// checkID accepts an id that survives as a header value and as the first
// field of the Standard Webhooks signed content.
func checkID(id string) error {
	if err := checkToken(id); err != nil {
		return fmt.Errorf("%w: id %v", ErrBadHeaderValue, err)
	}
	if strings.Contains(id, ".") {
		return fmt.Errorf("%w: id contains '.'", ErrBadHeaderValue)
	}
	return nil
}

// checkToken reports why s cannot be sent unchanged as a header value: it
// must be non-empty printable ASCII without spaces (HTTP trims surrounding
// whitespace and forbids control characters).
func checkToken(s string) error {
	if s == "" {
		return errors.New("is empty")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			return fmt.Errorf("has byte 0x%02x at offset %d, want printable ASCII without spaces", c, i)
		}
	}
	return nil
}
