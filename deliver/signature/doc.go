// Package signature owns the two signature schemes outbox puts on every
// webhook request: it signs outgoing requests (Sign) and verifies received
// ones (Verify), so receivers written in Go can import it instead of
// re-implementing either scheme.
//
// Every request carries both schemes. The first is the Spec-Kit PRD's,
// GitHub style:
//
//	X-SpecKit-Signature: sha256=<lowercase hex HMAC-SHA256(secret, body)>
//	X-SpecKit-Request-Timestamp: <unix seconds>
//	X-SpecKit-Id: <delivery id>
//	X-SpecKit-Event: <event type>
//
// Its HMAC key is the secret string's bytes exactly as configured (a whsec_
// prefix, if any, included), as with GitHub's X-Hub-Signature-256. The MAC
// covers the body only: the timestamp is sent but not authenticated by this
// scheme.
//
// The second is Standard Webhooks (https://www.standardwebhooks.com):
//
//	webhook-id: <delivery id>
//	webhook-timestamp: <unix seconds>
//	webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>
//
// webhook-signature holds one space-separated entry per active secret, so a
// receiver keeps working while a secret is rotated. The key is derived from
// the secret: a secret that begins with "whsec_" is the standard base64
// encoding (after the prefix) of the key bytes, as the specification
// serialises secrets; any other secret is used as its raw bytes. The
// reference libraries base64-decode every secret, prefixed or not; this
// package decodes only prefixed ones, so a plain passphrase works unchanged
// for both schemes.
//
// Verification compares MACs in constant time (hmac.Equal), accepts a
// webhook-signature when any v1 entry matches any of the given secrets
// (entries of other versions, such as the asymmetric v1a, are ignored), and
// rejects timestamps outside a tolerance (DefaultTolerance) in either
// direction. Each scheme present on a request must verify, with one
// exception that keeps rotation working (see Verify).
//
// This package never logs, stores or prints a secret or a key: no error it
// returns contains a secret, any part of one, or a key derived from one;
// errors name the check that failed and, at most, a secret's position in the
// argument list. It performs no I/O.
package signature
