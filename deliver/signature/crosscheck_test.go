package signature_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/spec-kit/outbox/deliver/signature"
)

// The cross-checks hand headers made by Sign to an independent
// implementation, written from the two specifications with another
// language's standard library, and expect it to accept them, and to reject
// them once the body is changed. Input goes on stdin (never argv).

// crossInput is the JSON document the scripts read.
type crossInput struct {
	Secrets   []string `json:"secrets"` // secrets[0] signed X-SpecKit-Signature
	ID        string   `json:"id"`
	Timestamp string   `json:"timestamp"`
	Body      string   `json:"body"` // base64 of the exact body bytes
	GitHub    string   `json:"github"`
	Standard  string   `json:"standard"`
}

const pythonCheck = `
import base64, hashlib, hmac, json, sys

d = json.load(sys.stdin)
body = base64.b64decode(d["body"])
secrets = d["secrets"]

want = "sha256=" + hmac.new(secrets[0].encode(), body, hashlib.sha256).hexdigest()
if not hmac.compare_digest(want, d["github"]):
    sys.exit("X-SpecKit-Signature mismatch")

entries = [e.split(",", 1) for e in d["standard"].split()]
got = [base64.b64decode(sig) for ver, sig in entries if ver == "v1"]
if len(got) != len(secrets):
    sys.exit("want one v1 entry per secret")
signed = d["id"].encode() + b"." + d["timestamp"].encode() + b"." + body
for s in secrets:
    key = base64.b64decode(s[len("whsec_"):]) if s.startswith("whsec_") else s.encode()
    mac = hmac.new(key, signed, hashlib.sha256).digest()
    if not any(hmac.compare_digest(mac, g) for g in got):
        sys.exit("webhook-signature mismatch")
print("ok")
`

const nodeCheck = `
const crypto = require("crypto");
let input = "";
process.stdin.on("data", (c) => (input += c));
process.stdin.on("end", () => {
  const d = JSON.parse(input);
  const body = Buffer.from(d.body, "base64");
  const fail = (m) => { console.error(m); process.exit(1); };
  const eq = (a, b) => a.length === b.length && crypto.timingSafeEqual(a, b);

  const gh = "sha256=" + crypto.createHmac("sha256", Buffer.from(d.secrets[0], "utf8")).update(body).digest("hex");
  if (!eq(Buffer.from(gh), Buffer.from(d.github))) fail("X-SpecKit-Signature mismatch");

  const got = d.standard.split(" ").filter((e) => e.startsWith("v1,")).map((e) => Buffer.from(e.slice(3), "base64"));
  if (got.length !== d.secrets.length) fail("want one v1 entry per secret");
  const signed = Buffer.concat([Buffer.from(d.id + "." + d.timestamp + ".", "utf8"), body]);
  for (const s of d.secrets) {
    const key = s.startsWith("whsec_") ? Buffer.from(s.slice(6), "base64") : Buffer.from(s, "utf8");
    const mac = crypto.createHmac("sha256", key).update(signed).digest();
    if (!got.some((g) => eq(mac, g))) fail("webhook-signature mismatch");
  }
  console.log("ok");
});
`

func TestCrossCheckPython(t *testing.T) {
	crossCheck(t, "python3", "-c", pythonCheck)
}

func TestCrossCheckNode(t *testing.T) {
	crossCheck(t, "node", "-e", nodeCheck)
}

func crossCheck(t *testing.T, tool string, args ...string) {
	path, err := exec.LookPath(tool)
	if err != nil {
		t.Skipf("%s not found: %v", tool, err)
	}
	// A body with bytes that a careless implementation would mangle: non-
	// ASCII, a NUL, CR LF, a trailing newline.
	body := []byte("{\"name\":\"spéc – ✓\",\"nul\":\"\x00\",\"crlf\":\"a\r\nb\"}\n")
	cases := []struct {
		name    string
		secrets []string
	}{
		{"raw secret", []string{"plain secret with spaces & ünïcode"}},
		{"whsec_ secret", []string{swSecret}},
		{"rotation", []string{"whsec_" + base64.StdEncoding.EncodeToString([]byte("new-key-0123456789abcdef")), "old raw secret"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{}
			ts := time.Unix(1767225600, 0)
			if err := signature.Sign(h, testID, "spec.created", ts, body, c.secrets...); err != nil {
				t.Fatal(err)
			}
			in := crossInput{
				Secrets:   c.secrets,
				ID:        h.Get(signature.HeaderWebhookID),
				Timestamp: h.Get(signature.HeaderWebhookTimestamp),
				Body:      base64.StdEncoding.EncodeToString(body),
				GitHub:    h.Get(signature.HeaderSpecKitSignature),
				Standard:  h.Get(signature.HeaderWebhookSignature),
			}
			if out, err := runCheck(path, args, in); err != nil || strings.TrimSpace(out) != "ok" {
				t.Fatalf("%s rejected Sign's headers: %v: %s", tool, err, out)
			}
			// The check must be able to fail: change one body byte.
			tampered := bytes.Clone(body)
			tampered[1] ^= 1
			in.Body = base64.StdEncoding.EncodeToString(tampered)
			if out, err := runCheck(path, args, in); err == nil {
				t.Fatalf("%s accepted a tampered body: %s", tool, out)
			}
		})
	}
}

func runCheck(path string, args []string, in crossInput) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	data, err := json.Marshal(in)
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
