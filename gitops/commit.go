package gitops

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Identity is a commit author or committer.
type Identity struct{ Name, Email string }

// CommitOptions says what Commit commits.
type CommitOptions struct {
	// Paths are repository-relative directories (forward slashes) whose
	// contents are committed exactly as they are on disk: new, changed and
	// deleted files under them. Nothing outside them is read or committed.
	Paths []string
	// Exclude, when not nil, is asked about every file and directory found
	// under Paths (repository-relative, forward slashes, no trailing slash);
	// true leaves it out of the commit and the index (a directory with
	// everything under it). ExcludeScratch is the rule for outbox's
	// webhooks directories.
	Exclude func(rel string) bool
	// Message is the commit message.
	Message string
	// Author is the author and committer. Nil: GIT_AUTHOR_NAME/EMAIL
	// (GIT_COMMITTER_* for the committer), else git config user.name and
	// user.email (repository config, then global config), else
	// "outbox <outbox@localhost>".
	Author *Identity
	// AllowDetached commits on a detached HEAD (HEAD itself moves) instead
	// of refusing with ErrDetached.
	AllowDetached bool
	// Now is the commit time; zero means time.Now().
	Now time.Time
	// LockTimeout is how long to wait for git's index.lock and the branch's
	// ref lock held by another process; zero means DefaultLockTimeout.
	LockTimeout time.Duration
}

// CommitResult reports what Commit did.
type CommitResult struct {
	Hash     string // the new commit; "" with NoChange
	Files    int    // files added, changed or deleted by the commit
	Branch   string // short branch name; "" on a detached HEAD
	NoChange bool   // the paths already matched HEAD: no commit was made
}

// DefaultLockTimeout is how long Commit waits for a lock file held by
// another git process before giving up with ErrLocked.
const DefaultLockTimeout = 5 * time.Second

// maxRaceRetries bounds how often Commit rebuilds its commit on a branch
// that moved under it before giving up with ErrRace.
const maxRaceRetries = 20

// Sentinel errors of Commit. All of them are returned before anything is
// committed; the files on disk are never touched.
var (
	ErrDetached         = errors.New("HEAD is detached (not on a branch)")
	ErrInProgress       = errors.New("a merge, rebase, cherry-pick or revert is in progress")
	ErrIndexUnsupported = errors.New("the git index uses a format or extension outbox cannot write")
	ErrLocked           = errors.New("git lock file is held by another process")
	ErrRace             = errors.New("the branch kept moving while committing")
	ErrBadPath          = errors.New("invalid commit path")
)

// ExcludeScratch is the Exclude rule for outbox's webhooks directories: it
// leaves out what the .gitignore outbox writes there ignores, that is a
// "tmp" directory directly inside a "webhooks" directory and any file named
// ".lock" or ending in ".lock".
func ExcludeScratch(rel string) bool {
	base := path.Base(rel)
	if base == ".lock" || strings.HasSuffix(base, ".lock") {
		return true
	}
	return base == "tmp" && path.Base(path.Dir(rel)) == "webhooks"
}

// Commit makes one commit on the current branch that holds exactly the
// files under o.Paths as they are on disk, and updates git's index for
// those paths only, so that `git status` is clean for them. The user's
// other staged and unstaged changes are neither committed nor touched.
//
// The commit is built from HEAD's tree: new blobs for the files under
// Paths, new trees along the changed paths only, and a commit object. The
// cost depends on the number of files under Paths, not on the size of the
// repository (the index is read and rewritten once, as a byte splice).
//
// Commit takes git's index.lock for its whole run and the branch's ref lock
// for the update, which is a compare-and-swap: when the branch moved (a
// commit made by a process that did not take index.lock), the commit is
// rebuilt on the new tip.
func Commit(repoRoot string, o CommitOptions) (CommitResult, error) {
	var res CommitResult
	paths, err := normalizePaths(o.Paths)
	if err != nil {
		return res, err
	}
	gitDir, err := GitDir(repoRoot)
	if err != nil {
		return res, err
	}
	commonDir := CommonGitDir(gitDir)
	timeout := o.LockTimeout
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}

	head, err := readHead(gitDir)
	if err != nil {
		return res, err
	}
	if head.detached && !o.AllowDetached {
		return res, ErrDetached
	}
	res.Branch = strings.TrimPrefix(head.ref, "refs/heads/")
	if err := checkInProgress(gitDir); err != nil {
		return res, err
	}

	indexPath := filepath.Join(gitDir, "index")
	lock, err := acquireLock(indexPath, timeout)
	if err != nil {
		return res, err
	}
	defer lock.rollback()

	// HEAD may have changed while we waited for the lock.
	if head, err = readHead(gitDir); err != nil {
		return res, err
	}
	if head.detached && !o.AllowDetached {
		return res, ErrDetached
	}
	res.Branch = strings.TrimPrefix(head.ref, "refs/heads/")
	if err := checkInProgress(gitDir); err != nil {
		return res, err
	}

	idx, err := readIndex(indexPath, paths)
	if err != nil {
		return res, err
	}
	defer idx.close()
	cfg := readGitConfig(commonDir)

	st := openObjectStore(filepath.Join(commonDir, "objects"))
	defer st.Close()
	st.fsyncLoose = cfg.fsyncLoose
	ow := &objectWriter{st: st, defer_: true}

	scans := make([]*pathScan, len(paths))
	for i, p := range paths {
		scans[i], err = scanPath(repoRoot, p, o.Exclude, idx, ow)
		if err != nil {
			return res, err
		}
	}

	// The index: the entries under the paths become exactly what is on
	// disk (and, once committed, in HEAD), with the files' stat data so git
	// does not re-hash them. It does not depend on the commit, so it is
	// written into index.lock while the commit is made, and renamed into
	// place once the branch moved. Skipped when it would not change a byte.
	// Like git (core.fsync's default), the index is not synced: it is a
	// cache of the worktree, and a lost update shows as a change in git
	// status, never as a lost commit. The branch update below is synced.
	plan, indexChanged := idx.splice(scans)
	var iw *indexWriter
	if indexChanged {
		// Without a checksum only when git is configured so and the index
		// it wrote has none (a git that does not know index.skipHash would
		// reject it).
		checksum := !(cfg.skipHash && idx.exists && idx.noChecksum)
		iw = writeIndex(lock.f, plan, checksum, cfg.fsyncIndex)
		// Runs before idx.close and lock.rollback: the writer reads the
		// mapped index and writes into the lock file.
		defer iw.wait()
	}
	// The scan's blobs and trees, named but not written yet.
	if err := ow.flush(); err != nil {
		return res, err
	}

	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	author, committer := identities(o.Author, cfg)

	// The entries after the committed paths were being checked meanwhile:
	// an index outbox cannot rewrite is refused before committing.
	if err := idx.check(); err != nil {
		return res, err
	}

	refFile := head.refFile(gitDir, commonDir)
	var newHash oid
	for attempt := 0; ; attempt++ {
		if attempt == maxRaceRetries {
			return res, ErrRace
		}
		old, err := readRef(commonDir, refFile, head)
		if err != nil {
			return res, err
		}
		var oldTree oid
		if !old.IsZero() {
			if oldTree, err = ow.commitTree(old); err != nil {
				return res, err
			}
		}
		newTree, files, err := ow.apply(oldTree, scans)
		if err != nil {
			return res, err
		}
		if newTree == oldTree {
			res.NoChange = true
			break
		}
		newHash, err = ow.commit(newTree, old, o.Message, author, committer, now)
		if err != nil {
			return res, err
		}
		err = updateRef(gitDir, commonDir, refFile, head, old, newHash, committer, now, o.Message, timeout)
		if errors.Is(err, errRefMoved) {
			continue
		}
		if err != nil {
			return res, err
		}
		res.Hash = newHash.String()
		res.Files = files
		break
	}

	if !indexChanged {
		return res, nil
	}
	err = iw.wait()
	idx.release()
	if err == nil {
		err = lock.finish()
	}
	if err != nil {
		if res.Hash != "" {
			return res, fmt.Errorf("committed %s but updating the index failed: %w", res.Hash, err)
		}
		return res, err
	}
	return res, nil
}

// normalizePaths cleans the paths, rejects ones that leave the repository
// or enter .git, and drops paths inside other paths.
func normalizePaths(in []string) ([]string, error) {
	var out []string
	for _, p := range in {
		q := path.Clean(filepath.ToSlash(p))
		if q == "." || q == "" || strings.HasPrefix(q, "/") || q == ".." || strings.HasPrefix(q, "../") {
			return nil, fmt.Errorf("%w: %q", ErrBadPath, p)
		}
		for _, seg := range strings.Split(q, "/") {
			if strings.EqualFold(seg, ".git") {
				return nil, fmt.Errorf("%w: %q", ErrBadPath, p)
			}
		}
		out = append(out, q)
	}
	sort.Strings(out)
	var kept []string
	for _, p := range out {
		if n := len(kept); n > 0 && (kept[n-1] == p || strings.HasPrefix(p, kept[n-1]+"/")) {
			continue
		}
		kept = append(kept, p)
	}
	return kept, nil
}

// CommonGitDir returns the directory holding objects and refs: the
// "commondir" of a linked worktree, else gitDir itself.
func CommonGitDir(gitDir string) string {
	data, err := os.ReadFile(filepath.Join(gitDir, "commondir"))
	if err != nil {
		return gitDir
	}
	d := strings.TrimSpace(string(data))
	if !filepath.IsAbs(d) {
		d = filepath.Join(gitDir, d)
	}
	return filepath.Clean(d)
}

func checkInProgress(gitDir string) error {
	for _, name := range []string{"MERGE_HEAD", "rebase-merge", "rebase-apply", "CHERRY_PICK_HEAD", "REVERT_HEAD"} {
		if _, err := os.Lstat(filepath.Join(gitDir, name)); err == nil {
			return fmt.Errorf("%w (%s exists)", ErrInProgress, name)
		}
	}
	return nil
}
