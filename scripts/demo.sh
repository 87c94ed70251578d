#!/usr/bin/env bash
# outbox demo: a sample Spec-Kit repository whose six pipeline stages are
# emitted from their guardrail telemetry and delivered, signed, to a local
# receiver, with no daemon. Run it with `make demo`.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
OUTBOX=${OUTBOX:-$here/bin/outbox}
work=$(mktemp -d "${TMPDIR:-/tmp}/outbox-demo.XXXXXX")
listener=
cleanup() {
  [ -n "$listener" ] && kill "$listener" 2>/dev/null && wait "$listener" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
repo=$work/repo

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "A sample Spec-Kit repository (fixtures/repo) in a temporary directory"
mkdir -p "$repo"
cp -R "$here/fixtures/repo/." "$repo/"
# Evidence names hold colons, which Go's embed cannot store: put them back.
find "$repo" -name '*%3A*' | while read -r f; do mv "$f" "${f//%3A/:}"; done
git -C "$repo" init -q -b main
cat > "$repo/config.toml" <<'TOML'
[spec_ops.webhooks]
enabled = true

[[spec_ops.webhooks.subscriptions]]
id = "chatops"
url_env = "CHATOPS_URL"
secret_env = "SPECKIT_WEBHOOK_SECRET"
include_events = ["spec-auto.stage.completed", "spec-auto.pipeline.completed"]

[[spec_ops.webhooks.subscriptions]]
id = "oncall"
url_env = "ONCALL_URL"
secret_env = "SPECKIT_WEBHOOK_SECRET"
include_status = ["failure", "halt"]

[[spec_ops.webhooks.subscriptions]]
id = "leads"
url_env = "LEADS_URL"
secret_env = "SPECKIT_WEBHOOK_SECRET"
include_events = ["spec-auto.anomaly.consensus_conflict"]
TOML
export SPECKIT_WEBHOOK_SECRET="demo-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
cd "$repo"

say "A local receiver that verifies both signature schemes"
"$OUTBOX" listen --addr 127.0.0.1:0 --secret-env SPECKIT_WEBHOOK_SECRET >"$work/received.log" 2>"$work/listen.err" &
listener=$!
for _ in $(seq 200); do grep -q 'listening on' "$work/listen.err" 2>/dev/null && break; sleep 0.02; done
base=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$work/listen.err")
[ -n "$base" ] || { echo "the receiver did not start"; cat "$work/listen.err"; exit 1; }
echo "receiver: $base"
export CHATOPS_URL=$base/chatops ONCALL_URL=$base/oncall LEADS_URL=$base/leads
run "$OUTBOX" config check

spec=SPEC-KIT-065-add-webhook-notification-system-for
ev=docs/SPEC-OPS-004-integrated-coder-hooks/evidence/commands/$spec
hooks=$ev/webhooks
wait_runs() { flock "$hooks/.deliver.lock" true; }   # kicked deliver runs have finished
say "The six stages of /spec-auto, each emitted by its guardrail hook"
echo "(each emit returns at once and starts a detached 'outbox deliver' for the SPEC)"
for stage in plan tasks implement validate audit unlock; do
  t=$(ls "$ev"/spec-"$stage"_*.json | sort | tail -n 1)
  run "$OUTBOX" emit --telemetry "${t#"$repo"/}"
done

say "A failed validate run: the on-call subscription gets it too"
t=$(ls "$ev"/spec-validate_*.json | sort | head -n 1)
run "$OUTBOX" emit --telemetry "${t#"$repo"/}"

say "The same telemetry again: idempotent, nothing new"
run "$OUTBOX" emit --telemetry "${t#"$repo"/}"

say "Malformed telemetry still notifies, with the parse error in the payload"
run "$OUTBOX" emit --telemetry "$ev/spec-audit_malformed.json"

wait_runs
say "A cron-style run picks up anything left (nothing, here)"
run "$OUTBOX" deliver

say "What the receiver got (every signature verified)"
cat "$work/received.log"

say "What outbox wrote"
run ls -A "$hooks"
printf 'spool/ %s   sent/ %s   dead/ %s\n' "$(ls "$hooks/spool" | wc -l)" "$(ls "$hooks/sent" | wc -l)" "$(ls "$hooks/dead" | wc -l)"
first=$(ls "$hooks/sent" | head -n 1)
say "One delivery file (immutable; due time, attempt, id and subscription in its name)"
echo "sent/$first"
head -n 16 "$hooks/sent/$first"
echo "  ..."
say "The ledger, to be committed with the evidence"
grep -m 3 '"action":"enqueued"' "$hooks/ledger.jsonl"
grep -m 2 '"action":"attempt"' "$hooks/ledger.jsonl"
grep -m 1 '"action":"delivered"' "$hooks/ledger.jsonl"
echo "... $(wc -l < "$hooks/ledger.jsonl") lines"

if grep -rq "$SPECKIT_WEBHOOK_SECRET" "$repo" "$work/received.log"; then echo "secret leaked!"; exit 1; fi
delivered=$(grep -c ' verified' "$work/received.log" || true)
say "Done: $delivered deliveries received and verified, no daemon, no secret written anywhere."
