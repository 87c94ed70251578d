package send

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spec-kit/outbox/deliver/signature"
)

// Class is the outcome class of a delivery attempt.
type Class int

const (
	// Delivered: the receiver answered 2xx.
	Delivered Class = iota
	// Retry: a transient failure (408, 425, 429, 5xx, network errors,
	// timeouts, missing secret); try again later.
	Retry
	// Dead: a permanent failure (410, other 4xx, 3xx, bad URL or scheme);
	// never try again.
	Dead
)

// String returns "delivered", "retry" or "dead".
func (c Class) String() string {
	switch c {
	case Delivered:
		return "delivered"
	case Retry:
		return "retry"
	case Dead:
		return "dead"
	}
	return "class(" + strconv.Itoa(int(c)) + ")"
}

// Request is one delivery attempt.
type Request struct {
	URL       string        // resolved at send time by the caller; never reported
	ID        string        // delivery id (UUIDv7): X-SpecKit-Id and webhook-id
	Event     string        // event type: X-SpecKit-Event
	Body      []byte        // exact bytes sent and signed
	Secrets   []string      // current secret first, then the previous one (rotation)
	SecretEnv string        // name of the secret's environment variable, for messages only
	Timeout   time.Duration // per_request_timeout_ms; 0 means no per-request timeout
	AllowHTTP bool          // allow_insecure_http: plain http to non-loopback hosts
}

// Result is the outcome of one attempt. Every string in it is safe to commit:
// it holds no URL (other than Host), no secret, and no full response body.
type Result struct {
	Class      Class
	Status     int           // HTTP status, 0 if none
	Duration   time.Duration // wall time of the HTTP exchange, 0 if no call was made
	Error      string        // short, sanitised, URL-free reason for a non-2xx or a failure
	Response   string        // sanitised prefix of the response body, at most 200 bytes
	RetryAfter time.Duration // Retry-After on 429 and 503, clamped to [1s, 1h]; 0 if absent or invalid
	Host       string        // URL host[:port], without userinfo or path
}

const (
	// maxBodyRead is how much of a response body is read and inspected.
	maxBodyRead = 64 << 10
	// maxDrain is how much more is read and discarded so the connection can
	// be reused; a longer body closes the connection instead.
	maxDrain = 256 << 10
	// defaultUserAgent is used when NewClient is given none.
	defaultUserAgent = "outbox"
)

// Client performs delivery attempts over one *http.Transport with
// keep-alive connections. It is safe for concurrent use.
type Client struct {
	tr        *http.Transport
	userAgent string
	urls      sync.Map     // urlKey -> *checkedURL
	nURLs     atomic.Int32 // entries in urls
}

// urlKey and checkedURL remember checkURL's verdict on a URL: every
// attempt checks its URL, and most attempts go to a handful of URLs.
type urlKey struct {
	raw       string
	allowHTTP bool
}

type checkedURL struct {
	u   *url.URL // shared: never modified
	str string   // u.String()
	res Result
	ok  bool
}

// maxCachedURLs bounds the remembered verdicts.
const maxCachedURLs = 256

func (c *Client) checkURL(raw string, allowHTTP bool) *checkedURL {
	k := urlKey{raw, allowHTTP}
	if v, ok := c.urls.Load(k); ok {
		return v.(*checkedURL)
	}
	u, res, ok := checkURL(raw, allowHTTP)
	cu := &checkedURL{u: u, res: res, ok: ok}
	if u != nil {
		cu.str = u.String()
	}
	if c.nURLs.Load() < maxCachedURLs {
		if _, loaded := c.urls.LoadOrStore(k, cu); !loaded {
			c.nURLs.Add(1)
		}
	}
	return cu
}

// NewClient returns a Client keeping up to maxConns idle connections per
// host (2 when maxConns < 1) and sending userAgent ("outbox" when empty).
// Proxies come from the environment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY);
// redirects are never followed.
func NewClient(maxConns int, userAgent string) *Client {
	if maxConns < 1 {
		maxConns = http.DefaultMaxIdleConnsPerHost
	}
	if userAgent == "" {
		userAgent = defaultUserAgent
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          max(100, maxConns),
		MaxIdleConnsPerHost:   maxConns,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
	}
	return &Client{tr: tr, userAgent: userAgent}
}

// CloseIdle closes the client's idle keep-alive connections.
func (c *Client) CloseIdle() { c.tr.CloseIdleConnections() }

// Send performs one delivery attempt: it checks the URL against the HTTP
// policy, signs the body with signature.Sign at now (the send moment), POSTs
// it, reads up to 64 KiB of the response and classifies the outcome. It
// makes no HTTP call when the URL is refused or no secret is set.
func (c *Client) Send(ctx context.Context, r Request, now time.Time) Result {
	cu := c.checkURL(r.URL, r.AllowHTTP)
	u, res := cu.u, cu.res
	if !cu.ok {
		return res.finish()
	}
	red := newRedactor(u, r.URL, r.Secrets)

	secrets := liveSecrets(r.Secrets)
	if secrets == nil {
		res.Class, res.Error = Retry, "signing secret is not set"
		if r.SecretEnv != "" {
			res.Error = "secret environment variable " + r.SecretEnv + " is not set"
		}
		return res.finish()
	}

	start := time.Now() // before the deadline is set: Duration >= Timeout on a timeout
	reqCtx, cancel := ctx, context.CancelFunc(func() {})
	if r.Timeout > 0 {
		reqCtx, cancel = context.WithTimeout(ctx, r.Timeout)
	}
	defer cancel()
	req, err := http.NewRequestWithContext(reqCtx, http.MethodPost, cu.str, bytes.NewReader(r.Body))
	if err != nil { // cannot happen for a URL that parsed; never quote err (it holds the URL)
		res.Class, res.Error = Dead, "invalid URL"
		return res.finish()
	}
	if err := signature.Sign(req.Header, r.ID, r.Event, now, r.Body, secrets...); err != nil {
		// signature errors never contain a secret.
		res.Class, res.Error = Retry, "signing failed: "+red.scrub(err.Error())
		if errors.Is(err, signature.ErrBadHeaderValue) {
			res.Class = Dead // the id or event can never be sent
		}
		return res.finish()
	}
	req.Header["Content-Type"] = jsonContentType
	req.Header["User-Agent"] = []string{c.userAgent}
	if u.User != nil { // as http.Client does: credentials in the URL are Basic auth
		pw, _ := u.User.Password()
		req.SetBasicAuth(u.User.Username(), pw)
	}
	// Idempotent for net/http, not sent: see the package comment.
	req.Header["Idempotency-Key"] = nil

	// The transport itself, not an http.Client: a client follows
	// redirects (never wanted: a 3xx is a failure) and copies every
	// request's headers in case it does.
	resp, err := c.tr.RoundTrip(req)
	if err != nil {
		res.Duration = time.Since(start)
		res.Class = Retry
		res.Error = describeError(err, ctx, reqCtx, r.Timeout, red)
		return res.finish()
	}
	body, truncated := readBody(resp.Body)
	res.Duration = time.Since(start)

	res.Status = resp.StatusCode
	res.Class, res.Error = classifyStatus(resp.StatusCode)
	res.Response = responsePrefix(body, truncated, red)
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		if v := resp.Header.Get("Retry-After"); v != "" {
			if d, ok := ParseRetryAfter(v, now.Add(res.Duration)); ok {
				res.RetryAfter = d
			}
		}
	}
	return res.finish()
}

// checkURL parses raw and applies the scheme policy. The returned Result
// carries Host, and Class Dead with a reason when ok is false.
func checkURL(raw string, allowHTTP bool) (*url.URL, Result, bool) {
	u, err := url.Parse(raw)
	if err != nil { // never quote err: it holds the URL
		return nil, Result{Class: Dead, Error: "invalid URL"}, false
	}
	res := Result{Host: u.Host}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http":
		if !allowHTTP && !isLoopback(u.Hostname()) {
			res.Class, res.Error = Dead, "plain http to a non-loopback host is not allowed; use https or set allow_insecure_http"
			return u, res, false
		}
	case u.Scheme == "":
		res.Class, res.Error = Dead, "invalid URL: no scheme; use https"
		return u, res, false
	default:
		res.Class, res.Error = Dead, "unsupported URL scheme "+strconv.Quote(u.Scheme)+"; use https"
		return u, res, false
	}
	if u.Hostname() == "" {
		res.Class, res.Error = Dead, "invalid URL: no host"
		return u, res, false
	}
	return u, res, true
}

// isLoopback reports whether host (without port) is a loopback name or
// address: localhost, 127.0.0.0/8 or ::1.
func isLoopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// liveSecrets returns the secrets to sign with, or nil when the current one
// is missing. Empty later entries (an unset previous secret) are dropped.
func liveSecrets(in []string) []string {
	if len(in) == 0 || in[0] == "" {
		return nil
	}
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// jsonContentType is the Content-Type of every request (net/http only
// reads header values).
var jsonContentType = []string{"application/json"}

// readBody reads up to maxBodyRead bytes, drains a bounded remainder so the
// connection can be reused, and closes the body. Read errors are ignored:
// the status line has already decided the outcome.
func readBody(rc io.ReadCloser) (body []byte, truncated bool) {
	defer rc.Close()
	if rc == http.NoBody { // 204, 304, HEAD: nothing to read
		return nil, false
	}
	body, _ = io.ReadAll(io.LimitReader(rc, maxBodyRead))
	if len(body) == maxBodyRead {
		n, _ := io.Copy(io.Discard, io.LimitReader(rc, maxDrain))
		truncated = n > 0
	}
	return body, truncated
}

// classifyStatus maps an HTTP status to its class and, unless 2xx, a short
// reason made of the code and Go's standard text (never the server's reason
// phrase, which is arbitrary text).
func classifyStatus(code int) (Class, string) {
	if code >= 200 && code <= 299 {
		return Delivered, ""
	}
	text := strconv.Itoa(code)
	if st := http.StatusText(code); st != "" {
		text += " " + st
	}
	switch {
	case code >= 200 && code <= 299:
		return Delivered, ""
	case code == http.StatusRequestTimeout, code == http.StatusTooEarly,
		code == http.StatusTooManyRequests, code >= 500 && code <= 599:
		return Retry, text
	case code >= 400 && code <= 499:
		return Dead, text
	case code >= 300 && code <= 399:
		return Dead, "redirect not followed (" + strconv.Itoa(code) + "); update the subscription URL"
	default: // 1xx and codes outside 100-599
		return Retry, "unexpected status " + text
	}
}

// finish runs every string through the last guard.
func (r Result) finish() Result {
	r.Error = guard(r.Error, maxErrorLen)
	r.Response = guard(r.Response, maxResponseLen)
	return r
}
