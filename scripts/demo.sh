#!/usr/bin/env bash
# outbox demo: the story of SPEC-KIT-065 end to end, on loopback, with no
# daemon. A sample Spec-Kit repository runs the six /spec-auto stages (each
# guardrail emits its event; a local `outbox listen` receives them, signed), a
# consensus conflict reaches only the subscription that opted into anomalies,
# the pipeline completes, a second run fails validation and says which stage
# failed, an unreachable endpoint dead-letters, comes back and `outbox replay`
# delivers, and the ledger is committed. Run it with `make demo`.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
OUTBOX=${OUTBOX:-$here/bin/outbox}
work=$(mktemp -d "${TMPDIR:-/tmp}/outbox-demo.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
repo=$work/repo

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "${*/#$OUTBOX/outbox}"; "$@"; }
outbox() { run "$OUTBOX" "$@"; }

# listen NAME ADDR: start `outbox listen` in the background; sets $url.
listen() {
  local name=$1 addr=$2
  "$OUTBOX" listen --addr "$addr" --secret-env SPECKIT_WEBHOOK_SECRET >>"$work/$name.log" 2>"$work/$name.err" &
  pids+=($!)
  url=
  for _ in $(seq 250); do
    url=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$work/$name.err" 2>/dev/null)
    [ -n "$url" ] && return 0
    sleep 0.02
  done
  echo "receiver $name did not start:"; cat "$work/$name.err"; exit 1
}
stop_last() { local p=${pids[-1]}; kill -INT "$p"; wait "$p" 2>/dev/null || true; unset 'pids[-1]'; }

spec=SPEC-KIT-065-add-webhook-notification-system-for
ev=docs/SPEC-OPS-004-integrated-coder-hooks/evidence/commands/$spec
cons=docs/SPEC-OPS-004-integrated-coder-hooks/evidence/consensus/$spec
hooks=$ev/webhooks
newest() { ls "$ev"/spec-"$1"_2*.json | sort | tail -n 1; }
# settle waits until the kicked deliver runs are done: nothing left in the
# spool (everything sent or dead) and no run holding the SPEC's lock.
settle() {
  for _ in $(seq 1500); do
    if [ -z "$(ls -A "$hooks/spool")" ] && flock -n "$hooks/.deliver.lock" true; then return 0; fi
    sleep 0.02
  done
  echo "deliveries did not settle"; exit 1
}

say "A sample Spec-Kit repository (fixtures/repo), committed, in a temporary directory"
mkdir -p "$repo"
cp -R "$here/fixtures/repo/." "$repo/"
# Evidence names hold colons, which Go's embed cannot store: put them back.
find "$repo" -name '*%3A*' | while read -r f; do mv "$f" "${f//%3A/:}"; done
export GIT_AUTHOR_NAME="Demo Dev" GIT_AUTHOR_EMAIL=dev@example.com GIT_COMMITTER_NAME="Demo Dev" GIT_COMMITTER_EMAIL=dev@example.com
git -C "$repo" init -q -b main
git -C "$repo" add -A
git -C "$repo" commit -q -m "SPEC-KIT-065 evidence"
export SPECKIT_WEBHOOK_SECRET="demo-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
cd "$repo"

say "Two local receivers: CI/chat-ops and the engineering leads; the archive endpoint is down"
listen receiver 127.0.0.1:0
main=$url
listen archive 127.0.0.1:0    # learn a free port, then take the archive down
archive_addr=${url#http://}
stop_last
echo "receiver: $main    archive: http://$archive_addr (down)"
export CI_URL=$main/ci LEADS_URL=$main/leads ARCHIVE_URL=http://$archive_addr/archive
cat > config.toml <<'TOML'
[spec_ops.webhooks]
enabled = true
consensus_conflict_threshold = 1
evidence_base_url = "https://git.example.com/acme/speckit/blob/{commit}/{path}"
commit_author = "outbox <outbox@example.com>"

# P1: CI continues when stages and pipelines finish.
[[spec_ops.webhooks.subscriptions]]
id = "ci"
url_env = "CI_URL"
secret_env = "SPECKIT_WEBHOOK_SECRET"
include_events = ["spec-auto.stage.completed", "spec-auto.pipeline.completed"]

# P2: leads hear about consensus conflicts, and nothing else.
[[spec_ops.webhooks.subscriptions]]
id = "leads"
url_env = "LEADS_URL"
secret_env = "SPECKIT_WEBHOOK_SECRET"
include_events = ["spec-auto.anomaly.consensus_conflict"]

# P3: an archive of pipeline results, unreachable for now.
[[spec_ops.webhooks.subscriptions]]
id = "archive"
url_env = "ARCHIVE_URL"
secret_env = "SPECKIT_WEBHOOK_SECRET"
include_events = ["spec-auto.pipeline.completed"]
max_attempts = 3
initial_backoff_ms = 100
jitter_ms = 0
TOML
outbox init >/dev/null
git add .gitattributes config.toml && git commit -q -m "outbox config"
outbox config check

say "Run 1: /spec-auto $spec (each guardrail hook emits its stage, in milliseconds)"
echo "(every emit starts a detached 'outbox deliver --spec' and returns; plan and tasks also pass their consensus)"
outbox emit --telemetry "$(newest plan)" --consensus "$cons/spec-plan_2026-11-20T10:05:12Z_synthesis.json"
outbox emit --telemetry "$(newest tasks)" --consensus "$cons/spec-tasks_2026-11-20T10:15:40Z_synthesis.json"
for stage in implement validate audit unlock; do
  outbox emit --telemetry "$(newest "$stage")"
done
say "The /spec-auto runner reports the pipeline (stages and statuses from the newest telemetry)"
outbox emit --spec "$spec" --event spec-auto.pipeline.completed --status success
settle

say "Run 2: validation fails (its guardrail writes new telemetry, then emits)"
t2=$ev/spec-validate_2026-11-21T09:00:00Z-4242.json
cat > "$t2" <<JSON
{"schemaVersion": 1, "command": "spec-ops-validate", "specId": "$spec",
 "sessionId": "2026-11-21T09:00:00Z-4242", "timestamp": "2026-11-21T09:04:10Z",
 "scenarios": [{"name": "webhook delivery smoke", "status": "passed"},
               {"name": "replay after endpoint recovery", "status": "failed"}],
 "policy": {"final": {"status": "passed"}}, "artifacts": []}
JSON
outbox emit --telemetry "$t2"
outbox emit --spec "$spec" --event spec-auto.pipeline.completed
settle

say "What the receiver got (one line per delivery; every signature verified)"
cat "$work/receiver.log"
anomaly_ci=$(grep -c ' /ci .*consensus_conflict' "$work/receiver.log" || true)
echo "leads got $(grep -c ' /leads ' "$work/receiver.log" || true) delivery (the consensus conflict); ci got $anomaly_ci anomalies"

say "The failed pipeline's payload names the stage and its telemetry"
failed_id=$(grep ' /ci ' "$work/receiver.log" | grep 'pipeline.completed' | tail -n 1 | awk '{print $4}')
"$OUTBOX" show "$failed_id" | grep -E '"(failed_stage|failed_telemetry|resume_command)"' | sed 's/^ */  /'

say "The consensus anomaly carries a summary and the arbiter's mitigation"
leads_id=$(grep ' /leads ' "$work/receiver.log" | head -n 1 | awk '{print $4}')
"$OUTBOX" show "$leads_id" | grep -E '"summary"|"source": "arbiter"|"decision"' | cut -c1-150 | sed 's/^ */  /'

say "The archive was unreachable: three attempts, then dead letters"
outbox list --failed || true

say "The archive comes back; replay sends the same deliveries (same ids), and commits the evidence"
dead_ids=$(ls "$hooks/dead" | cut -d_ -f3 | sort)
listen archive "$archive_addr"
outbox replay --failed --subscription archive --commit
cat "$work/archive.log"
if [ "$(awk '{print $4}' "$work/archive.log" | sort)" != "$dead_ids" ]; then echo "replayed ids differ from the dead letters'!"; exit 1; fi
say "The commit holds the SPEC's webhooks/ files and nothing else"
run git log --oneline -3
run git show -s --format='%h %an: %s' HEAD
echo "files in the commit, by folder:"
git show --name-only --format= HEAD | sed "s#^$hooks/##" | awk -F/ '{print "  " (NF > 1 ? $1 "/" : $1)}' | sort | uniq -c
if git show --name-only --format= HEAD | grep -v "^$hooks/"; then echo "a file outside webhooks/ was committed!"; exit 1; fi
if git status --porcelain -- "$hooks" | grep .; then echo "uncommitted webhook files!"; exit 1; fi

for f in "$work"/*.log; do
  if grep -q "$SPECKIT_WEBHOOK_SECRET" "$f"; then echo "secret leaked into $f!"; exit 1; fi
done
if grep -rq "$SPECKIT_WEBHOOK_SECRET" "$repo"; then echo "secret leaked into the repository!"; exit 1; fi

all=$(cat "$work/receiver.log" "$work/archive.log")
count() { printf '%s\n' "$all" | grep -c "$1" || true; }
failed_stage=$(grep -ho '"failed_stage": "[A-Za-z]*"' "$hooks"/sent/* | sort -u | cut -d'"' -f4)
say "Summary"
cat <<EOF
  stage events received     $(count 'stage.completed') at ci
  consensus anomalies       $(count ' /leads ') at leads, $(count 'consensus_conflict.* /ci ') at ci
  pipelines completed       $(count 'pipeline.completed.* /ci ') at ci (success, then failure at ${failed_stage:-?})
  dead letters replayed     $(count ' /archive ') at archive, same ids as their first attempts
  signatures verified       $(count ' verified') of $(printf '%s\n' "$all" | grep -c .) deliveries
  ledger lines              $(wc -l < "$hooks/ledger.jsonl"), committed in $(git log -1 --format=%h)
  secrets written anywhere  none
  left running              nothing
EOF
