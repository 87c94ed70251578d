package outbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spec-kit/outbox/gitops"
	"github.com/spec-kit/outbox/internal/uuidv7"
	"github.com/spec-kit/outbox/ledger"
	"github.com/spec-kit/outbox/outbox/config"
	"github.com/spec-kit/outbox/outbox/event"
	"github.com/spec-kit/outbox/outbox/route"
	"github.com/spec-kit/outbox/outbox/spool"
	"github.com/spec-kit/outbox/outbox/telemetry"
)

// Emitter enqueues events into the spools of one repository.
type Emitter struct {
	Config   *config.Config
	RepoRoot string              // absolute root of the working tree
	Getenv   func(string) string // environment lookup (os.Getenv)
	Now      func() time.Time    // clock (time.Now)
	WorkDir  string              // base of relative telemetry paths; default the process's
}

// Enqueued is one delivery written by an emit.
type Enqueued struct {
	ID           string `json:"id"`
	Subscription string `json:"subscription"`
	File         string `json:"file,omitempty"` // repository-relative; empty on preview
}

// Result says what an emit did.
type Result struct {
	Enabled        bool       `json:"enabled"`
	Preview        bool       `json:"preview,omitempty"`
	Duplicate      bool       `json:"duplicate,omitempty"` // the idempotency key was seen before: nothing written
	Spec           string     `json:"spec,omitempty"`
	EventID        string     `json:"event_id,omitempty"`
	Event          string     `json:"event,omitempty"`
	Stage          string     `json:"stage,omitempty"`
	Status         string     `json:"status,omitempty"`
	IdempotencyKey string     `json:"idempotency_key,omitempty"`
	TelemetryError string     `json:"telemetry_error,omitempty"`
	Warnings       []string   `json:"warnings,omitempty"`
	Deliveries     []Enqueued `json:"deliveries"`
	Body           []byte     `json:"-"` // the payload (set on preview)

	// Anomaly is the spec-auto.anomaly.consensus_conflict event raised
	// beside the stage event when a consensus conflict reaches the
	// threshold; nil when none was.
	Anomaly *Result `json:"anomaly,omitempty"`
}

func (e *Emitter) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Emitter) getenv(k string) string {
	if e.Getenv != nil {
		return e.Getenv(k)
	}
	return os.Getenv(k)
}

// Emit builds the event of req, routes it and, unless it is a preview or a
// repeat of an idempotency key already in the ledger, writes one spool file
// per matching subscription and one ledger line for each. A consensus
// conflict at or over the threshold adds a second, anomaly event
// (Result.Anomaly), routed and deduplicated on its own.
func (e *Emitter) Emit(req Request) (*Result, error) {
	enabled, err := e.Config.EnabledWith(e.getenv)
	if err != nil {
		return nil, err
	}
	res := &Result{Enabled: enabled, Preview: req.Preview, Deliveries: []Enqueued{}}
	if !enabled && !req.Preview && len(req.Subscriptions) == 0 {
		return res, nil
	}
	now := e.now().UTC()
	evs, err := e.build(req, now)
	if err != nil {
		return nil, err
	}
	results := make([]*Result, len(evs))
	var all []*spool.Delivery
	for i, b := range evs {
		r := res
		if i > 0 {
			r = &Result{Enabled: enabled, Preview: req.Preview, Deliveries: []Enqueued{}}
			res.Anomaly = r
		}
		results[i] = r
		p := b.payload
		r.Spec, r.EventID, r.Event = b.spec, p.Event.ID, p.Event.Type
		r.Stage, r.Status, r.IdempotencyKey = p.Event.Stage, p.Event.Status, p.Event.IdempotencyKey
		r.TelemetryError, r.Warnings = b.telemetryErr, b.warnings
		body, err := p.Marshal()
		if err != nil {
			return nil, fmt.Errorf("encode payload: %w", err)
		}
		subs, err := e.route(req, p)
		if err != nil {
			return nil, err
		}
		for _, s := range subs {
			b.deliveries = append(b.deliveries, &spool.Delivery{
				ID: uuidv7.New(now), EventID: p.Event.ID, Event: p.Event.Type,
				Spec: b.spec, Subscription: s.ID, IdempotencyKey: p.Event.IdempotencyKey,
				CreatedAt: now, Body: body,
			})
		}
		if req.Preview {
			r.Body = body
			for _, d := range b.deliveries {
				r.Deliveries = append(r.Deliveries, Enqueued{ID: d.ID, Subscription: d.Subscription})
			}
		}
		all = append(all, b.deliveries...)
	}
	if req.Preview || len(all) == 0 {
		return res, nil
	}
	dir, err := e.SpoolDir(evs[0].spec)
	if err != nil {
		return nil, err
	}
	return res, e.enqueue(dir, evs, results, now)
}

// route picks the subscriptions: the named ones, or those whose filters
// let the event through.
func (e *Emitter) route(req Request, p *event.Payload) ([]*config.Subscription, error) {
	if len(req.Subscriptions) == 0 {
		return route.Match(e.Config.Webhooks.Subscriptions, route.Event{
			Type: p.Event.Type, Stage: p.Event.Stage, Status: p.Event.Status,
		}), nil
	}
	var subs []*config.Subscription
	for _, id := range req.Subscriptions {
		s, ok := e.Config.Subscription(id)
		if !ok {
			return nil, fmt.Errorf("%w: no subscription %q in %s", ErrUsage, id, firstNonEmpty(e.Config.Path, "the configuration"))
		}
		subs = append(subs, s)
	}
	return subs, nil
}

// enqueue writes the deliveries of every event under the SPEC's lock,
// skipping an event whose idempotency key the ledger already holds, then
// records them in the ledger. Spool files are written before ledger lines: a
// crash in between can at worst make a repeated emit enqueue again
// (at-least-once), never lose an event.
func (e *Emitter) enqueue(dir *spool.Dir, evs []*built, results []*Result, now time.Time) error {
	if err := dir.Init(); err != nil {
		return err
	}
	unlock, err := dir.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	var ds []*spool.Delivery
	owner := map[string]*Result{} // delivery id -> its event's result
	for i, b := range evs {
		if len(b.deliveries) == 0 {
			continue
		}
		seen, err := ledger.HasKey(dir.LedgerPath(), b.payload.Event.IdempotencyKey)
		if err != nil {
			return err
		}
		if seen {
			results[i].Duplicate = true
			continue
		}
		for _, d := range b.deliveries {
			owner[d.ID] = results[i]
		}
		ds = append(ds, b.deliveries...)
	}
	if len(ds) == 0 {
		return nil
	}
	names, err := dir.Enqueue(ds, now)
	for _, n := range names {
		r := owner[n.ID]
		r.Deliveries = append(r.Deliveries, Enqueued{
			ID: n.ID, Subscription: n.Subscription, File: e.rel(dir.Path(spool.Pending, n)),
		})
	}
	if err != nil {
		return err
	}
	lines := make([]ledger.Entry, len(ds))
	for i, d := range ds {
		lines[i] = ledger.Entry{
			Time: now, Action: ledger.ActionEnqueued, Spec: d.Spec, Delivery: d.ID,
			EventID: d.EventID, Event: d.Event, Subscription: d.Subscription, Key: d.IdempotencyKey,
		}
	}
	return ledger.Append(dir.LedgerPath(), lines...)
}

// SpoolDir resolves the SPEC's webhooks directory from spool_dir.
func (e *Emitter) SpoolDir(spec string) (*spool.Dir, error) {
	return spool.Open(e.Config.Webhooks.SpoolPath(e.RepoRoot, spec), spec)
}

// rel makes p relative to the repository root, with forward slashes.
func (e *Emitter) rel(p string) string {
	if r, err := filepath.Rel(e.RepoRoot, p); err == nil && !strings.HasPrefix(r, "..") {
		return filepath.ToSlash(r)
	}
	return filepath.ToSlash(p)
}

// built is an event ready to route.
type built struct {
	spec         string
	payload      *event.Payload
	telemetryErr string
	warnings     []string
	deliveries   []*spool.Delivery // filled by Emit
}

// build makes the event of req and, when a consensus conflict reaches the
// threshold, the anomaly event that goes with it (always second).
func (e *Emitter) build(req Request, now time.Time) ([]*built, error) {
	typ := req.Event
	if typ == "" {
		typ = event.TypeStageCompleted
	}
	if !event.IsKnownType(typ) {
		return nil, fmt.Errorf("%w: --event %q: want one of %s", ErrUsage, typ, strings.Join(event.Types, ", "))
	}
	if req.Consensus != "" && typ != event.TypeStageCompleted && typ != event.TypeConsensusConflict {
		return nil, fmt.Errorf("%w: --consensus goes with %s or %s, not %s", ErrUsage, event.TypeStageCompleted, event.TypeConsensusConflict, typ)
	}
	if typ == event.TypeConsensusConflict && req.Consensus == "" {
		return nil, fmt.Errorf("%w: %s needs --consensus FILE", ErrUsage, typ)
	}
	b := &built{payload: &event.Payload{SchemaVersion: event.SchemaVersion}}
	p := b.payload
	p.Event = event.Info{ID: uuidv7.New(now), Type: typ, OccurredAt: now.Format("2006-01-02T15:04:05.000Z")}
	p.Evidence.Paths = []string{}

	spec, stage, status := req.Spec, "", ""
	var session string
	if req.Telemetry != "" {
		t, g, terr := e.readTelemetry(req.Telemetry)
		p.Telemetry = t
		if terr != nil {
			b.telemetryErr = terr.Error()
			t.ParseError = b.telemetryErr
		}
		if g != nil {
			spec = firstNonEmpty(spec, g.SpecID)
			stage, status, session = g.Stage, g.Status, g.SessionID
		}
		// What the path says, when the file could not tell.
		pathSpec, pathStage := fromTelemetryPath(req.Telemetry)
		spec = firstNonEmpty(spec, pathSpec)
		stage = firstNonEmpty(stage, pathStage)
		if status == "" && terr != nil {
			status = event.StatusFailure // unreadable evidence is reported, never silently green
		}
		p.Evidence.Paths = append(p.Evidence.Paths, t.Path)
		p.Evidence.Paths = append(p.Evidence.Paths, t.Artifacts...)
	}
	var cons *consensusRead
	if req.Consensus != "" {
		c, err := e.readConsensus(req.Consensus)
		if err != nil {
			return nil, err
		}
		cons = c
		spec = firstNonEmpty(spec, c.spec)
		stage = firstNonEmpty(stage, c.stage)
		p.Evidence.Paths = append(p.Evidence.Paths, c.section.Source)
	}
	if req.Stage != "" {
		st, ok := event.NormalizeStage(req.Stage)
		if !ok {
			return nil, fmt.Errorf("%w: --stage %q: want one of %s", ErrUsage, req.Stage, strings.Join(event.Stages, ", "))
		}
		stage = st
	}
	if req.Status != "" {
		st, ok := event.NormalizeStatus(req.Status)
		if !ok {
			return nil, fmt.Errorf("%w: --status %q: want one of %s", ErrUsage, req.Status, strings.Join(event.Statuses, ", "))
		}
		status = st
	}
	if spec == "" {
		return nil, fmt.Errorf("%w: no SPEC id: pass --spec (or --telemetry/--consensus with a readable SPEC id)", ErrUsage)
	}
	if !spool.ValidSpecID(spec) {
		return nil, fmt.Errorf("%w: --spec %q: letters, digits, '.', '-' and '_' only", ErrUsage, spec)
	}
	b.spec = spec
	threshold := max(e.Config.Webhooks.ConflictThreshold, 1)
	if cons != nil {
		cons.section.Threshold = threshold
		if status == "" {
			// Consensus alone: a conflict at the threshold stops the
			// pipeline for arbitration; anything less lets it go on.
			status = event.StatusSuccess
			if cons.section.ConflictCount >= threshold {
				status = event.StatusHalt
			}
		}
		if stage == "" {
			return nil, fmt.Errorf("%w: --consensus %s names no stage: pass --stage", ErrUsage, cons.section.Source)
		}
		p.Consensus = cons.section
	}
	switch typ {
	case event.TypeStageCompleted:
		if stage == "" || status == "" {
			return nil, fmt.Errorf("%w: %s needs a stage and a status: pass --stage and --status, or --telemetry", ErrUsage, typ)
		}
	case event.TypeTaskCompleted:
		if req.TaskID == "" {
			return nil, fmt.Errorf("%w: %s needs --task-id", ErrUsage, typ)
		}
		p.Task = &event.Task{ID: req.TaskID, Title: req.TaskTitle, Status: "Done"}
	case event.TypePipelineCompleted:
		pl, paths, err := e.pipelineCompleted(spec, status)
		if err != nil {
			return nil, err
		}
		status = pl.status
		p.Pipeline = pl.section
		p.Evidence.Paths = append(p.Evidence.Paths, paths...)
		session = pl.session
	}
	if req.TaskID != "" && p.Task == nil {
		p.Task = &event.Task{ID: req.TaskID, Title: req.TaskTitle}
	}
	p.Event.Stage, p.Event.Status = stage, status
	p.Spec = event.Spec{ID: spec, Branch: gitops.Branch(e.RepoRoot)}
	if stage != "" && p.Pipeline == nil {
		p.Pipeline = pipelineFor(spec, stage, status)
	}
	p.Data = req.Data
	if session == "" && cons != nil {
		session = "consensus-" + cons.id
	}
	p.Event.IdempotencyKey = idempotencyKey(req, typ, spec, stage, status, session, p.Event.ID)
	if cons != nil {
		p.Evidence.Paths = append(p.Evidence.Paths, cons.arbiterPaths()...)
	}
	var commit string
	if e.Config.Webhooks.EvidenceBaseURL != "" {
		commit = gitops.HeadCommit(e.RepoRoot)
	}
	p.Evidence.Links = e.Config.Webhooks.EvidenceLinks(commit, p.Evidence.Paths)
	if cons != nil {
		b.warnings = append(b.warnings, cons.warnings...)
	}
	evs := []*built{b}
	switch {
	case typ == event.TypeConsensusConflict:
		p.Anomaly = cons.anomaly(spec, stage)
	case cons != nil && cons.section.ConflictCount >= threshold:
		evs = append(evs, b.anomalyOf(cons, now))
	}
	return evs, nil
}

// anomalyOf is the spec-auto.anomaly.consensus_conflict event that goes with
// stage event b: same SPEC, stage, status, consensus and evidence, its own id,
// and the stage event's idempotency key with "/anomaly" appended.
func (b *built) anomalyOf(c *consensusRead, now time.Time) *built {
	src := b.payload
	p := *src
	p.Event = src.Event
	p.Event.ID = uuidv7.New(now)
	p.Event.Type = event.TypeConsensusConflict
	p.Event.IdempotencyKey = src.Event.IdempotencyKey + "/anomaly"
	p.Anomaly = c.anomaly(b.spec, src.Event.Stage)
	return &built{spec: b.spec, payload: &p}
}

// idempotencyKey is the explicit key, else one derived from what identifies
// the event: spec, stage and telemetry session for stage events; spec and
// task id for task events. Without such an identity every emit is new.
func idempotencyKey(req Request, typ, spec, stage, status, session, eventID string) string {
	switch {
	case req.IdempotencyKey != "":
		return req.IdempotencyKey
	case typ == event.TypeStageCompleted && session != "":
		return spec + "/" + stage + "/" + session
	case typ == event.TypePipelineCompleted && session != "":
		return spec + "/pipeline/" + session
	case session != "":
		return spec + "/" + typ + "/" + stage + "/" + session
	case typ == event.TypeTaskCompleted:
		return spec + "/" + typ + "/" + req.TaskID
	}
	return eventID
}

func pipelineFor(spec, stage, status string) *event.Pipeline {
	pl := &event.Pipeline{Command: "/spec-auto", Stage: stage, StageCount: len(event.Stages)}
	for i, s := range event.Stages {
		if s == stage {
			pl.StageIndex = i + 1
		}
	}
	if status == event.StatusFailure || status == event.StatusHalt {
		pl.ResumeCommand = "/spec-auto " + spec + " --from spec-" + strings.ToLower(stage)
	}
	return pl
}

// readTelemetry reads a guardrail telemetry file into the payload's
// telemetry section. It always returns a section; the error says why the
// file could not be used in full, and g holds whatever could be parsed.
func (e *Emitter) readTelemetry(path string) (*event.Telemetry, *telemetry.Guardrail, error) {
	abs := path
	if !filepath.IsAbs(abs) {
		base := e.WorkDir
		if base == "" {
			base, _ = os.Getwd()
		}
		abs = filepath.Join(base, path)
	}
	relPath := e.rel(abs)
	if strings.HasPrefix(relPath, "/") { // outside the repository
		relPath = telemetry.RepoRelative(e.RepoRoot, abs)
	}
	t := &event.Telemetry{Path: relPath, Artifacts: []string{}}
	data, err := os.ReadFile(abs)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return t, nil, fmt.Errorf("telemetry %s: file not found", relPath)
		}
		return t, nil, fmt.Errorf("telemetry %s: cannot read: %v", relPath, errors.Unwrap(err))
	}
	g, perr := telemetry.ParseGuardrail(data)
	if g != nil {
		t.Command, t.SpecID, t.SessionID, t.Timestamp = g.Command, g.SpecID, g.SessionID, g.Timestamp
		for _, a := range g.Artifacts {
			t.Artifacts = append(t.Artifacts, telemetry.RepoRelative(e.RepoRoot, a))
		}
		for _, c := range g.Checks {
			t.Checks = append(t.Checks, event.Check{Name: c.Name, Status: c.Status})
		}
	}
	if perr != nil {
		// The parser's own "telemetry: " prefix would repeat ours.
		return t, g, fmt.Errorf("telemetry %s: %s", relPath, strings.TrimPrefix(perr.Error(), "telemetry: "))
	}
	return t, g, nil
}

// fromTelemetryPath reads SPEC and stage from the evidence layout:
// .../commands/<SPEC-ID>/spec-<stage>_<session>.json.
func fromTelemetryPath(p string) (spec, stage string) {
	base := filepath.Base(p)
	if name, _, ok := strings.Cut(base, "_"); ok {
		if st, ok := event.NormalizeStage(name); ok {
			stage = st
		}
	}
	if parent := filepath.Base(filepath.Dir(p)); spool.ValidSpecID(parent) && strings.HasPrefix(strings.ToUpper(parent), "SPEC-") {
		spec = parent
	}
	return spec, stage
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
