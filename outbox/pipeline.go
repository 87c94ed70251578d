package outbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spec-kit/outbox/outbox/event"
	"github.com/spec-kit/outbox/outbox/telemetry"
)

// pipelineRun is what a SPEC's evidence says of its last /spec-auto run.
type pipelineRun struct {
	section *event.Pipeline
	status  string // success or failure
	session string // the newest session among the stages: identifies the run
}

// stageFile is one guardrail telemetry file of a stage.
type stageFile struct {
	path string // absolute
	g    *telemetry.Guardrail
	err  error
	at   time.Time // the telemetry's timestamp; zero when it has none
}

// pipelineCompleted gathers the newest guardrail telemetry of each stage from
// the SPEC's evidence directory (evidence_dir). status is "success",
// "failure" or "" (inferred: failure when a stage failed, halted or has no
// telemetry). On failure it names the stage that failed and its telemetry.
// paths are the telemetry files, repository-relative, for the evidence.
func (e *Emitter) pipelineCompleted(spec, status string) (*pipelineRun, []string, error) {
	if status == event.StatusHalt {
		return nil, nil, fmt.Errorf("%w: %s takes --status success or failure", ErrUsage, event.TypePipelineCompleted)
	}
	dir := e.Config.Webhooks.EvidencePath(e.RepoRoot, spec)
	newest, err := newestStageFiles(dir)
	if err != nil {
		return nil, nil, err
	}
	pl := &event.Pipeline{Command: "/spec-auto", StageCount: len(event.Stages)}
	run := &pipelineRun{section: pl}
	var paths []string
	var firstBad, firstMissing string
	var badPath string
	for _, st := range event.Stages {
		f, ok := newest[st]
		if !ok {
			pl.MissingStages = append(pl.MissingStages, st)
			firstMissing = firstNonEmpty(firstMissing, st)
			continue
		}
		rel := e.repoRel(f.path)
		sr := event.StageResult{Stage: st, Telemetry: rel, Status: event.StatusFailure}
		if f.g != nil {
			sr.SessionID, sr.Timestamp = f.g.SessionID, f.g.Timestamp
			if f.g.Status != "" {
				sr.Status = f.g.Status
			}
			if f.g.SessionID > run.session {
				run.session = f.g.SessionID
			}
		}
		if f.err != nil {
			sr.ParseError = strings.TrimPrefix(f.err.Error(), "telemetry: ")
			if f.g == nil || f.g.Status == "" {
				sr.Status = event.StatusFailure // unreadable evidence is never green
			}
		}
		if sr.Status != event.StatusSuccess && firstBad == "" {
			firstBad, badPath = st, rel
		}
		pl.Stages = append(pl.Stages, sr)
		paths = append(paths, rel)
	}
	run.status = status
	if run.status == "" {
		run.status = event.StatusSuccess
		if firstBad != "" || firstMissing != "" {
			run.status = event.StatusFailure
		}
	}
	if run.status == event.StatusFailure {
		switch {
		case firstBad != "":
			pl.FailedStage, pl.FailedTelemetry = firstBad, badPath
		case firstMissing != "":
			pl.FailedStage = firstMissing
		case len(pl.Stages) > 0:
			last := pl.Stages[len(pl.Stages)-1]
			pl.FailedStage, pl.FailedTelemetry = last.Stage, last.Telemetry
		}
		if pl.FailedStage != "" {
			pl.ResumeCommand = "/spec-auto " + spec + " --from spec-" + strings.ToLower(pl.FailedStage)
		}
	}
	return run, paths, nil
}

// newestStageFiles reads every spec-<stage>_*.json in dir and keeps the
// newest of each stage: the latest telemetry timestamp, or for a file that
// cannot tell (truncated, malformed), the time its name starts its session
// with; files with neither count only when no file of the stage has one,
// and then the greatest name wins. A missing directory has no stages.
func newestStageFiles(dir string) (map[string]*stageFile, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]*stageFile{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("evidence directory: %w", err)
	}
	newest := map[string]*stageFile{}
	for _, ent := range ents {
		name := ent.Name()
		if ent.IsDir() || !strings.HasSuffix(name, ".json") {
			continue
		}
		prefix, _, ok := strings.Cut(name, "_")
		if !ok || !strings.HasPrefix(prefix, "spec-") {
			continue
		}
		st, ok := event.NormalizeStage(prefix)
		if !ok {
			continue
		}
		f := &stageFile{path: filepath.Join(dir, name)}
		f.g, f.err = telemetry.ReadGuardrail(f.path)
		if f.g != nil {
			if t, err := time.Parse(time.RFC3339Nano, f.g.Timestamp); err == nil {
				f.at = t
			}
		}
		if f.at.IsZero() {
			f.at = nameTime(name) // a truncated file still says when it was written
		}
		if cur, ok := newest[st]; !ok || newer(f, cur) {
			newest[st] = f
		}
	}
	return newest, nil
}

// nameTime reads the time a session id starts with from a telemetry file
// name (spec-plan_2026-11-20T10:01:02Z-1234567890.json); zero when there
// is none.
func nameTime(name string) time.Time {
	_, session, _ := strings.Cut(name, "_")
	if end := strings.IndexByte(session, 'Z'); end > 0 {
		if t, err := time.Parse(time.RFC3339, session[:end+1]); err == nil {
			return t
		}
	}
	return time.Time{}
}

// newer orders two telemetry files of one stage.
func newer(a, b *stageFile) bool {
	switch {
	case a.at.IsZero() != b.at.IsZero():
		return !a.at.IsZero()
	case !a.at.Equal(b.at):
		return a.at.After(b.at)
	}
	return a.path > b.path
}
