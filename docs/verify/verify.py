#!/usr/bin/env python3
"""Verify an outbox webhook delivery. Python 3.8+, standard library only.

outbox signs every request with two schemes:

  X-SpecKit-Signature: sha256=<hex HMAC-SHA256(secret, body)>
  webhook-signature:   v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>

The key of webhook-signature is the secret's bytes, or for a "whsec_" secret
the base64 decoding of what follows the prefix. During a rotation
webhook-signature holds one space-separated entry per secret.

  from verify import verify
  verify(request_headers, raw_body, ["current secret", "previous secret"])

CLI (used by the tests):

  python3 verify.py check [FILE]  JSON {"headers", "body" (base64), "secrets",
                                  "now", "tolerance"} from FILE or stdin;
                                  exit 0 and "ok", or exit 1 and the reason
  python3 verify.py serve [PORT]  a receiver on 127.0.0.1; secrets from
                                  $WEBHOOK_SECRET and $WEBHOOK_PREVIOUS_SECRET
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import http.server
import json
import os
import sys
import time

DEFAULT_TOLERANCE = 300  # seconds the timestamp may be off, either way


def verify(headers: dict, body: bytes, secrets: list[str], now: int | None = None,
           tolerance: int = DEFAULT_TOLERANCE) -> None:
    """Return None if the request verifies, else raise ValueError.

    headers: the request's headers, any mapping (names in any case).
    body: the raw body bytes, exactly as received (before any JSON parsing).
    secrets: the secrets you accept, current first; any one may match.
    """
    if not secrets or not all(secrets):
        raise ValueError("no secret, or an empty one")
    h = {k.lower(): v for k, v in headers.items()}
    github = h.get("x-speckit-signature", "")
    entries = h.get("webhook-signature", "").split()
    if not github and not entries:
        raise ValueError("no signature header")

    msg_id = h.get("webhook-id", "")
    if entries:
        if not msg_id or not h.get("webhook-timestamp"):
            raise ValueError("webhook-signature without webhook-id or webhook-timestamp")
        if h.get("x-speckit-id") and h["x-speckit-id"] != msg_id:
            raise ValueError("X-SpecKit-Id differs from webhook-id")
        if "." in msg_id:
            raise ValueError("webhook-id contains '.'")

    ts = _timestamp(h)
    now = int(time.time()) if now is None else now
    if abs(now - ts) > tolerance:
        raise ValueError("timestamp is %ds away from now (tolerance %ds)" % (now - ts, tolerance))

    check_github = bool(github)
    if entries:
        holds_current = _verify_standard(entries, msg_id, ts, body, secrets)
        # X-SpecKit-Signature is made with the sender's current secret only,
        # as is the first v1 entry. A receiver that still holds only the
        # previous secret relies on webhook-signature, which covers the body,
        # the id and the timestamp.
        check_github = check_github and holds_current
    if check_github:
        _verify_github(github, body, secrets)


def _timestamp(h):
    """webhook-timestamp, else X-SpecKit-Request-Timestamp; equal if both."""
    found = None
    for name in ("webhook-timestamp", "x-speckit-request-timestamp"):
        value = h.get(name)
        if not value:
            continue
        if not (value.isascii() and value.isdigit()):
            raise ValueError(name + " is not unix seconds")
        if found is not None and int(value) != found:
            raise ValueError("the two timestamp headers differ")
        found = int(value)
    if found is None:
        raise ValueError("no timestamp header")
    return found


def _key(secret):
    if not secret.startswith("whsec_"):
        return secret.encode()
    try:
        key = base64.b64decode(secret[len("whsec_"):], validate=True)
    except binascii.Error:
        raise ValueError("a whsec_ secret is not valid base64") from None
    if not key:
        raise ValueError("a whsec_ secret holds no key")
    return key


def _verify_standard(entries, msg_id, ts, body, secrets):
    """Accept if any v1 entry matches any secret; return whether a secret
    matched the first v1 entry (the sender's current secret)."""
    signed = ("%s.%d." % (msg_id, ts)).encode() + body
    macs = [hmac.new(_key(s), signed, hashlib.sha256).digest() for s in secrets]
    first = True
    for entry in entries:
        version, _, sig = entry.partition(",")
        if version != "v1":
            continue  # another scheme (v1a is asymmetric): not ours
        is_first, first = first, False
        try:
            got = base64.b64decode(sig, validate=True)
        except binascii.Error:
            continue
        if any(hmac.compare_digest(got, mac) for mac in macs):
            return is_first
    raise ValueError("no v1 entry of webhook-signature matches")


def _verify_github(header, body, secrets):
    digits = header[len("sha256="):] if header.startswith("sha256=") else ""
    try:
        got = bytes.fromhex(digits) if len(digits) == 64 else b""
    except ValueError:
        got = b""
    for s in secrets:
        if hmac.compare_digest(got, hmac.new(s.encode(), body, hashlib.sha256).digest()):
            return
    raise ValueError("X-SpecKit-Signature does not match")


class Receiver(http.server.BaseHTTPRequestHandler):
    """A receiver: verify, then answer 204 (or 401 with the reason)."""

    secrets = []  # set before serving

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            verify(self.headers, body, self.secrets)
        except ValueError as e:
            self.send_response(401)
            self.end_headers()
            self.wfile.write(str(e).encode())
            print("401", e, flush=True)
            return
        # Deliveries are at-least-once: dedupe on webhook-id, then handle
        # json.loads(body).
        self.send_response(204)
        self.end_headers()
        print("204", self.headers["webhook-id"], flush=True)

    def log_message(self, *args):
        pass


def main(argv):
    mode = argv[0] if argv else ""
    if mode == "check":
        with open(argv[1], "rb") if len(argv) > 1 else sys.stdin.buffer as f:
            d = json.load(f)
        try:
            verify(d["headers"], base64.b64decode(d["body"]), d["secrets"],
                   d.get("now"), d.get("tolerance", DEFAULT_TOLERANCE))
        except ValueError as e:
            print("invalid:", e, file=sys.stderr)
            return 1
        print("ok")
        return 0
    if mode == "serve":
        Receiver.secrets = [s for s in (os.environ.get("WEBHOOK_SECRET"),
                                        os.environ.get("WEBHOOK_PREVIOUS_SECRET")) if s]
        port = int(argv[1]) if len(argv) > 1 else 8787
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Receiver)
        print("listening on http://127.0.0.1:%d" % server.server_address[1], flush=True)
        server.serve_forever()
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
