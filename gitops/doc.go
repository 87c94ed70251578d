// Package gitops owns outbox's view of the git repository that holds the
// evidence: finding the repository around a directory, reading which
// branch is checked out, and committing a SPEC's webhooks files (Commit).
//
// Commit builds its commit from HEAD's tree (new blobs, new trees along the
// changed paths only, a commit object), never from a worktree status scan.
// It reads and writes objects itself (objects.go, pack.go): loose objects
// as git writes them, and packs looked up in place by binary search in
// their mapped .idx, with deltas resolved, so that its cost does not grow
// with the size of the packs. It follows git's lock-file protocol itself:
// index.lock for the whole run and <ref>.lock for a compare-and-swap update
// of the branch. It rewrites git's index as a byte splice of the entries
// under the committed paths, keeping every other entry byte for byte
// (index.go): the index is mapped, only the entries up to the committed
// paths are parsed, and the rest is checked, checksummed and written
// concurrently with the commit.
//
// Discovery and branch lookup read only the .git entry and HEAD, so they cost
// the same in a repository of ten files or a million; they never write to the
// repository and never run the git command.
package gitops
