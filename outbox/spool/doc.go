// Package spool owns one SPEC's webhooks directory: the state folders
// (spool/, sent/, dead/, tmp/), the immutable delivery files in them, their
// names, and the lock that serialises changes to them.
//
//	webhooks/
//	  spool/        pending deliveries, one immutable YAML file each
//	  sent/         delivered
//	  dead/         dead letters
//	  tmp/          half-written files (never committed)
//	  ledger.jsonl  append-only log (package ledger)
//	  .lock         flock file (never committed)
//	  .gitignore    keeps tmp/ and lock files out of git
//
// A delivery file's content never changes after it is written. Its schedule
// lives in its name (see Name), so a scheduler reads a directory listing and
// never opens files to decide what is due. Every file is created in tmp/ with
// O_EXCL, written, fsynced, renamed into place and the directory fsynced, so
// a reader never sees half a file and a crash never loses an acknowledged
// one. This package never talks to the network and never writes the ledger.
package spool
