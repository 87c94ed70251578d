package main

import (
	"bufio"
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spec-kit/outbox/deliver/signature"
	"github.com/spec-kit/outbox/internal/lazyre"
)

// VerifyCmd is `outbox verify`.
type VerifyCmd struct {
	SecretEnv         string        `required:"" placeholder:"NAME" help:"Environment variable holding the secret to verify with."`
	PreviousSecretEnv string        `placeholder:"NAME" help:"Also accept signatures made with this secret (rotation)."`
	Tolerance         time.Duration `default:"5m" help:"How far the request's timestamp may lie from now, either way."`
	File              string        `arg:"" optional:"" help:"Captured request; omitted or - reads standard input."`
}

// Help is shown by `outbox verify --help`.
func (c *VerifyCmd) Help() string {
	return `Checks the signatures of one captured webhook request, as a receiver would:
X-SpecKit-Signature and webhook-signature (Standard Webhooks), each one that
is present, and the timestamp against --tolerance. Exit 0 when it verifies,
1 when it does not (the reason is printed), 2 for usage errors.

The capture is one of these, with CRLF or LF line endings:

  a whole HTTP/1.1 request: request line, headers, a blank line, the body
  a headers block without the request line ('curl -D -', a log, a paste):
    "Name: value" lines, a blank line, the body

The body is Content-Length bytes when that header is present, else all that
follows the blank line. For example:

  POST /hooks/speckit HTTP/1.1
  Host: hooks.example.com
  Content-Type: application/json
  Content-Length: 27
  X-SpecKit-Event: spec-kit.ping
  X-SpecKit-Id: 01a241e4-7562-70d8-beeb-6dd9ff512d47
  X-SpecKit-Request-Timestamp: 1764864000
  X-SpecKit-Signature: sha256=5f1c...
  webhook-id: 01a241e4-7562-70d8-beeb-6dd9ff512d47
  webhook-timestamp: 1764864000
  webhook-signature: v1,K5oZ...

  {"schemaVersion":"1.0",...}

Examples:
  outbox verify --secret-env SPECKIT_WEBHOOK_SECRET request.http
  pbpaste | outbox verify --secret-env SPECKIT_WEBHOOK_SECRET
  outbox verify --secret-env S --tolerance 1000000h old-capture.http   # an old capture
  outbox verify --secret-env S --json request.http`
}

// verifyJSON is the --json output of verify.
type verifyJSON struct {
	OK        bool     `json:"ok"`
	ID        string   `json:"id"`
	Event     string   `json:"event"`
	Schemes   []string `json:"schemes"`             // the signature headers present
	Unchecked []string `json:"unchecked,omitempty"` // present but not checked (rotation, see signature.Verify)
	Error     string   `json:"error,omitempty"`     // why it does not verify
}

// maxCapture bounds what verify reads.
const maxCapture = 32 << 20

// Run verifies the capture.
func (c *VerifyCmd) Run(env *Env) error {
	if c.Tolerance <= 0 {
		return withCode(exitUsage, fmt.Errorf("--tolerance: %v: must be positive", c.Tolerance))
	}
	secrets, err := c.secrets(env)
	if err != nil {
		return withCode(exitUsage, err)
	}
	data, name, err := c.read()
	if err != nil {
		return withCode(exitUsage, err)
	}
	capt, err := parseCapture(data)
	if err != nil {
		return withCode(exitUsage, fmt.Errorf("%s: %w", name, err))
	}
	out, notes := verifyCapture(capt, secrets, c.Tolerance)
	if env.JSON {
		if err := printJSON(env.Stdout, out); err != nil {
			return err
		}
	} else if out.OK {
		verified := slices.DeleteFunc(slices.Clone(out.Schemes), func(s string) bool { return slices.Contains(out.Unchecked, s) })
		fmt.Fprintf(env.Stdout, "ok: %s %s verified (%s)\n", orNone(out.Event, "event"), orNone(out.ID, "id"), strings.Join(verified, ", "))
	} else {
		fmt.Fprintf(env.Stdout, "fail: %s %s: %s\n", orNone(out.Event, "event"), orNone(out.ID, "id"), out.Error)
	}
	for _, n := range notes {
		fmt.Fprintf(env.Stderr, "outbox: note: %s\n", n)
	}
	if !out.OK {
		return withCode(exitFailed, errors.New("verify: the request does not verify"))
	}
	return nil
}

// secrets reads the secrets from the environment. Errors name variables,
// never values.
func (c *VerifyCmd) secrets(env *Env) ([]string, error) {
	check := func(flag, name, value string) error {
		// StandardSignature refuses exactly the secrets Verify refuses.
		if _, err := signature.StandardSignature(value, "check", 0, nil); err != nil {
			return fmt.Errorf("%s: environment variable %s: %w", flag, name, err)
		}
		return nil
	}
	s := os.Getenv(c.SecretEnv)
	if s == "" {
		return nil, fmt.Errorf("--secret-env: environment variable %s is not set", c.SecretEnv)
	}
	if err := check("--secret-env", c.SecretEnv, s); err != nil {
		return nil, err
	}
	secrets := []string{s}
	if c.PreviousSecretEnv != "" {
		p := os.Getenv(c.PreviousSecretEnv)
		if p == "" {
			fmt.Fprintf(env.Stderr, "outbox: warning: --previous-secret-env: environment variable %s is not set: verifying with %s only\n", c.PreviousSecretEnv, c.SecretEnv)
			return secrets, nil
		}
		if err := check("--previous-secret-env", c.PreviousSecretEnv, p); err != nil {
			return nil, err
		}
		secrets = append(secrets, p)
	}
	return secrets, nil
}

// read returns the capture and the name to report it by.
func (c *VerifyCmd) read() ([]byte, string, error) {
	var (
		in   io.Reader = os.Stdin
		name           = "standard input"
	)
	if c.File != "" && c.File != "-" {
		f, err := os.Open(c.File)
		if err != nil {
			return nil, "", err
		}
		defer f.Close()
		in, name = f, c.File
	}
	data, err := io.ReadAll(io.LimitReader(in, maxCapture+1))
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > maxCapture {
		return nil, "", fmt.Errorf("%s: larger than %d MiB: not a webhook request", name, maxCapture>>20)
	}
	return data, name, nil
}

// verifyCapture verifies a parsed capture and describes the outcome; notes are
// for stderr.
func verifyCapture(capt *capture, secrets []string, tolerance time.Duration) (out verifyJSON, notes []string) {
	h := capt.header
	out = verifyJSON{Event: h.Get(signature.HeaderSpecKitEvent), ID: h.Get(signature.HeaderWebhookID), Schemes: []string{}}
	if out.ID == "" {
		out.ID = h.Get(signature.HeaderSpecKitID)
	}
	gitHub := h.Get(signature.HeaderSpecKitSignature)
	if gitHub != "" {
		out.Schemes = append(out.Schemes, signature.HeaderSpecKitSignature)
	}
	if len(h.Values(signature.HeaderWebhookSignature)) > 0 {
		out.Schemes = append(out.Schemes, signature.HeaderWebhookSignature)
	}
	err := capt.bodyErr
	body := capt.body
	if err == nil {
		err = signature.Verify(h, body, time.Now(), tolerance, secrets...)
		if errors.Is(err, signature.ErrBadSignature) && capt.trimmed != nil &&
			signature.Verify(h, capt.trimmed, time.Now(), tolerance, secrets...) == nil {
			err, body = nil, capt.trimmed
			notes = append(notes, "verified without the capture's final line ending (no Content-Length to tell whether it was part of the body)")
		}
	}
	if err != nil {
		out.Error = explainVerify(err, len(out.Schemes) == 0)
		return out, notes
	}
	out.OK = true
	// Verify skips X-SpecKit-Signature when webhook-signature verifies only
	// through a later entry (the receiver lacks the sender's current
	// secret): say so rather than claim it verified.
	if gitHub != "" && !slices.ContainsFunc(secrets, func(s string) bool {
		return subtle.ConstantTimeCompare([]byte(strings.ToLower(gitHub)), []byte(signature.GitHubSignature(s, body))) == 1
	}) {
		out.Unchecked = []string{signature.HeaderSpecKitSignature}
		notes = append(notes, "X-SpecKit-Signature was not checked: the sender signs it with its current secret only, and no secret given is that one (a rotation); webhook-signature verified the request")
	}
	return out, notes
}

// explainVerify is the reason a request does not verify, with what it
// usually means.
func explainVerify(err error, unsigned bool) string {
	msg := err.Error()
	switch {
	case errors.Is(err, signature.ErrMissingHeader) && unsigned:
		return msg + " (dry-run captures carry no signatures)"
	case errors.Is(err, signature.ErrTimestamp) && strings.Contains(msg, "too old"):
		return msg + " (a replayed or stale request; --tolerance checks an old capture anyway)"
	case errors.Is(err, signature.ErrTimestamp) && strings.Contains(msg, "too new"):
		return msg + " (the sender's clock is ahead)"
	case errors.Is(err, signature.ErrBadSignature) && strings.Contains(msg, "differs"):
		return msg + " (the headers were tampered with)"
	case errors.Is(err, signature.ErrBadSignature):
		return msg + " (the body was tampered with, or the secret is wrong)"
	}
	return msg
}

// orNone shows a header value from the capture: "(no what)" when absent,
// quoted when it holds anything but printable ASCII (it is the sender's
// text, and should not reach a terminal raw).
func orNone(s, what string) string {
	switch {
	case s == "":
		return "(no " + what + ")"
	case strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r > '~' }):
		return strconv.QuoteToASCII(s)
	}
	return s
}

// capture is a parsed captured request.
type capture struct {
	header http.Header
	body   []byte
	// trimmed is body without its final line ending, when the body's end
	// was not fixed by a Content-Length (a file or a paste usually adds
	// one); nil otherwise.
	trimmed []byte
	// bodyErr says why the body does not match the request's framing
	// (shorter than, or followed by more than, its Content-Length): the
	// capture was cut or edited, and does not verify.
	bodyErr error
}

var (
	captureRequestLine = lazyre.New(`^[A-Z]+ \S+ HTTP/\d\.\d\r?$`)
	captureHeaderLine  = lazyre.New("^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+:")
)

// parseCapture reads a captured request: a whole HTTP/1.1 request, or a
// headers block without a request line; CRLF or LF line endings.
func parseCapture(data []byte) (*capture, error) {
	// Leading blank lines are a paste's, not the request's.
	for {
		line, rest, ok := bytes.Cut(data, []byte("\n"))
		if !ok || len(bytes.TrimSpace(line)) != 0 {
			break
		}
		data = rest
	}
	if len(data) == 0 {
		return nil, errors.New("empty: want a captured HTTP request")
	}
	first, _, _ := bytes.Cut(data, []byte("\n"))
	br := bufio.NewReader(bytes.NewReader(data))
	var h http.Header
	switch {
	case captureRequestLine().Match(first):
		req, err := http.ReadRequest(br)
		if err != nil {
			return nil, fmt.Errorf("not a readable HTTP request: %w", err)
		}
		h = req.Header
		switch {
		case len(req.TransferEncoding) > 0: // net/http decodes the chunks
			return framedBody(h, req.Body, br, -1)
		case h.Get("Content-Length") != "":
			return framedBody(h, req.Body, br, req.ContentLength)
		}
	case captureHeaderLine().Match(first):
		mh, err := textproto.NewReader(br).ReadMIMEHeader()
		if err != nil && !(errors.Is(err, io.EOF) && len(mh) > 0) {
			return nil, fmt.Errorf("not a readable headers block: %w", err)
		}
		h = http.Header(mh)
		if v := h.Get("Content-Length"); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("Content-Length %q is not a byte count", v)
			}
			return framedBody(h, io.LimitReader(br, n), br, n)
		}
	default:
		return nil, errors.New("line 1 is neither a request line (POST /path HTTP/1.1) nor a header (Name: value): want a captured HTTP request")
	}
	// No framing: the body is the rest of the capture.
	b, err := io.ReadAll(br)
	if err != nil {
		return nil, err
	}
	c := &capture{header: h, body: b}
	if t, ok := bytes.CutSuffix(b, []byte("\n")); ok {
		c.trimmed, _ = bytes.CutSuffix(t, []byte("\r"))
	}
	return c, nil
}

// framedBody reads a body whose end the request fixes (want bytes, or -1 for
// chunks), and checks that the capture holds exactly that: nothing
// missing, nothing after it but blank space.
func framedBody(h http.Header, body, rest io.Reader, want int64) (*capture, error) {
	b, err := io.ReadAll(body)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("not a readable HTTP request body: %w", err)
	}
	c := &capture{header: h, body: b}
	if errors.Is(err, io.ErrUnexpectedEOF) || (want >= 0 && int64(len(b)) != want) {
		c.bodyErr = fmt.Errorf("the body is shorter than its Content-Length (%d of %d bytes): the capture was cut or the body was tampered with", len(b), want)
		if want < 0 {
			c.bodyErr = errors.New("the chunked body ends early: the capture was cut or the body was tampered with")
		}
		return c, nil
	}
	extra, err := io.ReadAll(rest)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(extra)) > 0 {
		c.bodyErr = fmt.Errorf("%d bytes follow the end of the body that Content-Length (or the last chunk) marks: the body was tampered with", len(bytes.TrimSpace(extra)))
	}
	return c, nil
}
