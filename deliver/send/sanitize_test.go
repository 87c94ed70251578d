package send

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

func TestPrintable(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain", "plain"},
		{"a\nb\tc\r\nd", "a b c d"},
		{"  lead and trail  \n", "lead and trail"},
		{"many    spaces\n\n\nhere", "many spaces here"},
		{"nul\x00bell\x07esc\x1b[31mred", "nulbellesc[31mred"},
		{"bad \xff\xfe utf8", "bad utf8"},
		{"spéc – ✓ 日本", "spéc – ✓ 日本"},
		{"bidi \u202eevil\u202c zero\u200bwidth", "bidi evil zerowidth"},
		{"nbsp\u00a0here", "nbsp here"},
	}
	for _, tc := range cases {
		if got := printable([]byte(tc.in)); got != tc.want {
			t.Errorf("printable(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestScrubURLs(t *testing.T) {
	cases := []struct{ in, want string }{
		{"see https://x.example/tok3n now", "see <url> now"},
		{`{"url":"https://x.example/tok3n","n":1}`, `{"url":"<url>","n":1}`},
		{`{"url":"https:\/\/x.example\/tok3n"}`, `{"url":"<url>"}`},
		{"<a href=http://h/p?q=1>x</a>", "<a href=<url>>x</a>"},
		{"weird+scheme.v1://host/path done", "<url> done"},
		{"bare ://host/tok3n", "bare <url>"},
		{"Post \"http://user:pw@h/tok3n\": EOF", "Post \"<url>\": EOF"},
		{"no url: a/b c:d", "no url: a/b c:d"},
	}
	for _, tc := range cases {
		if got := guard(tc.in, 1000); got != tc.want {
			t.Errorf("guard(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRedactor(t *testing.T) {
	u, err := url.Parse("https://bob:hunter2pw@hooks.example/services/T0001/SECRETSEGMENT?token=tok3nvalue&a=b")
	if err != nil {
		t.Fatal(err)
	}
	red := newRedactor(u, u.String(), []string{"whsec_c2VjcmV0", "oldsecret"})
	cases := []struct{ in, want string }{
		{"Cannot POST /services/T0001/SECRETSEGMENT?token=tok3nvalue&a=b", "Cannot POST <url>"},
		{"path /services/T0001/SECRETSEGMENT only", "path <url> only"},
		{"segment SECRETSEGMENT alone", "segment <url> alone"},
		{"token tok3nvalue is invalid", "token <url> is invalid"},
		{"query token=tok3nvalue&a=b", "query <url>"},
		{"user bob:hunter2pw", "user <url>"},
		{"password hunter2pw", "password <redacted>"},
		{"echo whsec_c2VjcmV0 and oldsecret", "echo <redacted> and <redacted>"},
		{"short values like b and T0001 stay", "short values like b and T0001 stay"},
		{"longer segments such as services go", "longer segments such as <url> go"},
	}
	for _, tc := range cases {
		if got := red.scrub(tc.in); got != tc.want {
			t.Errorf("scrub(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := (*redactor)(nil).scrub("a https://x/y b"); got != "a <url> b" {
		t.Errorf("nil redactor: %q", got)
	}
}

func TestTruncate(t *testing.T) {
	cases := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"abcdef", 3, "abc"},
		{"ab✓cd", 4, "ab"}, // ✓ is 3 bytes: never cut inside a rune
		{"ab✓cd", 5, "ab✓"},
		{"see <url> here", 7, "see"},       // a half placeholder is dropped
		{"see <redacted>", 10, "see"},      // likewise
		{"see <url> here", 9, "see <url>"}, // a whole one stays
		{"word  ", 5, "word"},
	}
	for _, tc := range cases {
		got := truncate(tc.in, tc.n)
		if got != tc.want || len(got) > tc.n || !utf8.ValidString(got) {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestResponsePrefixTruncatedBody(t *testing.T) {
	// A body cut at the read cap in the middle of a URL-like word: the
	// partial word is dropped.
	body := []byte("error code 7 at /hooks/SECRETPAR")
	u, _ := url.Parse("https://h.example/hooks/SECRETPARTOFPATH")
	if got := responsePrefix(body, true, newRedactor(u, u.String(), nil)); got != "error code 7 at" {
		t.Errorf("truncated: %q", got)
	}
	if got := responsePrefix(body, false, newRedactor(u, u.String(), nil)); got != "error code 7 at /hooks/SECRETPAR" {
		t.Errorf("complete: %q", got)
	}
	if got := responsePrefix([]byte("oneverylongword"), true, nil); got != "" {
		t.Errorf("single truncated word: %q", got)
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST": true, "localhost.": true,
		"127.0.0.1": true, "127.255.0.9": true, "::1": true, "::ffff:127.0.0.1": true,
		"128.0.0.1": false, "10.0.0.1": false, "::2": false, "localhost.example": false,
		"mylocalhost": false, "example.invalid": false, "": false,
	} {
		if got := isLoopback(host); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestClassifyStatus(t *testing.T) {
	cases := []struct {
		code  int
		class Class
		err   string
	}{
		{200, Delivered, ""}, {202, Delivered, ""}, {299, Delivered, ""},
		{100, Retry, "unexpected status 100 Continue"},
		{101, Retry, "unexpected status 101 Switching Protocols"},
		{600, Retry, "unexpected status 600"},
		{99, Retry, "unexpected status 99"},
		{301, Dead, "redirect not followed (301); update the subscription URL"},
		{304, Dead, "redirect not followed (304); update the subscription URL"},
		{401, Dead, "401 Unauthorized"}, {403, Dead, "403 Forbidden"}, {422, Dead, "422 Unprocessable Entity"},
		{408, Retry, "408 Request Timeout"}, {425, Retry, "425 Too Early"}, {429, Retry, "429 Too Many Requests"},
		{410, Dead, "410 Gone"},
		{500, Retry, "500 Internal Server Error"}, {502, Retry, "502 Bad Gateway"}, {504, Retry, "504 Gateway Timeout"},
	}
	for _, tc := range cases {
		class, err := classifyStatus(tc.code)
		if class != tc.class || err != tc.err {
			t.Errorf("classifyStatus(%d) = %v %q, want %v %q", tc.code, class, err, tc.class, tc.err)
		}
	}
}

// timeoutErr is a net.Error that timed out.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestDescribeError(t *testing.T) {
	const raw = "https://h.example/hook/SECRETPATHPART?token=tok3nvalue"
	u, _ := url.Parse(raw)
	wrap := func(err error) error { return &url.Error{Op: "Post", URL: raw, Err: err} }
	opErr := func(err error) error {
		return &net.OpError{Op: "read", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 443}, Err: err}
	}
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"deadline", wrap(context.DeadlineExceeded), "timeout after 5s"},
		{"net timeout", wrap(opErr(timeoutErr{})), "timeout after 5s"},
		{"refused", wrap(opErr(os.NewSyscallError("connect", syscall.ECONNREFUSED))), "connection refused"},
		{"reset", wrap(opErr(os.NewSyscallError("read", syscall.ECONNRESET))), "connection reset"},
		{"broken pipe", wrap(opErr(os.NewSyscallError("write", syscall.EPIPE))), "connection reset"},
		{"eof", wrap(io.EOF), "connection reset"},
		{"unexpected eof", wrap(io.ErrUnexpectedEOF), "connection reset"},
		{"dns not found", wrap(opErr(&net.DNSError{Err: "no such host", Name: "h.example", IsNotFound: true})), "DNS lookup failed: no such host"},
		{"dns timeout", wrap(opErr(&net.DNSError{Err: "timeout", Name: "h.example", IsTimeout: true})), "DNS lookup failed: timeout"},
		{"dns other", wrap(opErr(&net.DNSError{Err: "server misbehaving", Name: "h.example"})), "DNS lookup failed"},
		{"unknown CA", wrap(x509.UnknownAuthorityError{}), "TLS certificate not trusted: unknown authority"},
		{"hostname", wrap(x509.HostnameError{Host: "h.example", Certificate: &x509.Certificate{}}), "TLS certificate not trusted: name mismatch"},
		{"expired", wrap(x509.CertificateInvalidError{Reason: x509.Expired}), "TLS certificate not trusted: expired or not yet valid"},
		{"tls handshake timeout", wrap(errors.New("net/http: TLS handshake timeout")), "TLS handshake failed: timeout"},
		{"tls other", wrap(errors.New("tls: protocol version not supported")), "TLS handshake failed: protocol version not supported"},
		{"generic with URL", wrap(errors.New("proxy said no to " + raw)), "network error: proxy said no to <url>"},
		{"generic with path", wrap(errors.New("bad /hook/SECRETPATHPART")), "network error: bad <url>"},
	}
	bg := context.Background()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := guard(describeError(tc.err, bg, bg, 5*time.Second, newRedactor(u, raw, nil)), maxErrorLen)
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if strings.Contains(got, "SECRETPATHPART") || strings.Contains(got, "tok3n") || strings.Contains(got, "10.0.0.1") {
				t.Errorf("leaks: %q", got)
			}
		})
	}

	canceled, cancel := context.WithCancel(bg)
	cancel()
	if got := describeError(wrap(context.Canceled), canceled, canceled, time.Second, nil); got != "canceled" {
		t.Errorf("parent canceled: %q", got)
	}
	expired, cancel2 := context.WithDeadline(bg, time.Unix(0, 0))
	defer cancel2()
	if got := describeError(wrap(context.DeadlineExceeded), expired, expired, time.Second, nil); got != "timeout (caller deadline)" {
		t.Errorf("parent deadline: %q", got)
	}
	if got := describeError(wrap(opErr(os.NewSyscallError("read", syscall.ECONNRESET))), bg, expired, 0, nil); got != "timeout" {
		t.Errorf("request deadline, no Timeout set: %q", got)
	}
}
