// Package setup owns what `outbox init` prepares in a repository so that
// outbox's files behave in git: the commented [spec_ops.webhooks] example
// appended to config.toml, the merge=union lines in .gitattributes that let
// branches merge their ledgers (ledger.jsonl and the archived
// ledger-*.jsonl), and the .gitignore lines that keep every SPEC's tmp/ and
// lock files out of commits, including SPECs whose folder does not exist yet
// (spool writes a per-SPEC .gitignore only when it creates the folder).
//
// Every change is an append of what is missing, written atomically (a temp
// file in the same directory, fsynced, renamed over the original, keeping
// its mode), so running it again changes nothing.
//
// It must never rewrite, reorder or delete a byte of what a file already
// holds, never touch an existing [spec_ops.webhooks] table, never write a
// file that config.Parse would reject, never write a secret or a URL (the
// example names environment variables only), and never run git or touch the
// network.
package setup
