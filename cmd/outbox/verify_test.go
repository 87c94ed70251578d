package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spec-kit/outbox/deliver/send"
)

const (
	verifySecret    = "canary-verify-7f3a9c21d4e8" // must never be printed
	verifyPrevious  = "canary-previous-52b8e06a1f"
	verifyID        = "01a241e4-7562-70d8-beeb-6dd9ff512d47"
	verifyEventType = "spec-auto.stage.completed"
)

var verifyBody = []byte("{\n  \"schemaVersion\": \"1.0\",\n  \"event\": {\"type\": \"spec-auto.stage.completed\"}\n}")

// captureSend sends one delivery with outbox's own HTTP client, signed with
// secrets at the time at, and returns the exact bytes that reached the
// receiver.
func captureSend(t *testing.T, at time.Time, body []byte, secrets ...string) []byte {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	raw := make(chan []byte, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			raw <- nil
			return
		}
		defer conn.Close()
		var wire bytes.Buffer
		req, err := http.ReadRequest(bufio.NewReader(io.TeeReader(conn, &wire)))
		if err == nil {
			_, err = io.ReadAll(req.Body)
		}
		if err != nil {
			raw <- nil
			return
		}
		io.WriteString(conn, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
		raw <- wire.Bytes()
	}()
	c := send.NewClient(1, "outbox/test")
	defer c.CloseIdle()
	res := c.Send(context.Background(), send.Request{
		URL: "http://" + ln.Addr().String() + "/hooks/speckit", ID: verifyID, Event: verifyEventType,
		Body: body, Secrets: secrets, Timeout: 5 * time.Second,
	}, at)
	if res.Class != send.Delivered {
		t.Fatalf("send: %+v", res)
	}
	wire := <-raw
	if wire == nil {
		t.Fatal("the receiver did not get a whole request")
	}
	return wire
}

// verifyRun runs `outbox verify` in-process on a capture file.
func verifyRun(t *testing.T, capture []byte, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "request.http")
	if err := os.WriteFile(path, capture, 0o644); err != nil {
		t.Fatal(err)
	}
	return verifyArgs(t, append(append([]string{"verify", "--secret-env", "VERIFY_SECRET"}, args...), path)...)
}

func verifyArgs(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	for _, canary := range []string{verifySecret, verifyPrevious, "canary-"} {
		if strings.Contains(out.String(), canary) || strings.Contains(errb.String(), canary) {
			t.Fatalf("a secret was printed:\nstdout: %s\nstderr: %s", out.String(), errb.String())
		}
	}
	return code, out.String(), errb.String()
}

// editCapture applies a regexp replacement to a capture, which must match.
func editCapture(t *testing.T, capture []byte, pattern, repl string) []byte {
	t.Helper()
	re := regexp.MustCompile(pattern)
	if !re.Match(capture) {
		t.Fatalf("%q does not match the capture:\n%s", pattern, capture)
	}
	return re.ReplaceAll(capture, []byte(repl))
}

func TestVerify(t *testing.T) {
	t.Setenv("VERIFY_SECRET", verifySecret)
	t.Setenv("VERIFY_PREVIOUS", verifyPrevious)
	t.Setenv("VERIFY_UNSET", "")
	now := time.Now()
	good := captureSend(t, now, verifyBody, verifySecret)
	if !bytes.HasPrefix(good, []byte("POST /hooks/speckit HTTP/1.1\r\n")) || !bytes.HasSuffix(good, verifyBody) {
		t.Fatalf("unexpected capture:\n%s", good)
	}
	headersOnly := good[bytes.Index(good, []byte("\r\n"))+2:]
	both := "ok: " + verifyEventType + " " + verifyID + " verified (X-SpecKit-Signature, webhook-signature)\n"

	accept := []struct {
		name    string
		capture []byte
		args    []string
		stdout  string
		stderr  string
	}{
		{"outbox's own request", good, nil, both, ""},
		{"LF line endings", bytes.ReplaceAll(good, []byte("\r\n"), []byte("\n")), nil, both, ""},
		{"final newline after a Content-Length body", append(bytes.Clone(good), "\n"...), nil, both, ""},
		{"leading blank lines", append([]byte("\n\r\n"), good...), nil, both, ""},
		{"headers block", headersOnly, nil, both, ""},
		{"headers block, LF", bytes.ReplaceAll(headersOnly, []byte("\r\n"), []byte("\n")), nil, both, ""},
		{"headers block without Content-Length",
			editCapture(t, headersOnly, `(?i)content-length: \d+\r\n`, ""), nil, both, ""},
		{"headers block without Content-Length, final newline",
			append(editCapture(t, headersOnly, `(?i)content-length: \d+\r\n`, ""), "\n"...), nil, both, "without the capture's final line ending"},
		{"request without Content-Length", editCapture(t, good, `(?i)content-length: \d+\r\n`, ""), nil, both, ""},
		{"lowercase header names", editCapture(t, good, `X-Speckit-Signature|X-SpecKit-Signature`, "x-speckit-signature"), nil, both, ""},
		{"only webhook-signature", editCapture(t, good, `(?i)x-speckit-signature: [^\r]*\r\n`, ""), nil,
			"ok: " + verifyEventType + " " + verifyID + " verified (webhook-signature)\n", ""},
		{"only X-SpecKit-Signature", editCapture(t, good, `(?i)webhook-signature: [^\r]*\r\n`, ""), nil,
			"ok: " + verifyEventType + " " + verifyID + " verified (X-SpecKit-Signature)\n", ""},
		{"chunked body", editCapture(t, editCapture(t, good, `(?i)content-length: \d+\r\n`, "Transfer-Encoding: chunked\r\n"),
			`\r\n\r\n[\s\S]*$`, "\r\n\r\n"+chunkedBody(verifyBody)), nil, both, ""},
		{"previous secret (rotation)", captureSend(t, now, verifyBody, verifyPrevious),
			[]string{"--previous-secret-env", "VERIFY_PREVIOUS"}, both, ""},
		{"rotation: only the sender's previous secret is held", captureSend(t, now, verifyBody, "canary-sender-new-0c4d", verifySecret), nil,
			"ok: " + verifyEventType + " " + verifyID + " verified (webhook-signature)\n", "X-SpecKit-Signature was not checked"},
		{"old capture with a large tolerance", captureSend(t, now.Add(-10*time.Minute), verifyBody, verifySecret),
			[]string{"--tolerance", "1h"}, both, ""},
		{"unset previous secret: a warning", good, []string{"--previous-secret-env", "VERIFY_UNSET"}, both,
			"VERIFY_UNSET is not set: verifying with VERIFY_SECRET only"},
	}
	for _, c := range accept {
		t.Run("accept/"+c.name, func(t *testing.T) {
			code, stdout, stderr := verifyRun(t, c.capture, c.args...)
			if code != 0 || stdout != c.stdout || !strings.Contains(stderr, c.stderr) || (c.stderr == "" && stderr != "") {
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s\ncapture:\n%s", code, stdout, stderr, c.capture)
			}
		})
	}

	tamperedSameLength := bytes.Replace(good, []byte(`"1.0"`), []byte(`"2.0"`), 1)
	reject := []struct {
		name    string
		capture []byte
		args    []string
		reason  string
	}{
		{"tampered body", tamperedSameLength, nil, "does not verify: no v1 entry of webhook-signature matches (the body was tampered with, or the secret is wrong)"},
		{"tampered body, headers block without Content-Length",
			bytes.Replace(editCapture(t, headersOnly, `(?i)content-length: \d+\r\n`, ""), []byte(`"1.0"`), []byte(`"1.1"`), 1), nil, "the body was tampered with"},
		{"text appended to the body", append(bytes.Clone(good), "\n{\"extra\": 1}\n"...), nil, "bytes follow the end of the body"},
		{"truncated body", good[:len(good)-5], nil, "shorter than its Content-Length (" + strconv.Itoa(len(verifyBody)-5) + " of " + strconv.Itoa(len(verifyBody)) + " bytes)"},
		{"wrong secret", captureSend(t, now, verifyBody, "some-other-secret"), nil, "or the secret is wrong"},
		{"previous secret without --previous-secret-env", captureSend(t, now, verifyBody, verifyPrevious), nil, "or the secret is wrong"},
		{"old timestamp", captureSend(t, now.Add(-10*time.Minute), verifyBody, verifySecret), nil, "bad request timestamp: too old: 10m"},
		{"future timestamp", captureSend(t, now.Add(10*time.Minute), verifyBody, verifySecret), nil, "too new"},
		{"missing signature headers",
			editCapture(t, good, `(?i)(x-speckit-signature|webhook-signature): [^\r]*\r\n`, ""), nil, "missing signature header: neither X-SpecKit-Signature nor webhook-signature is present"},
		{"missing webhook-id", editCapture(t, good, `(?i)webhook-id: [^\r]*\r\n`, ""), nil, "webhook-signature is present without webhook-id"},
		{"changed id", editCapture(t, good, `(?i)(webhook-id: )[^\r]*`, "${1}01a241e4-7562-70d8-beeb-000000000000"), nil, "the headers were tampered with"},
	}
	for _, c := range reject {
		t.Run("reject/"+c.name, func(t *testing.T) {
			code, stdout, stderr := verifyRun(t, c.capture, c.args...)
			if code != exitFailed || !strings.HasPrefix(stdout, "fail: ") || !strings.Contains(stdout, c.reason) ||
				!strings.Contains(stderr, "verify: the request does not verify") {
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
		})
	}

	t.Run("json", func(t *testing.T) {
		var got verifyJSON
		code, stdout, _ := verifyRun(t, good, "--json")
		if err := json.Unmarshal([]byte(stdout), &got); err != nil || code != 0 {
			t.Fatalf("exit %d, %v: %s", code, err, stdout)
		}
		if !got.OK || got.ID != verifyID || got.Event != verifyEventType || strings.Join(got.Schemes, ",") != "X-SpecKit-Signature,webhook-signature" || got.Error != "" {
			t.Fatalf("json: %s", stdout)
		}
		code, stdout, _ = verifyRun(t, tamperedSameLength, "--json")
		got = verifyJSON{}
		if err := json.Unmarshal([]byte(stdout), &got); err != nil || code != exitFailed {
			t.Fatalf("exit %d, %v: %s", code, err, stdout)
		}
		if got.OK || got.ID != verifyID || !strings.Contains(got.Error, "tampered") || len(got.Schemes) != 2 {
			t.Fatalf("json: %s", stdout)
		}
		code, stdout, _ = verifyRun(t, captureSend(t, now, verifyBody, "canary-sender-new-0c4d", verifySecret), "--json")
		got = verifyJSON{}
		if err := json.Unmarshal([]byte(stdout), &got); err != nil || code != 0 || !got.OK ||
			len(got.Schemes) != 2 || strings.Join(got.Unchecked, ",") != "X-SpecKit-Signature" {
			t.Fatalf("rotation: exit %d, %v: %s", code, err, stdout)
		}
		code, stdout, _ = verifyRun(t, editCapture(t, good, `(?i)(x-speckit-signature|webhook-signature): [^\r]*\r\n`, ""), "--json")
		if code != exitFailed || !strings.Contains(stdout, `"schemes": []`) {
			t.Fatalf("exit %d: %s", code, stdout)
		}
	})

	t.Run("header values are not printed raw", func(t *testing.T) {
		// No MAC covers X-SpecKit-Event: it is the sender's text. Control
		// characters are refused by the header parser (and quoted in its
		// error); other non-ASCII text is quoted.
		code, stdout, stderr := verifyRun(t, editCapture(t, good, `(?i)(x-speckit-event: )[^\r]*`, "${1}evil\x1b[2J"))
		if code != exitUsage || strings.Contains(stderr, "\x1b") || !strings.Contains(stderr, `evil\x1b[2J`) {
			t.Fatalf("control character: exit %d\nstdout: %q\nstderr: %q", code, stdout, stderr)
		}
		code, stdout, stderr = verifyRun(t, editCapture(t, good, `(?i)(x-speckit-event: )[^\r]*`, "${1}évent"))
		if code != 0 || strings.Contains(stdout, "é") || !strings.Contains(stdout, `ok: "\u00e9vent" `) {
			t.Fatalf("non-ASCII: exit %d\nstdout: %q\nstderr: %s", code, stdout, stderr)
		}
	})

	t.Run("stdin", func(t *testing.T) {
		for _, arg := range []string{"-", ""} {
			path := filepath.Join(t.TempDir(), "in.http")
			os.WriteFile(path, good, 0o644)
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			saved := os.Stdin
			os.Stdin = f
			args := []string{"verify", "--secret-env", "VERIFY_SECRET"}
			if arg != "" {
				args = append(args, arg)
			}
			code, stdout, stderr := verifyArgs(t, args...)
			os.Stdin = saved
			f.Close()
			if code != 0 || stdout != both {
				t.Fatalf("verify %q: exit %d\nstdout: %s\nstderr: %s", arg, code, stdout, stderr)
			}
		}
	})

	t.Run("usage", func(t *testing.T) {
		dir := t.TempDir()
		for _, c := range []struct {
			name   string
			args   []string
			stderr string
		}{
			{"no --secret-env", []string{"verify", "x.http"}, "--secret-env"},
			{"unset secret", []string{"verify", "--secret-env", "VERIFY_UNSET", "x.http"}, "--secret-env: environment variable VERIFY_UNSET is not set"},
			{"missing file", []string{"verify", "--secret-env", "VERIFY_SECRET", filepath.Join(dir, "nope.http")}, "nope.http: no such file"},
			{"directory", []string{"verify", "--secret-env", "VERIFY_SECRET", dir}, "is a directory"},
			{"bad tolerance", []string{"verify", "--secret-env", "VERIFY_SECRET", "--tolerance", "0s", "x.http"}, "--tolerance"},
		} {
			code, stdout, stderr := verifyArgs(t, c.args...)
			if code != exitUsage || stdout != "" || !strings.Contains(stderr, c.stderr) {
				t.Errorf("%s: exit %d\nstdout: %s\nstderr: %s", c.name, code, stdout, stderr)
			}
		}
		t.Setenv("VERIFY_WHSEC", "whsec_not*base64")
		code, _, stderr := verifyArgs(t, "verify", "--secret-env", "VERIFY_WHSEC", "x.http")
		if code != exitUsage || !strings.Contains(stderr, "VERIFY_WHSEC: malformed signing secret") {
			t.Errorf("malformed whsec_ secret: exit %d: %s", code, stderr)
		}
		for name, capture := range map[string][]byte{
			"empty":          nil,
			"blank":          []byte("\n\n"),
			"not a request":  []byte("hello world\n"),
			"bad request":    []byte("POST / HTTP/1.1\r\nbroken header line\r\n\r\n"),
			"bad length":     []byte("Content-Length: ten\n\nbody"),
			"headers broken": []byte("Name: value\nno colon here\n\nbody"),
		} {
			code, stdout, stderr := verifyRun(t, capture)
			if code != exitUsage || stdout != "" || !strings.Contains(stderr, "request.http: ") {
				t.Errorf("%s: exit %d\nstdout: %s\nstderr: %s", name, code, stdout, stderr)
			}
		}
	})
}

// chunkedBody encodes body as two chunks and the last chunk.
func chunkedBody(body []byte) string {
	half := len(body) / 2
	var b strings.Builder
	for _, part := range [][]byte{body[:half], body[half:]} {
		b.WriteString(strconv.FormatInt(int64(len(part)), 16) + "\r\n")
		b.Write(part)
		b.WriteString("\r\n")
	}
	b.WriteString("0\r\n\r\n")
	return b.String()
}
