package outbox

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spec-kit/outbox/outbox/consensus"
	"github.com/spec-kit/outbox/outbox/event"
	"github.com/spec-kit/outbox/outbox/spool"
	"github.com/spec-kit/outbox/outbox/telemetry"
)

// consensusRead is a consensus file read for an emit.
type consensusRead struct {
	section      *event.Consensus
	spec, stage  string // what the file (or its path) says; may be empty
	id           string // the telemetry v2 session, else a digest of the file
	arbiter      *consensus.Arbiter
	arbiterPath  string   // repository-relative; "" without an arbiter
	failedAgents []string // "name status" of each agent that did not do its part
	warnings     []string
}

// readConsensus reads the consensus evidence at path (absolute or relative
// to the working directory) and the arbiter file beside it, if any. Unlike
// telemetry, an unreadable consensus file is an error: the anomaly it may
// hold must not be reported as "no conflict".
func (e *Emitter) readConsensus(path string) (*consensusRead, error) {
	abs := e.abs(path)
	rel := e.repoRel(abs)
	data, err := os.ReadFile(abs)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: --consensus %s: file not found", ErrUsage, rel)
		}
		return nil, fmt.Errorf("%w: --consensus %s: cannot read: %v", ErrUsage, rel, errors.Unwrap(err))
	}
	c, err := consensus.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%w: --consensus %s: %v", ErrUsage, rel, err)
	}
	r := &consensusRead{spec: c.SpecID, stage: c.Stage}
	if !spool.ValidSpecID(r.spec) {
		r.spec = ""
	}
	if r.spec == "" {
		r.spec, _ = fromTelemetryPath(abs)
	}
	if r.stage == "" {
		_, r.stage = fromTelemetryPath(abs)
	}
	r.id = c.SessionID
	if r.id == "" {
		sum := sha256.Sum256(data)
		r.id = hex.EncodeToString(sum[:8])
	}
	r.section = &event.Consensus{
		Status: c.Status(), ReportedStatus: c.ReportedStatus, Source: rel, Format: c.Format,
		ConflictCount: c.ConflictCount(), Agreements: nonNil(c.Agreements), Conflicts: nonNil(c.Conflicts),
		DisagreementDetected: c.DisagreementDetected || c.ConflictCount() > 0,
		EscalationTriggered:  c.EscalationTriggered, Notes: c.Notes,
	}
	for _, x := range c.Resolved {
		r.section.ConflictsResolved = append(r.section.ConflictsResolved, event.Resolved{Issue: x.Issue, Resolution: x.Resolution})
	}
	for _, a := range c.Agents {
		r.section.Agents = append(r.section.Agents, event.Agent{Name: a.Name, Model: a.Model, Status: a.Status, Error: a.Error})
		if a.Failed() {
			r.failedAgents = append(r.failedAgents, a.Name+" "+strings.ToLower(strings.TrimSpace(a.Status)))
		}
	}
	ap, err := consensus.FindArbiter(abs, r.stage)
	if err != nil {
		r.warnings = append(r.warnings, fmt.Sprintf("arbiter beside %s: %v", rel, err))
	}
	if ap != "" {
		arel := e.repoRel(ap)
		adata, err := os.ReadFile(ap)
		if err == nil {
			r.arbiter, err = consensus.ParseArbiter(adata)
		}
		if err != nil {
			r.warnings = append(r.warnings, fmt.Sprintf("arbiter %s: %v (mitigation falls back to the resume command)", arel, err))
		} else {
			r.arbiterPath = arel
		}
	}
	return r, nil
}

// arbiterPaths is the arbiter file as evidence, when there is one.
func (r *consensusRead) arbiterPaths() []string {
	if r.arbiterPath == "" {
		return nil
	}
	return []string{r.arbiterPath}
}

// anomaly is the anomaly section of a consensus conflict: a summary for a
// chat message and the guidance to act on it.
func (r *consensusRead) anomaly(spec, stage string) *event.Anomaly {
	c := r.section
	resume := "/spec-auto " + spec + " --from spec-" + strings.ToLower(stage)
	var sb strings.Builder
	fmt.Fprintf(&sb, "Consensus conflict in %s at stage %s: the agents left %d conflict", spec, stage, c.ConflictCount)
	if c.ConflictCount != 1 {
		sb.WriteString("s")
	}
	sb.WriteString(" unresolved")
	fmt.Fprintf(&sb, " (threshold %d)", c.Threshold)
	if len(r.failedAgents) > 0 {
		fmt.Fprintf(&sb, "; agents not ok: %s", strings.Join(r.failedAgents, ", "))
	}
	if len(c.Conflicts) > 0 {
		fmt.Fprintf(&sb, ". First: %s", sentence(c.Conflicts[0]))
	}
	m := event.Mitigation{Source: "resume", ResumeCommand: resume}
	if a := r.arbiter; a != nil {
		m.Source, m.Arbiter, m.ArbiterPath = "arbiter", a.Arbiter, r.arbiterPath
		m.Resolution, m.Decision, m.Followups = a.Status, a.Decision, a.Followups
		fmt.Fprintf(&sb, ". Arbiter %s", firstNonEmpty(a.Arbiter, "decision"))
		if a.Status != "" {
			fmt.Fprintf(&sb, " (%s)", a.Status)
		}
		fmt.Fprintf(&sb, ": %s", sentence(a.Decision))
	} else {
		fmt.Fprintf(&sb, ". No arbiter decision yet: resolve the conflicts, then resume with %s", resume)
	}
	sb.WriteString(".")
	return &event.Anomaly{Kind: "consensus_conflict", Summary: sb.String(), Mitigation: m}
}

// abs makes a command-line path absolute against WorkDir (or the process's
// working directory).
func (e *Emitter) abs(path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	base := e.WorkDir
	if base == "" {
		base, _ = os.Getwd()
	}
	return filepath.Join(base, path)
}

// repoRel is the repository-relative form of an absolute path; a path
// outside the repository is reduced the way telemetry artifacts are.
func (e *Emitter) repoRel(abs string) string {
	r := e.rel(abs)
	if strings.HasPrefix(r, "/") {
		r = telemetry.RepoRelative(e.RepoRoot, abs)
	}
	return r
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// sentence is s clipped for a summary, without its final full stop (the
// summary adds its own).
func sentence(s string) string {
	return strings.TrimRight(clip(s, 280), ". ")
}

// clip shortens s to at most n bytes, on a rune boundary, marking the cut.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
