// Package gitops owns outbox's view of the git repository that holds the
// evidence: finding the repository around a directory, reading which
// branch is checked out, and committing a SPEC's webhooks files (Commit).
//
// Commit builds its commit from HEAD's tree with go-git's object store (new
// blobs, new trees along the changed paths only, a commit object), never
// from a worktree status scan. It follows git's lock-file protocol itself:
// index.lock for the whole run and <ref>.lock for a compare-and-swap update
// of the branch (go-git's own SetReference flocks the ref file instead,
// which the git CLI does not honour). It rewrites git's index as a byte
// splice of the entries under the committed paths, keeping every other
// entry byte for byte, because go-git's index encoder writes no extensions
// and drops the assume-unchanged bit.
//
// Discovery and branch lookup read only the .git entry and HEAD, so they cost
// the same in a repository of ten files or a million; they never write to the
// repository and never run the git command.
package gitops
