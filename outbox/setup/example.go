package setup

import (
	"strings"

	"github.com/spec-kit/outbox/outbox/config"
)

// exampleMarker is the first line of the block appended to config.toml.
const exampleMarker = "# --- outbox: webhooks for Spec-Kit pipelines (added by `outbox init`) ---"

// Example is the [spec_ops.webhooks] section that Init appends to a
// config.toml that has none. It parses as it is (webhooks off, no
// subscription), and it still parses, with one subscription, when every
// commented setting (a line "# key = ..." or "# [[...]]") is uncommented.
// Every value is a default or names an environment variable: it holds no
// URL and no secret.
func Example() string {
	return strings.ReplaceAll(exampleText, "{{spool_dir}}", config.DefaultSpoolDir)
}

const exampleText = exampleMarker + `
# outbox turns pipeline events into signed webhooks: 'outbox emit' spools them
# (no network), 'outbox deliver' sends them. Check this section with
# 'outbox config check'. Environment variables win over this file:
#   SPECKIT_WEBHOOKS_ENABLED=1|0   turns webhooks on or off (overrides enabled)
#   SPECKIT_WEBHOOKS_DRY_RUN=1     record requests under webhooks/dry-run/ instead of sending them
[spec_ops.webhooks]
# Master switch: nothing is spooled or sent until it is true.
enabled = false
# Parallel deliveries across subscriptions and SPECs (>= 1).
# max_concurrency = 4
# Per-SPEC folder of the spool, sent/, dead/ and the committed ledger.jsonl;
# relative to the repository root, must contain {spec_id}. After changing it,
# run 'outbox init' again so .gitattributes and .gitignore follow it.
# spool_dir = "{{spool_dir}}"
# Record every request under webhooks/dry-run/ instead of sending it.
# dry_run = false
# 'outbox emit' starts a background 'outbox deliver' for the SPEC.
# kick = true

# One table per receiver. Uncomment it, then export the variables it names:
# the secret, and the URL (URLs can hold tokens), only come from the environment.
# [[spec_ops.webhooks.subscriptions]]
# Unique name: letters, digits, '.' and '-' (it is part of file names).
# id = "chatops"
# Variable holding the https:// URL (or set url = "https://..." directly).
# url_env = "SPECKIT_WEBHOOK_URL"
# Variable holding the HMAC-SHA256 secret that signs every request.
# secret_env = "SPECKIT_WEBHOOK_SECRET"
# Events to receive (default: every event except spec-auto.anomaly.*).
# include_events = ["spec-auto.stage.completed", "spec-auto.pipeline.completed"]
# Attempts before a delivery moves to dead/ (retries back off exponentially).
# max_attempts = 10
`
