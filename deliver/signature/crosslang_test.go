package signature_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spec-kit/outbox/deliver/send"
	"github.com/spec-kit/outbox/deliver/signature"
)

// The receiver samples of docs/verifying.md, docs/verify/verify.py and
// docs/verify/verify.js, are run here as real processes against requests
// signed by Sign: each must accept what outbox sends and reject what it must
// not, and agree with Verify on every case.

// moduleRoot walks up from the working directory to the directory of go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// interpreter returns the path of tool, or skips the test naming it.
func interpreter(t *testing.T, tool string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		t.Skipf("%s is not on PATH: cannot run the docs/verify sample for it", tool)
	}
	return path
}

// sample is one documented verifier: an interpreter and its script.
type sample struct{ tool, script string }

func samples() []sample {
	return []sample{{"python3", "docs/verify/verify.py"}, {"node", "docs/verify/verify.js"}}
}

// checkInput is what `verify.py check` and `verify.js check` read.
type checkInput struct {
	Headers   map[string]string `json:"headers"`
	Body      string            `json:"body"` // base64 of the exact body bytes
	Secrets   []string          `json:"secrets"`
	Now       int64             `json:"now"`
	Tolerance int64             `json:"tolerance"`
}

const (
	crossID    = "01a241e4-7562-70d8-beeb-6dd9ff512d47"
	crossEvent = "spec-auto.stage.completed"
	crossTS    = int64(1767225600)
)

var (
	// A body a careless receiver would mangle: non-ASCII, CR LF, a
	// trailing newline.
	crossBody = []byte("{\n  \"spec\": \"SPEC-KIT-065 – spéc ✓\",\n  \"crlf\": \"a\r\nb\"\n}\n")

	plainSecret = "plain secret with spaces & ünïcode"
	newSecret   = "whsec_" + base64.StdEncoding.EncodeToString([]byte("new-key-0123456789abcdef0123456789"))
	oldSecret   = "old raw secret"
)

type crossCase struct {
	name     string
	sign     []string // secrets the sender signs with, current first
	accept   []string // secrets the receiver accepts
	now      int64    // receiver's clock
	body     []byte   // body the receiver gets; nil: the signed body
	edit     func(h http.Header)
	verifies bool
}

func crossCases() []crossCase {
	now := crossTS + 30
	tampered := bytes.Clone(crossBody)
	tampered[5] ^= 1
	dropStandard := func(h http.Header) {
		h.Del(signature.HeaderWebhookID)
		h.Del(signature.HeaderWebhookTimestamp)
		h.Del(signature.HeaderWebhookSignature)
	}
	return []crossCase{
		{name: "plain secret", sign: []string{plainSecret}, accept: []string{plainSecret}, now: now, verifies: true},
		{name: "whsec_ secret", sign: []string{swSecret}, accept: []string{swSecret}, now: now, verifies: true},
		{name: "rotation, receiver on the new secret", sign: []string{newSecret, oldSecret}, accept: []string{newSecret}, now: now, verifies: true},
		{name: "rotation, receiver still on the old secret", sign: []string{newSecret, oldSecret}, accept: []string{oldSecret}, now: now, verifies: true},
		{name: "rotation, receiver accepts both", sign: []string{newSecret, oldSecret}, accept: []string{oldSecret, newSecret}, now: now, verifies: true},
		{name: "X-SpecKit headers only", sign: []string{plainSecret}, accept: []string{plainSecret}, now: now, edit: dropStandard, verifies: true},
		{name: "Standard Webhooks headers only", sign: []string{swSecret}, accept: []string{swSecret}, now: now,
			edit: func(h http.Header) { h.Del(signature.HeaderSpecKitSignature) }, verifies: true},
		{name: "timestamp at the tolerance", sign: []string{plainSecret}, accept: []string{plainSecret}, now: crossTS + 300, verifies: true},

		{name: "tampered body", sign: []string{plainSecret}, accept: []string{plainSecret}, now: now, body: tampered},
		{name: "tampered body, whsec_ secret", sign: []string{swSecret}, accept: []string{swSecret}, now: now, body: tampered},
		{name: "tampered body, X-SpecKit headers only", sign: []string{plainSecret}, accept: []string{plainSecret}, now: now, body: tampered, edit: dropStandard},
		{name: "wrong secret", sign: []string{plainSecret}, accept: []string{"another secret"}, now: now},
		{name: "wrong secret, rotation", sign: []string{newSecret, oldSecret}, accept: []string{"another secret"}, now: now},
		{name: "wrong secret, X-SpecKit headers only", sign: []string{plainSecret}, accept: []string{"another secret"}, now: now, edit: dropStandard},
		{name: "stale timestamp", sign: []string{plainSecret}, accept: []string{plainSecret}, now: crossTS + 301},
		{name: "stale timestamp, X-SpecKit headers only", sign: []string{plainSecret}, accept: []string{plainSecret}, now: crossTS + 3600, edit: dropStandard},
		{name: "timestamp in the future", sign: []string{plainSecret}, accept: []string{plainSecret}, now: crossTS - 301},
		{name: "timestamps changed", sign: []string{plainSecret}, accept: []string{plainSecret}, now: now,
			edit: func(h http.Header) {
				h.Set(signature.HeaderWebhookTimestamp, "1767225601")
				h.Set(signature.HeaderSpecKitTimestamp, "1767225601")
			}},
		{name: "forged X-SpecKit-Signature, rotation", sign: []string{newSecret, oldSecret}, accept: []string{newSecret}, now: now,
			edit: func(h http.Header) {
				h.Set(signature.HeaderSpecKitSignature, signature.GitHubSignature(newSecret, []byte("other")))
			}},
		{name: "X-SpecKit-Id differs from webhook-id", sign: []string{plainSecret}, accept: []string{plainSecret}, now: now,
			edit: func(h http.Header) { h.Set(signature.HeaderSpecKitID, "01a241e4-0000-70d8-beeb-6dd9ff512d47") }},
		// A correct MAC over "a.b.<ts>.<body>": refused all the same, since a
		// dot in the id lets the signed parts shift.
		{name: "dotted webhook-id", sign: []string{plainSecret}, accept: []string{plainSecret}, now: now,
			edit: func(h http.Header) {
				h.Del(signature.HeaderSpecKitSignature)
				h.Del(signature.HeaderSpecKitID)
				h.Set(signature.HeaderWebhookID, "a.b")
				mac := hmac.New(sha256.New, []byte(plainSecret))
				fmt.Fprintf(mac, "a.b.%s.", h.Get(signature.HeaderWebhookTimestamp))
				mac.Write(crossBody)
				h.Set(signature.HeaderWebhookSignature, "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
			}},
		{name: "no signature", sign: []string{plainSecret}, accept: []string{plainSecret}, now: now,
			edit: func(h http.Header) {
				h.Del(signature.HeaderSpecKitSignature)
				h.Del(signature.HeaderWebhookSignature)
			}},
	}
}

// TestDocVerifiers runs `verify.py check` and `verify.js check` on every
// case, with the request as JSON on stdin.
func TestDocVerifiers(t *testing.T) {
	root := moduleRoot(t)
	for _, s := range samples() {
		t.Run(s.tool, func(t *testing.T) {
			path := interpreter(t, s.tool)
			script := filepath.Join(root, filepath.FromSlash(s.script))
			for _, c := range crossCases() {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					h := http.Header{}
					if err := signature.Sign(h, crossID, crossEvent, time.Unix(crossTS, 0), crossBody, c.sign...); err != nil {
						t.Fatal(err)
					}
					if c.edit != nil {
						c.edit(h)
					}
					body := crossBody
					if c.body != nil {
						body = c.body
					}
					// Verify is the reference: the case itself must be right.
					goErr := signature.Verify(h, body, time.Unix(c.now, 0), signature.DefaultTolerance, c.accept...)
					if (goErr == nil) != c.verifies {
						t.Fatalf("signature.Verify: %v, want verifies=%v", goErr, c.verifies)
					}
					in := checkInput{Headers: map[string]string{}, Body: base64.StdEncoding.EncodeToString(body),
						Secrets: c.accept, Now: c.now, Tolerance: int64(signature.DefaultTolerance / time.Second)}
					for k := range h {
						in.Headers[k] = h.Get(k) // canonical names (Webhook-Signature): case must not matter
					}
					out, err := runDocCheck(path, script, in)
					var exit *exec.ExitError
					switch {
					case err == nil && c.verifies && out == "ok\n":
					case errors.As(err, &exit) && exit.ExitCode() == 1 && !c.verifies && strings.HasPrefix(out, "invalid: "):
						t.Logf("rejected as expected: %s", strings.TrimSpace(out))
					default:
						t.Fatalf("%s %s check: %v: %q; want verifies=%v (Verify says: %v)", s.tool, s.script, err, out, c.verifies, goErr)
					}
				})
			}
		})
	}
}

// TestDocReceivers starts `verify.py serve` and `verify.js serve` and
// delivers to them with outbox's own HTTP sender (deliver/send), so the
// requests are exactly those `outbox deliver` makes.
func TestDocReceivers(t *testing.T) {
	root := moduleRoot(t)
	for _, s := range samples() {
		t.Run(s.tool, func(t *testing.T) {
			path := interpreter(t, s.tool)
			url := startReceiver(t, path, filepath.Join(root, filepath.FromSlash(s.script)),
				"WEBHOOK_SECRET="+newSecret, "WEBHOOK_PREVIOUS_SECRET="+oldSecret)
			client := send.NewClient(1, "outbox-doc-test")
			t.Cleanup(client.CloseIdle)
			for _, c := range []struct {
				name    string
				secrets []string
				status  int
			}{
				{"current secret", []string{newSecret}, http.StatusNoContent},
				{"rotation", []string{newSecret, oldSecret}, http.StatusNoContent},
				{"previous secret only", []string{oldSecret}, http.StatusNoContent},
				{"wrong secret", []string{plainSecret}, http.StatusUnauthorized},
			} {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				res := client.Send(ctx, send.Request{URL: url + "/speckit", ID: crossID, Event: crossEvent, Body: crossBody,
					Secrets: c.secrets, Timeout: 5 * time.Second}, time.Now())
				cancel()
				if res.Status != c.status {
					t.Errorf("%s: status %d (%s), want %d", c.name, res.Status, res.Error, c.status)
				}
			}
		})
	}
}

// startReceiver runs `<tool> <script> serve 0` with env added, waits for its
// "listening on URL" line and returns URL. The process is killed when the
// test ends.
func startReceiver(t *testing.T, path, script string, env ...string) string {
	t.Helper()
	cmd := exec.Command(path, script, "serve", "0")
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, stdout) // keep the receiver's request log from blocking it
	}()
	select {
	case line, ok := <-lines:
		url, found := strings.CutPrefix(line, "listening on ")
		if !ok || !found {
			t.Fatalf("%s serve: first line %q; stderr: %s", script, line, stderr.String())
		}
		return url
	case <-time.After(30 * time.Second):
		t.Fatalf("%s serve: not listening after 30s", script)
	}
	return ""
}

// TestVerifyingDocEmbedsCode keeps the code blocks of docs/verifying.md
// identical to the code they show. A block is preceded by a line
//
//	<!-- embed: docs/verify/verify.py -->
//	<!-- embed: deliver/signature/example_test.go#ExampleVerify -->
//
// and must equal, byte for byte, the whole file or the named function's
// source.
func TestVerifyingDocEmbedsCode(t *testing.T) {
	root := moduleRoot(t)
	doc, err := os.ReadFile(filepath.Join(root, "docs", "verifying.md"))
	if err != nil {
		t.Fatal(err)
	}
	embeds := parseEmbeds(t, string(doc))
	for _, want := range []string{"docs/verify/verify.py", "docs/verify/verify.js", "deliver/signature/example_test.go#ExampleVerify"} {
		if _, ok := embeds[want]; !ok {
			t.Errorf("docs/verifying.md does not embed %s", want)
		}
	}
	for ref, block := range embeds {
		file, fn, _ := strings.Cut(ref, "#")
		src, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(file)))
		if err != nil {
			t.Errorf("embed %s: %v", ref, err)
			continue
		}
		want := string(src)
		if fn != "" {
			want = funcSource(t, file, src, fn)
		}
		if block != want {
			t.Errorf("docs/verifying.md: the block embedding %s differs from it; paste the file again\n%s", ref, firstDiff(block, want))
		}
	}
}

var embedRe = regexp.MustCompile(`^<!-- embed: (\S+) -->$`)

// parseEmbeds returns, per embed reference, the content of the fenced block
// that follows it (fence lines excluded, each line with its newline).
func parseEmbeds(t *testing.T, doc string) map[string]string {
	t.Helper()
	out := map[string]string{}
	lines := strings.SplitAfter(doc, "\n")
	for i := 0; i < len(lines); i++ {
		m := embedRe.FindStringSubmatch(strings.TrimRight(lines[i], "\n"))
		if m == nil {
			continue
		}
		if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "```") {
			t.Fatalf("docs/verifying.md:%d: embed %s is not followed by a fenced block", i+1, m[1])
		}
		fence := strings.TrimRight(lines[i+1], "\n")
		fence = fence[:len(fence)-len(strings.TrimLeft(fence, "`"))]
		var b strings.Builder
		j := i + 2
		for ; j < len(lines) && strings.TrimRight(lines[j], "\n") != fence; j++ {
			b.WriteString(lines[j])
		}
		if j == len(lines) {
			t.Fatalf("docs/verifying.md:%d: the block of embed %s is not closed", i+2, m[1])
		}
		if _, dup := out[m[1]]; dup {
			t.Fatalf("docs/verifying.md:%d: %s is embedded twice", i+1, m[1])
		}
		out[m[1]] = b.String()
		i = j
	}
	return out
}

// funcSource returns the source of the top-level function name in src, from
// "func" to its closing brace, followed by a newline.
func funcSource(t *testing.T, file string, src []byte, name string) string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == name && fd.Recv == nil {
			return string(src[fset.Position(fd.Pos()).Offset:fset.Position(fd.End()).Offset]) + "\n"
		}
	}
	t.Fatalf("%s has no function %s", file, name)
	return ""
}

// firstDiff describes the first line where got and want differ.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n  doc:  %q\n  file: %q", i+1, gl, wl)
		}
	}
	return ""
}

// runDocCheck runs `<tool> <script> check` with in as JSON on stdin and
// returns its combined output.
func runDocCheck(path, script string, in checkInput) (string, error) {
	data, err := json.Marshal(in)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, script, "check")
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
