// Package tasks turns task completions recorded in a repository's tracker
// tables into spec-kit.task.completed events: the logic behind `outbox tasks`.
//
// It owns reading the Markdown tracker tables (the root SPEC.md and each
// SPEC's docs/<SPEC-ID>/tasks.md) out of commit trees with go-git, comparing
// them between two revisions, finding the first-parent commit where each row
// became Done, and handing one emit per completion to outbox.Emitter, with
// the idempotency key <SPEC>/task/<task-id>/done@<commit>. It also keeps a
// one-line marker of the last commit it processed, in the git directory
// (never committed), to default the next run's range.
//
// It never reads the working tree's copies of the tracker files (only
// commits), never writes to the repository's history, refs, index or
// working tree (the spool and ledger writes are the Emitter's), never starts
// a delivery run (kicking is the CLI's business) and never touches the
// network.
package tasks
