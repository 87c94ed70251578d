#!/usr/bin/env bash
# outbox demo: a sample Spec-Kit repository, its six pipeline stages emitted
# from their guardrail telemetry, and what outbox wrote. Run it with `make demo`.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
OUTBOX=${OUTBOX:-$here/bin/outbox}
work=$(mktemp -d "${TMPDIR:-/tmp}/outbox-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
repo=$work/repo

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "A sample Spec-Kit repository (fixtures/repo) in $work"
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
url = "http://127.0.0.1:8787/chatops"
secret_env = "SPECKIT_WEBHOOK_SECRET"
include_events = ["spec-auto.stage.completed", "spec-auto.pipeline.completed"]

[[spec_ops.webhooks.subscriptions]]
id = "oncall"
url = "http://127.0.0.1:8787/oncall"
secret_env = "SPECKIT_WEBHOOK_SECRET"
include_status = ["failure", "halt"]

[[spec_ops.webhooks.subscriptions]]
id = "leads"
url = "http://127.0.0.1:8787/leads"
secret_env = "SPECKIT_WEBHOOK_SECRET"
include_events = ["spec-auto.anomaly.consensus_conflict"]
TOML
export SPECKIT_WEBHOOK_SECRET="demo-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
cd "$repo"
run "$OUTBOX" config check

spec=SPEC-KIT-065-add-webhook-notification-system-for
ev=docs/SPEC-OPS-004-integrated-coder-hooks/evidence/commands/$spec
say "The six stages of /spec-auto, each emitted by its guardrail hook"
for stage in plan tasks implement validate audit unlock; do
  t=$(ls "$ev"/spec-"$stage"_*.json | grep -v malformed | sort | tail -n 1)
  run "$OUTBOX" emit --telemetry "${t#"$repo"/}"
done

say "A failed validate run: the on-call subscription gets it too"
t=$(ls "$ev"/spec-validate_*.json | sort | head -n 1)
run "$OUTBOX" emit --telemetry "$t"

say "The same telemetry again: idempotent, nothing new"
run "$OUTBOX" emit --telemetry "$t"

say "Malformed telemetry still notifies, with the parse error in the payload"
run "$OUTBOX" emit --telemetry "$ev/spec-audit_malformed.json" || true

say "What outbox wrote"
hooks=$ev/webhooks
run ls -A "$hooks"
printf '%s pending deliveries in spool/\n' "$(ls "$hooks/spool" | wc -l)"
first=$(ls "$hooks/spool" | head -n 1)
say "One delivery file (immutable; due time, attempt, id and subscription in its name)"
echo "$hooks/spool/$first"
head -n 30 "$hooks/spool/$first"
say "The ledger (committed with the evidence)"
head -n 5 "$hooks/ledger.jsonl"
echo "... $(wc -l < "$hooks/ledger.jsonl") lines"
if grep -rq "$SPECKIT_WEBHOOK_SECRET" "$repo"; then echo "secret leaked!"; exit 1; fi
say "Done. 'outbox deliver' (next) sends what is in spool/."
