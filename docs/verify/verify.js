// Verify an outbox webhook delivery. Node 18+, CommonJS, built-in modules only.
//
// outbox signs every request with two schemes:
//
//   X-SpecKit-Signature: sha256=<hex HMAC-SHA256(secret, body)>
//   webhook-signature:   v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>
//
// The key of webhook-signature is the secret's bytes, or for a "whsec_" secret
// the base64 decoding of what follows the prefix. During a rotation
// webhook-signature holds one space-separated entry per secret.
//
//   const { verify } = require("./verify");
//   verify(req.headers, rawBody, ["current secret", "previous secret"]);
//
// CLI (used by the tests):
//
//   node verify.js check [FILE]  JSON {"headers", "body" (base64), "secrets",
//                                "now", "tolerance"} from FILE or stdin;
//                                exit 0 and "ok", or exit 1 and the reason
//   node verify.js serve [PORT]  a receiver on 127.0.0.1; secrets from
//                                $WEBHOOK_SECRET and $WEBHOOK_PREVIOUS_SECRET
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const http = require("node:http");

const DEFAULT_TOLERANCE = 300; // seconds the timestamp may be off, either way

// verify returns if the request verifies, else throws an Error.
//   headers: the request's headers (names in any case), e.g. req.headers.
//   body: the raw body as a Buffer, exactly as received (before JSON.parse).
//   secrets: the secrets you accept, current first; any one may match.
function verify(headers, body, secrets, now = null, tolerance = DEFAULT_TOLERANCE) {
  if (!secrets || secrets.length === 0 || !secrets.every((s) => s)) {
    throw new Error("no secret, or an empty one");
  }
  const h = {};
  for (const [k, v] of Object.entries(headers)) h[k.toLowerCase()] = Array.isArray(v) ? v.join(" ") : String(v);
  const github = h["x-speckit-signature"] || "";
  const entries = (h["webhook-signature"] || "").split(/\s+/).filter(Boolean);
  if (!github && entries.length === 0) throw new Error("no signature header");

  const id = h["webhook-id"] || "";
  if (entries.length > 0) {
    if (!id || !h["webhook-timestamp"]) {
      throw new Error("webhook-signature without webhook-id or webhook-timestamp");
    }
    if (h["x-speckit-id"] && h["x-speckit-id"] !== id) throw new Error("X-SpecKit-Id differs from webhook-id");
    if (id.includes(".")) throw new Error("webhook-id contains '.'");
  }

  const ts = timestamp(h);
  if (now === null || now === undefined) now = Math.floor(Date.now() / 1000);
  if (Math.abs(now - ts) > tolerance) {
    throw new Error(`timestamp is ${now - ts}s away from now (tolerance ${tolerance}s)`);
  }

  let checkGitHub = Boolean(github);
  if (entries.length > 0) {
    const holdsCurrent = verifyStandard(entries, id, ts, body, secrets);
    // X-SpecKit-Signature is made with the sender's current secret only, as
    // is the first v1 entry. A receiver that still holds only the previous
    // secret relies on webhook-signature, which covers the body, the id and
    // the timestamp.
    checkGitHub = checkGitHub && holdsCurrent;
  }
  if (checkGitHub) verifyGitHub(github, body, secrets);
}

// timestamp: webhook-timestamp, else X-SpecKit-Request-Timestamp; equal if both.
function timestamp(h) {
  let found = null;
  for (const name of ["webhook-timestamp", "x-speckit-request-timestamp"]) {
    const value = h[name];
    if (!value) continue;
    if (!/^[0-9]+$/.test(value)) throw new Error(`${name} is not unix seconds`);
    if (found !== null && Number(value) !== found) throw new Error("the two timestamp headers differ");
    found = Number(value);
  }
  if (found === null) throw new Error("no timestamp header");
  return found;
}

// base64 decodes strict standard base64 (Buffer.from alone skips bad characters).
function base64(s) {
  return /^[A-Za-z0-9+/]*={0,2}$/.test(s) && s.length % 4 === 0 ? Buffer.from(s, "base64") : null;
}

function key(secret) {
  if (!secret.startsWith("whsec_")) return Buffer.from(secret, "utf8");
  const k = base64(secret.slice("whsec_".length));
  if (k === null) throw new Error("a whsec_ secret is not valid base64");
  if (k.length === 0) throw new Error("a whsec_ secret holds no key");
  return k;
}

// Constant-time comparison; timingSafeEqual throws on different lengths.
function equal(a, b) {
  return a !== null && a.length === b.length && crypto.timingSafeEqual(a, b);
}

// verifyStandard accepts if any v1 entry matches any secret, and returns
// whether a secret matched the first v1 entry (the sender's current secret).
function verifyStandard(entries, id, ts, body, secrets) {
  const signed = Buffer.concat([Buffer.from(`${id}.${ts}.`, "utf8"), body]);
  const macs = secrets.map((s) => crypto.createHmac("sha256", key(s)).update(signed).digest());
  let first = true;
  for (const entry of entries) {
    const comma = entry.indexOf(",");
    if (comma < 0 || entry.slice(0, comma) !== "v1") continue; // v1a is asymmetric: not ours
    const isFirst = first;
    first = false;
    const got = base64(entry.slice(comma + 1));
    if (macs.some((mac) => equal(got, mac))) return isFirst;
  }
  throw new Error("no v1 entry of webhook-signature matches");
}

function verifyGitHub(header, body, secrets) {
  const digits = header.startsWith("sha256=") ? header.slice("sha256=".length) : "";
  const got = /^[0-9a-fA-F]{64}$/.test(digits) ? Buffer.from(digits, "hex") : null;
  for (const s of secrets) {
    if (equal(got, crypto.createHmac("sha256", Buffer.from(s, "utf8")).update(body).digest())) return;
  }
  throw new Error("X-SpecKit-Signature does not match");
}

// receiver returns a request listener: verify, then answer 204 (or 401 with
// the reason).
function receiver(secrets) {
  return (req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      try {
        verify(req.headers, Buffer.concat(chunks), secrets);
      } catch (e) {
        res.writeHead(401).end(e.message);
        console.log("401", e.message);
        return;
      }
      // Deliveries are at-least-once: dedupe on webhook-id, then handle
      // JSON.parse(body).
      res.writeHead(204).end();
      console.log("204", req.headers["webhook-id"]);
    });
  };
}

module.exports = { verify, receiver, DEFAULT_TOLERANCE };

if (require.main === module) {
  const [mode, arg] = process.argv.slice(2);
  if (mode === "check") {
    const d = JSON.parse(fs.readFileSync(arg || 0, "utf8"));
    try {
      verify(d.headers, Buffer.from(d.body, "base64"), d.secrets, d.now, d.tolerance ?? DEFAULT_TOLERANCE);
    } catch (e) {
      console.error("invalid:", e.message);
      process.exit(1);
    }
    console.log("ok");
  } else if (mode === "serve") {
    const secrets = [process.env.WEBHOOK_SECRET, process.env.WEBHOOK_PREVIOUS_SECRET].filter(Boolean);
    const server = http.createServer(receiver(secrets));
    server.listen(Number(arg || 8787), "127.0.0.1", () => {
      console.log(`listening on http://127.0.0.1:${server.address().port}`);
    });
  } else {
    console.error("usage: node verify.js check [FILE] | serve [PORT]");
    process.exit(2);
  }
}
