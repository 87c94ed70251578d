// Package deliver is the one-shot delivery runner behind `outbox deliver`:
// it takes the due files of one or more SPEC spools, sends each to its
// subscription (package deliver/send), and moves it to sent/ or dead/, or
// reschedules it by renaming it, recording every attempt in the ledger.
//
// Guarantees:
//
//   - FIFO per (SPEC, subscription): a delivery is not sent while an earlier
//     one (by UUIDv7 id) to the same subscription is still pending, even if
//     the later one is due and the earlier one is waiting for a retry.
//   - One runner per SPEC at a time: a run holds the SPEC's .deliver.lock
//     (flock) while it works, so no file is ever sent by two runs at once.
//     A run that finds the lock taken leaves the SPEC to its holder, and a
//     holder looks again after releasing the lock, so an event enqueued
//     while a run is busy is never left waiting for the next cron run.
//   - Durable state changes: ledger lines are appended and fsynced before
//     the file is renamed, and the state folders are fsynced after. A crash
//     at any moment leaves each delivery in exactly one folder; at worst it
//     is sent again with the same id (at-least-once).
//   - Different subscriptions proceed in parallel up to max_concurrency;
//     state changes of concurrent deliveries are committed together (one
//     ledger fsync and one fsync per folder for the batch, which stays open
//     while each millisecond brings more changes, up to 20 ms). A worker
//     sends its next delivery while its earlier state changes are being
//     made durable, so a crash can re-send the deliveries of an uncommitted
//     batch, never lose one or reorder their first sends.
//   - At the end of a drain the SPEC's directory is brought under
//     max_spool_bytes (package retention), counting from a measurement
//     taken while the drain started.
//
// It reads each secret from the environment at the attempt that uses it
// (signing reuses keyed HMAC states in memory, package signature), and
// never writes a URL, a secret or a request body to the ledger or to its
// output.
package deliver
