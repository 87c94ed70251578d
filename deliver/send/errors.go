package send

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// describeError maps an error from http.Client.Do to a short, URL-free
// reason. It never uses the text of a *url.Error (which quotes the URL) or
// of a *net.OpError (which names addresses); only the text of the innermost
// cause, scrubbed, and only when nothing better is known.
func describeError(err error, parent, reqCtx context.Context, timeout time.Duration, red *redactor) string {
	timeoutMsg := "timeout"
	if timeout > 0 {
		timeoutMsg = "timeout after " + timeout.String()
	}
	cause := innermost(err)
	causeText := ""
	if cause != nil {
		causeText = red.scrub(printable([]byte(cause.Error())))
	}

	var (
		dnsErr     *net.DNSError
		netErr     net.Error
		certErr    *tls.CertificateVerificationError
		unknownCA  x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		invalidErr x509.CertificateInvalidError
		recordErr  tls.RecordHeaderError
		alertErr   tls.AlertError
	)
	switch {
	case parent.Err() != nil:
		if errors.Is(parent.Err(), context.DeadlineExceeded) {
			return "timeout (caller deadline)"
		}
		return "canceled"
	case errors.Is(reqCtx.Err(), context.DeadlineExceeded):
		return timeoutMsg
	case errors.As(err, &dnsErr):
		switch {
		case dnsErr.IsNotFound:
			return "DNS lookup failed: no such host"
		case dnsErr.IsTimeout:
			return "DNS lookup failed: timeout"
		}
		return "DNS lookup failed"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case strings.Contains(causeText, "TLS handshake timeout"):
		return "TLS handshake failed: timeout"
	case errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &netErr) && netErr.Timeout():
		return timeoutMsg
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		strings.Contains(causeText, "connection reset"),
		strings.Contains(causeText, "server closed idle connection"):
		return "connection reset"
	case errors.As(err, &unknownCA):
		return "TLS certificate not trusted: unknown authority"
	case errors.As(err, &hostErr):
		return "TLS certificate not trusted: name mismatch"
	case errors.As(err, &invalidErr):
		if invalidErr.Reason == x509.Expired {
			return "TLS certificate not trusted: expired or not yet valid"
		}
		return "TLS certificate not trusted: invalid"
	case errors.As(err, &certErr):
		return "TLS certificate not trusted"
	case strings.Contains(causeText, "server gave HTTP response to HTTPS client"),
		errors.As(err, &recordErr) && string(recordErr.RecordHeader[:]) == "HTTP/":
		return "TLS handshake failed: server answered with plain HTTP"
	case errors.As(err, &recordErr):
		return "TLS handshake failed: server did not answer with TLS"
	case errors.As(err, &alertErr):
		return "TLS handshake failed: " + strings.TrimPrefix(alertErr.Error(), "tls: ")
	case strings.HasPrefix(causeText, "tls: "):
		return "TLS handshake failed: " + strings.TrimPrefix(causeText, "tls: ")
	case strings.Contains(causeText, "x509: "):
		return "TLS certificate not trusted"
	case causeText != "":
		return "network error: " + causeText
	}
	return fmt.Sprintf("network error: %T", cause)
}

// innermost unwraps the *url.Error and *net.OpError layers, whose messages
// hold the URL and addresses, down to the cause.
func innermost(err error) error {
	for {
		var next error
		switch e := err.(type) {
		case *url.Error:
			next = e.Err
		case *net.OpError:
			next = e.Err
		default:
			return err
		}
		if next == nil {
			return err
		}
		err = next
	}
}
