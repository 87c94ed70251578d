// Package gitops owns outbox's view of the git repository that holds the
// evidence: finding the repository around a directory and reading which
// branch is checked out.
//
// Discovery and branch lookup read only the .git entry and HEAD, so they cost
// the same in a repository of ten files or a million; they never write to the
// repository and never run the git command.
package gitops
