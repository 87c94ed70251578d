package send

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spec-kit/outbox/deliver/signature"
)

const (
	testID     = "0190a5f0-1c2d-7e3f-8a4b-5c6d7e8f9a0b"
	testEvent  = "spec.created"
	testUA     = "outbox-test/1"
	testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	prevSecret = "previous raw secret"
	testEnv    = "OUTBOX_TEST_SECRET"
)

var testBody = []byte(`{"spec":"001-demo","event":"spec.created","n":1}`)

func newTestClient(t testing.TB) *Client {
	t.Helper()
	c := NewClient(4, testUA)
	t.Cleanup(c.CloseIdle)
	return c
}

func testRequest(u string) Request {
	return Request{
		URL:       u,
		ID:        testID,
		Event:     testEvent,
		Body:      testBody,
		Secrets:   []string{testSecret},
		SecretEnv: testEnv,
		Timeout:   5 * time.Second,
	}
}

// recorder is an http.Handler that records what it received and answers
// with its reply function.
type recorder struct {
	reply func(w http.ResponseWriter, r *http.Request)

	mu     sync.Mutex
	hits   int
	header http.Header
	body   []byte
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	rec.hits++
	rec.header = r.Header.Clone()
	rec.body = body
	rec.mu.Unlock()
	rec.reply(w, r)
}

func (rec *recorder) snapshot() (int, http.Header, []byte) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.hits, rec.header, rec.body
}

func newServer(t testing.TB, reply func(w http.ResponseWriter, r *http.Request)) (*httptest.Server, *recorder) {
	t.Helper()
	rec := &recorder{reply: reply}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	return srv, rec
}

// newTLSServer starts an https server whose handshake errors (the client
// distrusting its certificate, on purpose) are not logged.
func newTLSServer(t testing.TB, reply http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(reply)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func status(code int) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) }
}

func withHeader(code int, k, v string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set(k, v)
		w.WriteHeader(code)
	}
}

func TestSendStatuses(t *testing.T) {
	// The redirect target records hits: it must never be reached.
	target, targetRec := newServer(t, status(http.StatusOK))
	date := time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat)

	cases := []struct {
		name      string
		reply     func(http.ResponseWriter, *http.Request)
		class     Class
		status    int
		err       string // exact Error
		minRA     time.Duration
		maxRA     time.Duration
		afterSend func(t *testing.T)
	}{
		{name: "200", reply: status(200), class: Delivered, status: 200},
		{name: "204", reply: status(204), class: Delivered, status: 204},
		{name: "201 with body", reply: func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(201)
			io.WriteString(w, "created\n")
		}, class: Delivered, status: 201},
		{name: "503", reply: status(503), class: Retry, status: 503, err: "503 Service Unavailable"},
		{name: "503 Retry-After 120", reply: withHeader(503, "Retry-After", "120"), class: Retry, status: 503,
			err: "503 Service Unavailable", minRA: 120 * time.Second, maxRA: 120 * time.Second},
		{name: "500 Retry-After ignored", reply: withHeader(500, "Retry-After", "120"), class: Retry, status: 500,
			err: "500 Internal Server Error"},
		{name: "429 Retry-After 7", reply: withHeader(429, "Retry-After", "7"), class: Retry, status: 429,
			err: "429 Too Many Requests", minRA: 7 * time.Second, maxRA: 7 * time.Second},
		{name: "429 Retry-After date", reply: withHeader(429, "Retry-After", date), class: Retry, status: 429,
			err: "429 Too Many Requests", minRA: 27 * time.Second, maxRA: 30 * time.Second},
		{name: "429 Retry-After garbage", reply: withHeader(429, "Retry-After", "soon"), class: Retry, status: 429,
			err: "429 Too Many Requests"},
		{name: "408", reply: status(408), class: Retry, status: 408, err: "408 Request Timeout"},
		{name: "425", reply: status(425), class: Retry, status: 425, err: "425 Too Early"},
		{name: "599", reply: status(599), class: Retry, status: 599, err: "599"},
		{name: "410", reply: status(410), class: Dead, status: 410, err: "410 Gone"},
		{name: "400", reply: status(400), class: Dead, status: 400, err: "400 Bad Request"},
		{name: "404", reply: status(404), class: Dead, status: 404, err: "404 Not Found"},
		{name: "302 to another server", reply: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL+"/elsewhere", http.StatusFound)
		}, class: Dead, status: 302, err: "redirect not followed (302); update the subscription URL",
			afterSend: func(t *testing.T) {
				if hits, _, _ := targetRec.snapshot(); hits != 0 {
					t.Errorf("redirect target hit %d times, want 0", hits)
				}
			}},
		{name: "308", reply: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL, http.StatusPermanentRedirect)
		}, class: Dead, status: 308, err: "redirect not followed (308); update the subscription URL"},
	}
	c := newTestClient(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, rec := newServer(t, tc.reply)
			res := c.Send(context.Background(), testRequest(srv.URL+"/hook"), time.Now())
			if res.Class != tc.class || res.Status != tc.status || res.Error != tc.err {
				t.Errorf("got class %v status %d error %q; want %v %d %q", res.Class, res.Status, res.Error, tc.class, tc.status, tc.err)
			}
			if res.RetryAfter < tc.minRA || res.RetryAfter > tc.maxRA {
				t.Errorf("RetryAfter = %v, want in [%v, %v]", res.RetryAfter, tc.minRA, tc.maxRA)
			}
			if want := strings.TrimPrefix(srv.URL, "http://"); res.Host != want {
				t.Errorf("Host = %q, want %q", res.Host, want)
			}
			if res.Duration <= 0 {
				t.Errorf("Duration = %v, want > 0", res.Duration)
			}
			if hits, _, _ := rec.snapshot(); hits != 1 {
				t.Errorf("server hit %d times, want 1", hits)
			}
			if tc.afterSend != nil {
				tc.afterSend(t)
			}
		})
	}
}

func TestSendHeadersAndSignature(t *testing.T) {
	srv, rec := newServer(t, status(204))
	c := newTestClient(t)

	for _, tc := range []struct {
		name    string
		secrets []string
	}{
		{"one secret", []string{testSecret}},
		{"rotation", []string{testSecret, prevSecret}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Now()
			r := testRequest(srv.URL)
			r.Secrets = tc.secrets
			if res := c.Send(context.Background(), r, now); res.Class != Delivered {
				t.Fatalf("Send = %+v, want delivered", res)
			}
			_, h, body := rec.snapshot()
			stamp := strconv.FormatInt(now.Unix(), 10)
			want := map[string]string{
				"Content-Type":                   "application/json",
				"User-Agent":                     testUA,
				signature.HeaderSpecKitEvent:     testEvent,
				signature.HeaderSpecKitID:        testID,
				signature.HeaderSpecKitTimestamp: stamp,
				signature.HeaderWebhookID:        testID,
				signature.HeaderWebhookTimestamp: stamp,
			}
			for k, v := range want {
				if got := h.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if !strings.HasPrefix(h.Get(signature.HeaderSpecKitSignature), "sha256=") {
				t.Errorf("%s = %q", signature.HeaderSpecKitSignature, h.Get(signature.HeaderSpecKitSignature))
			}
			if n := len(strings.Fields(h.Get(signature.HeaderWebhookSignature))); n != len(tc.secrets) {
				t.Errorf("%s has %d entries, want %d", signature.HeaderWebhookSignature, n, len(tc.secrets))
			}
			if _, ok := h["Idempotency-Key"]; ok {
				t.Errorf("Idempotency-Key was sent: %q", h.Get("Idempotency-Key"))
			}
			if !bytes.Equal(body, testBody) {
				t.Errorf("body = %q, want %q", body, testBody)
			}
			for _, s := range tc.secrets {
				if err := signature.Verify(h, body, time.Now(), 0, s); err != nil {
					t.Errorf("Verify with secret %d: %v", len(s), err)
				}
			}
			if err := signature.Verify(h, body, time.Now(), 0, "some other secret"); err == nil {
				t.Error("Verify accepted a wrong secret")
			}
			if err := signature.Verify(h, append(bytes.Clone(body), ' '), time.Now(), 0, tc.secrets[0]); err == nil {
				t.Error("Verify accepted a different body")
			}
		})
	}
}

func TestSendTimeout(t *testing.T) {
	release := make(chan struct{})
	srv, rec := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		w.WriteHeader(200)
	})
	t.Cleanup(func() { close(release) }) // runs before srv.Close
	c := newTestClient(t)

	r := testRequest(srv.URL)
	r.Timeout = 100 * time.Millisecond
	res := c.Send(context.Background(), r, time.Now())
	if res.Class != Retry || res.Error != "timeout after 100ms" || res.Status != 0 {
		t.Errorf("got %v %d %q, want retry 0 %q", res.Class, res.Status, res.Error, "timeout after 100ms")
	}
	if res.Duration < r.Timeout {
		t.Errorf("Duration = %v, want >= %v", res.Duration, r.Timeout)
	}
	if hits, _, _ := rec.snapshot(); hits != 1 {
		t.Errorf("server hit %d times, want 1", hits)
	}
}

func TestSendCanceled(t *testing.T) {
	srv, rec := newServer(t, status(200))
	c := newTestClient(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := c.Send(ctx, testRequest(srv.URL), time.Now())
	if res.Class != Retry || res.Error != "canceled" {
		t.Errorf("got %v %q, want retry %q", res.Class, res.Error, "canceled")
	}
	if hits, _, _ := rec.snapshot(); hits != 0 {
		t.Errorf("server hit %d times, want 0", hits)
	}
}

// resetServer accepts connections, reads one request head, and closes the
// connection with SO_LINGER 0, so the client sees a TCP reset.
func resetServer(t testing.TB) (addr string, accepted *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted = new(atomic.Int32)
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			br := bufio.NewReader(conn)
			for {
				line, err := br.ReadString('\n')
				if err != nil || line == "\r\n" {
					break
				}
			}
			conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
		}
	})
	return ln.Addr().String(), accepted
}

func TestSendConnectionReset(t *testing.T) {
	addr, accepted := resetServer(t)
	c := newTestClient(t)
	res := c.Send(context.Background(), testRequest("http://"+addr+"/hook"), time.Now())
	if res.Class != Retry || res.Error != "connection reset" || res.Status != 0 {
		t.Errorf("got %v %d %q, want retry 0 %q", res.Class, res.Status, res.Error, "connection reset")
	}
	if n := accepted.Load(); n != 1 {
		t.Errorf("accepted %d connections, want 1", n)
	}
}

func TestSendConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := newTestClient(t)
	res := c.Send(context.Background(), testRequest("http://"+addr+"/hook"), time.Now())
	if res.Class != Retry || res.Error != "connection refused" || res.Host != addr {
		t.Errorf("got %v %q host %q, want retry %q host %q", res.Class, res.Error, res.Host, "connection refused", addr)
	}
}

// countDials replaces c's dialer with one that counts and fails.
func countDials(c *Client) *atomic.Int32 {
	n := new(atomic.Int32)
	c.tr.Proxy = nil
	c.tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		n.Add(1)
		return nil, errors.New("test dialer refuses")
	}
	return n
}

func TestSendHTTPPolicy(t *testing.T) {
	cases := []struct {
		name      string
		url       string
		allowHTTP bool
		class     Class
		err       string
		dials     int32
	}{
		{name: "http remote", url: "http://example.invalid/x", class: Dead, dials: 0,
			err: "plain http to a non-loopback host is not allowed; use https or set allow_insecure_http"},
		{name: "http remote allowed", url: "http://example.invalid/x", allowHTTP: true, class: Retry, dials: 1,
			err: "network error: test dialer refuses"},
		{name: "https remote", url: "https://example.invalid/x", class: Retry, dials: 1,
			err: "network error: test dialer refuses"},
		{name: "ftp", url: "ftp://127.0.0.1/x", class: Dead, dials: 0, err: `unsupported URL scheme "ftp"; use https`},
		{name: "no scheme", url: "example.invalid/x", class: Dead, dials: 0, err: "invalid URL: no scheme; use https"},
		{name: "no host", url: "https:///x", class: Dead, dials: 0, err: "invalid URL: no host"},
		{name: "unparsable", url: "http://[::1/x", class: Dead, dials: 0, err: "invalid URL"},
		{name: "http localhost", url: "http://localhost:1/x", class: Retry, dials: 1, err: "network error: test dialer refuses"},
		{name: "http ::1", url: "http://[::1]:1/x", class: Retry, dials: 1, err: "network error: test dialer refuses"},
		{name: "http 127.9.9.9", url: "http://127.9.9.9:1/x", class: Retry, dials: 1, err: "network error: test dialer refuses"},
		{name: "http 128.0.0.1", url: "http://128.0.0.1:1/x", class: Dead, dials: 0,
			err: "plain http to a non-loopback host is not allowed; use https or set allow_insecure_http"},
		{name: "http localhost.evil", url: "http://localhost.example.invalid/x", class: Dead, dials: 0,
			err: "plain http to a non-loopback host is not allowed; use https or set allow_insecure_http"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestClient(t)
			dials := countDials(c)
			r := testRequest(tc.url)
			r.AllowHTTP = tc.allowHTTP
			res := c.Send(context.Background(), r, time.Now())
			if res.Class != tc.class || res.Error != tc.err {
				t.Errorf("got %v %q, want %v %q", res.Class, res.Error, tc.class, tc.err)
			}
			if n := dials.Load(); n != tc.dials {
				t.Errorf("dialed %d times, want %d", n, tc.dials)
			}
		})
	}
}

func TestSendMissingSecret(t *testing.T) {
	srv, rec := newServer(t, status(200))
	c := newTestClient(t)
	for _, tc := range []struct {
		name    string
		secrets []string
		env     string
		want    string
	}{
		{"nil", nil, testEnv, "secret environment variable " + testEnv + " is not set"},
		{"empty current", []string{"", prevSecret}, testEnv, "secret environment variable " + testEnv + " is not set"},
		{"no env name", nil, "", "signing secret is not set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := testRequest(srv.URL)
			r.Secrets, r.SecretEnv = tc.secrets, tc.env
			res := c.Send(context.Background(), r, time.Now())
			if res.Class != Retry || res.Error != tc.want || res.Status != 0 || res.Duration != 0 {
				t.Errorf("got %+v, want retry %q, no call", res, tc.want)
			}
		})
	}
	if hits, _, _ := rec.snapshot(); hits != 0 {
		t.Errorf("server hit %d times, want 0", hits)
	}
}

func TestSendUnsignable(t *testing.T) {
	srv, rec := newServer(t, status(200))
	c := newTestClient(t)

	r := testRequest(srv.URL)
	r.ID = "bad id"
	if res := c.Send(context.Background(), r, time.Now()); res.Class != Dead || !strings.HasPrefix(res.Error, "signing failed: ") {
		t.Errorf("bad id: got %v %q, want dead signing failed", res.Class, res.Error)
	}
	r = testRequest(srv.URL)
	r.Secrets = []string{"whsec_!!!not base64!!!"}
	res := c.Send(context.Background(), r, time.Now())
	if res.Class != Retry || !strings.HasPrefix(res.Error, "signing failed: ") || strings.Contains(res.Error, "not base64") {
		t.Errorf("bad secret: got %v %q, want retry signing failed without the secret", res.Class, res.Error)
	}
	if hits, _, _ := rec.snapshot(); hits != 0 {
		t.Errorf("server hit %d times, want 0", hits)
	}
}

func TestSendTLS(t *testing.T) {
	srv := newTLSServer(t, status(204))

	c := newTestClient(t)
	res := c.Send(context.Background(), testRequest(srv.URL), time.Now())
	if res.Class != Retry || res.Error != "TLS certificate not trusted: unknown authority" {
		t.Errorf("untrusted: got %v %q", res.Class, res.Error)
	}

	trusted := newTestClient(t)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	trusted.tr.TLSClientConfig.RootCAs = pool
	if res := trusted.Send(context.Background(), testRequest(srv.URL), time.Now()); res.Class != Delivered || res.Status != 204 {
		t.Errorf("trusted: got %+v, want delivered 204", res)
	}

	// An https client talking to a plain http server.
	plain, _ := newServer(t, status(200))
	res = c.Send(context.Background(), testRequest(strings.Replace(plain.URL, "http://", "https://", 1)), time.Now())
	if res.Class != Retry || res.Error != "TLS handshake failed: server answered with plain HTTP" {
		t.Errorf("plain server: got %v %q", res.Class, res.Error)
	}
}

func TestSendKeepAlive(t *testing.T) {
	var conns atomic.Int32
	big := strings.Repeat("x", 100<<10) // larger than the read cap: drained
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.Header.Get(signature.HeaderWebhookID) == "0190a5f0-1c2d-7e3f-8a4b-000000000003" {
			w.WriteHeader(500)
			io.WriteString(w, big)
			return
		}
		w.WriteHeader(204)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)

	c := newTestClient(t)
	for i := range 20 {
		r := testRequest(srv.URL)
		r.ID = fmt.Sprintf("0190a5f0-1c2d-7e3f-8a4b-%012d", i)
		res := c.Send(context.Background(), r, time.Now())
		want := Delivered
		if i == 3 {
			want = Retry
		}
		if res.Class != want {
			t.Fatalf("send %d: got %+v, want %v", i, res, want)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("20 sequential sends used %d connections, want 1", n)
	}
}

// TestSendStaleKeepAlive checks that a POST on a keep-alive connection the
// server closed meanwhile is retried by net/http on a fresh connection.
func TestSendStaleKeepAlive(t *testing.T) {
	var conns atomic.Int32
	idle := make(chan net.Conn, 8)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(status(204)))
	srv.Config.ConnState = func(conn net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			conns.Add(1)
		case http.StateIdle:
			select {
			case idle <- conn:
			default:
			}
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)

	c := newTestClient(t)
	if res := c.Send(context.Background(), testRequest(srv.URL), time.Now()); res.Class != Delivered {
		t.Fatalf("first send: %+v", res)
	}
	select {
	case conn := <-idle:
		conn.Close() // the server drops the idle connection behind the client's back
	case <-time.After(10 * time.Second):
		t.Fatal("connection never went idle")
	}
	if res := c.Send(context.Background(), testRequest(srv.URL), time.Now()); res.Class != Delivered {
		t.Fatalf("second send: %+v", res)
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("used %d connections, want 2", n)
	}
}

func TestSendResponsePrefix(t *testing.T) {
	body := "Error!\n\tsee https://x.example/tok3n for details\n" + strings.Repeat("line of text\n", 800)
	if len(body) < 10<<10 {
		t.Fatalf("body is %d bytes, want >= 10 KB", len(body))
	}
	srv, _ := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(500)
		io.WriteString(w, body)
	})
	c := newTestClient(t)
	res := c.Send(context.Background(), testRequest(srv.URL), time.Now())
	if res.Class != Retry || res.Status != 500 {
		t.Fatalf("got %+v", res)
	}
	p := res.Response
	if len(p) > 200 || len(p) < 150 {
		t.Errorf("prefix is %d bytes, want 150..200", len(p))
	}
	if strings.ContainsAny(p, "\n\r\t") {
		t.Errorf("prefix not on one line: %q", p)
	}
	if !strings.HasPrefix(p, "Error! see <url> for details line of text") || strings.Contains(p, "tok3n") {
		t.Errorf("prefix = %q", p)
	}
}

// TestSendNeverLeaksURL sends to URLs holding a canary token in their
// userinfo, path and query, for every kind of failure, and checks no Result
// field holds it.
func TestSendNeverLeaksURL(t *testing.T) {
	const canary = "CANARYtok3nZ9"
	pathQuery := "/hooks/" + canary + "/x?token=" + canary + "&v=1"

	echo, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(503)
		fmt.Fprintf(w, "Cannot POST %s (%s) full=https://%s%s\njson={\"url\":\"https:\\/\\/h\\/%s\"}",
			r.URL.RequestURI(), r.URL.Path, r.Host, r.URL.RequestURI(), canary)
	})
	notFound, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(404)
		fmt.Fprintf(w, "no route for token %s", r.URL.Query().Get("token"))
	})
	redirect, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://other.example"+pathQuery, http.StatusFound)
	})
	release := make(chan struct{})
	slow, _ := newServer(t, func(w http.ResponseWriter, _ *http.Request) { <-release })
	t.Cleanup(func() { close(release) })
	tlsSrv := newTLSServer(t, status(200))
	resetAddr, _ := resetServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := ln.Addr().String()
	ln.Close()

	hostOf := func(s *httptest.Server) string { return s.Listener.Addr().String() }
	cases := []struct {
		name    string
		url     string
		secrets []string
		timeout time.Duration
	}{
		{name: "503 echoing the URL", url: "http://" + hostOf(echo) + pathQuery},
		{name: "userinfo", url: "http://user:" + canary + "@" + hostOf(echo) + pathQuery},
		{name: "404 echoing a query value", url: "http://" + hostOf(notFound) + pathQuery},
		{name: "redirect", url: "http://" + hostOf(redirect) + pathQuery},
		{name: "timeout", url: "http://" + hostOf(slow) + pathQuery, timeout: 100 * time.Millisecond},
		{name: "TLS untrusted", url: "https://" + hostOf(tlsSrv) + pathQuery},
		{name: "reset", url: "http://" + resetAddr + pathQuery},
		{name: "refused", url: "http://" + refused + pathQuery},
		{name: "remote http", url: "http://example.invalid" + pathQuery},
		{name: "bad scheme", url: "gopher://example.invalid" + pathQuery},
		{name: "unparsable", url: "http://[::1" + pathQuery},
		{name: "missing secret", url: "http://" + hostOf(echo) + pathQuery, secrets: []string{}},
		{name: "bad secret", url: "http://" + hostOf(echo) + pathQuery, secrets: []string{"whsec_" + canary + "!"}},
	}
	c := newTestClient(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := testRequest(tc.url)
			if tc.secrets != nil {
				r.Secrets = tc.secrets
			}
			if tc.timeout > 0 {
				r.Timeout = tc.timeout
			}
			res := c.Send(context.Background(), r, time.Now())
			if res.Class == Delivered || res.Error == "" {
				t.Fatalf("want a failure with a reason, got %+v", res)
			}
			for field, v := range map[string]string{"Error": res.Error, "Response": res.Response, "Host": res.Host} {
				if strings.Contains(strings.ToLower(v), strings.ToLower(canary)) || strings.Contains(v, "/hooks/") {
					t.Errorf("%s leaks the URL: %q", field, v)
				}
			}
			t.Logf("%v %q %q", res.Class, res.Error, res.Response)
		})
	}
}

func TestClassString(t *testing.T) {
	for c, want := range map[Class]string{Delivered: "delivered", Retry: "retry", Dead: "dead", Class(7): "class(7)"} {
		if got := c.String(); got != want {
			t.Errorf("Class(%d).String() = %q, want %q", int(c), got, want)
		}
	}
}

func BenchmarkSend(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(status(204)))
	b.Cleanup(srv.Close)
	c := newTestClient(b)
	r := testRequest(srv.URL + "/hook")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if res := c.Send(ctx, r, time.Now()); res.Class != Delivered {
			b.Fatalf("got %+v", res)
		}
	}
}

// TestProxyFromEnvironment: requests go through HTTPS_PROXY / HTTP_PROXY /
// NO_PROXY like any Go client. (net/http never proxies loopback, so this
// checks the transport's setting rather than a loopback round trip.)
func TestProxyFromEnvironment(t *testing.T) {
	c := NewClient(1, "outbox-test")
	if c.tr.Proxy == nil || reflect.ValueOf(c.tr.Proxy).Pointer() != reflect.ValueOf(http.ProxyFromEnvironment).Pointer() {
		t.Fatal("the transport does not take its proxy from the environment")
	}
}

// Credentials in a subscription URL are sent as Basic auth, as an
// http.Client would send them, and never appear in the Result.
func TestSendURLCredentialsAreBasicAuth(t *testing.T) {
	srv, rec := newServer(t, status(204))
	c := newTestClient(t)
	u := strings.Replace(srv.URL, "http://", "http://hook-user:s3cr%3At@", 1) + "/in"
	res := c.Send(context.Background(), testRequest(u), time.Now())
	if res.Class != Delivered {
		t.Fatalf("got %+v", res)
	}
	_, h, _ := rec.snapshot()
	if got, want := h.Get("Authorization"), "Basic "+base64.StdEncoding.EncodeToString([]byte("hook-user:s3cr:t")); got != want {
		t.Fatalf("Authorization %q, want %q", got, want)
	}
	if s := fmt.Sprintf("%+v", res); strings.Contains(s, "s3cr") || strings.Contains(s, "hook-user") {
		t.Fatalf("the result holds the credentials: %s", s)
	}
}
