// Package retention owns the bounded-evidence rule: everything under one
// SPEC's webhooks/ directory stays under a cap (max_spool_bytes, default
// 5,000,000 bytes). When a run finds the directory over the cap, it evicts,
// oldest first, until the directory is under a low-water mark (90% of the
// cap by default, so that eviction does not run on every delivery):
//
//  1. sent payloads: files in sent/ and their dry-run/ records, oldest first
//     by delivery id (UUIDv7, so creation time);
//  2. old ledger lines: the oldest part of ledger.jsonl is rotated into a new
//     gzip archive, ledger-<seq>-<first-ts>.jsonl.gz, beside it; archives
//     beyond their budget (a fifth of the cap by default) are dropped,
//     oldest first;
//  3. dead letters (dead/), oldest first;
//  4. pending deliveries (spool/), oldest first: the last resort;
//  5. if it is still over (a cap too small for what cannot be evicted), the
//     whole live ledger is rotated and the remaining archives are dropped.
//
// # Archives
//
// The archive counts towards the cap, so rotating alone frees only what
// compression saves (about nine tenths of a ledger's bytes). Each rotation
// writes one new immutable archive file (a file that never changes after it
// is written adds its bytes to git once, where a growing archive would add
// its whole size at every commit); `zcat ledger-*.jsonl.gz; cat
// ledger.jsonl` is the whole history still in the working tree, in order.
// Archives may hold up to Options.ArchiveBytes ahead of dead letters: the
// history of ten thousand deliveries costs less than a thousand dead letters.
// Past that budget the oldest archive files go before any dead letter. A
// dropped archive is summarised by a ledger line that carries the eviction
// counts it recorded, so totals survive (Tally); its lines remain in git
// history if they were committed.
//
// # Records
//
// Nothing vanishes silently: every removal is preceded by a fsynced ledger
// line with action "evicted" and the bytes freed: one line per evicted
// delivery (delivery id, subscription, a reason naming the class, see
// Classify), one line per rotation and one per dropped archive. A crash
// between the line and the removal evicts the file again at the next run
// (two lines for one delivery; Tally counts it once). Stale files in tmp/
// (older than Options.StaleTmp, never a *.log) are half-written files of
// crashed processes, never acknowledged deliveries: they are removed and
// counted in the Report, without a ledger line.
//
// # Concurrency
//
// Run changes the state folders, so its caller holds the SPEC's
// .deliver.lock (RunLocked takes it). Each batch of removals also holds the
// SPEC's .lock (spool.Dir.Lock), under which replay moves files out of
// sent/ and dead/, and skips files that moved since they were listed. A
// rotation cooperates with
// ledger.Append in other processes: it holds the flock on ledger.jsonl
// while it reads it, writes the archive and the kept tail, and renames the
// tail over ledger.jsonl; appenders waiting on the old file then see that it
// is no longer the named one and reopen. An archive records the length and
// SHA-256 of the ledger prefix it covers, so a rotation interrupted between
// its two renames is completed by the next one without archiving twice.
//
// # Cost
//
// Memory does not grow with the directory: eviction lists a class in
// rounds and keeps only a round's oldest files (8,192), taking sizes only
// for those; a rotation streams the ledger through fixed buffers (it
// hashes, compresses and copies, and never holds the ledger). Removals run
// eight at a time, a thousand at most under the SPEC's lock, which emit
// waits for. Under the cap a run costs one listing of the tree, or none
// when its caller measured the directory when it took the .deliver.lock
// (Options.Start: a delivery run measures while it starts sending, since
// it only renames files and appends ledger lines).
//
// The package must never remove a file before its ledger line is durable,
// rewrite ledger.jsonl without its flock, run eviction without the
// .deliver.lock, read delivery files (sizes come from directory listings),
// remove tmp files a live process may still be writing, or touch the
// network.
package retention
