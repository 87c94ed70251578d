package outbox

import (
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spec-kit/outbox/gitops"
	"github.com/spec-kit/outbox/outbox/config"
)

// CommitEvidence commits the webhooks directories of specs, and nothing
// else, on the current branch (see gitops.Commit): spool, sent, dead,
// dry-run records, the ledger and its archives; never tmp/ or lock files.
// summary says what happened ("3 delivered, 1 dead"); the message is
// "outbox(<SPEC>): <summary>", or "outbox: <summary> (<n> SPECs)".
func (ws *Workspace) CommitEvidence(specs []string, summary string) (gitops.CommitResult, error) {
	if len(specs) == 0 {
		return gitops.CommitResult{NoChange: true}, nil
	}
	specs = append([]string(nil), specs...)
	sort.Strings(specs)
	var paths []string
	scratch := map[string]bool{}
	for _, spec := range specs {
		rel, err := filepath.Rel(ws.Root, ws.Config.Webhooks.SpoolPath(ws.Root, spec))
		if err != nil || strings.HasPrefix(rel, "..") {
			return gitops.CommitResult{}, fmt.Errorf("spool_dir of %s is outside the repository: nothing to commit there", spec)
		}
		rel = filepath.ToSlash(rel)
		paths = append(paths, rel)
		scratch[path.Join(rel, "tmp")] = true
	}
	msg := "outbox(" + specs[0] + "): " + summary
	if len(specs) > 1 {
		msg = fmt.Sprintf("outbox: %s (%d SPECs: %s)", summary, len(specs), strings.Join(specs, ", "))
	}
	o := gitops.CommitOptions{
		Paths:   paths,
		Message: msg + "\n",
		Now:     time.Now(),
		Exclude: func(rel string) bool {
			base := path.Base(rel)
			return scratch[rel] || base == ".lock" || strings.HasSuffix(base, ".lock")
		},
	}
	if name, email, ok := config.ParseAuthor(ws.Config.Webhooks.CommitAuthor); ok {
		o.Author = &gitops.Identity{Name: name, Email: email}
	}
	return gitops.Commit(ws.Root, o)
}
