// Package send owns one HTTP delivery attempt and the retry policy.
//
// One attempt (Client.Send) signs the request at send time with
// [signature.Sign], applies the HTTP policy, reads the response and
// classifies the outcome. The retry policy (Policy.Next, ParseRetryAfter)
// turns that outcome into a final class and the next due time: outcome
// classes, exponential backoff with jitter, Retry-After, maximum attempts
// and maximum age.
//
// The package never writes files or the ledger; that is the caller's job.
// Everything it returns is meant to be recorded in the ledger, which is
// committed to git, so no error message and no Result field ever holds the
// subscription URL (URLs can carry tokens in their path, query or userinfo),
// a secret, or a full response body. Result.Host, the URL's host and port,
// is the only part of the URL that may be logged.
//
// # HTTP policy
//
//   - https only. Plain http is allowed to loopback hosts (127.0.0.0/8, ::1,
//     "localhost") and, with Request.AllowHTTP (allow_insecure_http), to any
//     host. Anything else is Dead at once, without a dial.
//   - POST with Content-Type: application/json, the client's User-Agent and
//     the signature headers (X-SpecKit-*, webhook-*), signed with every
//     secret given (current first, then the previous one during rotation).
//   - No secret: no HTTP call, Retry ("secret environment variable NAME is
//     not set"), so setting the variable lets the next run deliver.
//   - Redirects are never followed: a 3xx is a failure ("redirect not
//     followed (302); update the subscription URL").
//   - One per-request timeout (Request.Timeout) covers connecting, sending
//     and reading the response.
//   - The response body is read up to 64 KiB, then drained (bounded) and
//     closed so the keep-alive connection is reused; Result.Response keeps a
//     sanitised prefix of at most 200 bytes.
//   - The request is marked idempotent for net/http (an Idempotency-Key entry
//     with no value, which is not sent), so a POST that fails on a stale
//     keep-alive connection is retried on a fresh one. Receivers dedupe
//     on the delivery id, which is what makes this safe (at-least-once).
//
// # Outcome classes
//
//	2xx                            Delivered
//	408, 425, 429, 500-599         Retry (429 and 503 honour Retry-After)
//	410                            Dead ("410 Gone")
//	other 4xx                      Dead
//	3xx                            Dead (redirect not followed)
//	1xx, other odd codes           Retry
//	network errors, timeouts       Retry
//	missing or malformed secret    Retry (fixable by configuration)
//	bad URL or scheme, plain http
//	  to a non-loopback host       Dead (no call)
//	delivery id or event unusable
//	  as a header value            Dead (can never be signed)
//
// Network errors are never reported through err.Error(): net/http's
// *url.Error quotes the full URL. They are unwrapped to their cause and
// mapped to short forms: "timeout after 5s", "connection refused",
// "connection reset", "DNS lookup failed", "TLS handshake failed: ...",
// "TLS certificate not trusted: ...", or "network error: ..." with the
// cause's own text. Text that comes from outside the package (the response
// body, a cause's text, a signing error) has any "scheme://..." token (also
// the JSON-escaped "scheme:\/\/...") and any occurrence of the request URL's
// request URI, path, query, query values, long path segments, fragment or
// userinfo replaced with "<url>", and any secret with "<redacted>". As a last
// guard, every Error and Response string is then made printable and
// single-line, stripped of "scheme://..." tokens again, and capped in length.
//
// # Retry policy
//
// After a Retry outcome the next attempt is due at now + Retry-After when
// the server sent one (clamped to [1s, 1h]), else at now +
// InitialBackoff*Factor^(attempt-1) capped at MaxBackoff; a uniform random
// jitter in [0, Jitter] is added in both cases (it only ever delays).
// A Retry becomes Dead when MaxAttempts attempts have been made or when the
// next due time would pass created+MaxAge.
package send
