package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spec-kit/outbox/deliver"
	"github.com/spec-kit/outbox/outbox"
)

// EmitCmd is `outbox emit`.
type EmitCmd struct {
	Spec           string   `placeholder:"SPEC-ID" help:"SPEC id. Inferred from --telemetry when omitted."`
	Event          string   `placeholder:"TYPE" default:"spec-auto.stage.completed" help:"Event type: spec-auto.stage.completed, spec-auto.pipeline.completed, spec-kit.task.completed, spec-auto.anomaly.consensus_conflict, spec-kit.ping."`
	Stage          string   `placeholder:"STAGE" help:"Pipeline stage: plan, tasks, implement, validate, audit, unlock. Inferred from --telemetry."`
	Status         string   `placeholder:"STATUS" help:"success, failure or halt. Inferred from --telemetry."`
	Telemetry      string   `placeholder:"FILE" help:"Spec-Kit guardrail telemetry v1 file; spec, stage and status are read from it. A missing or malformed file still enqueues, with the error in the payload."`
	Consensus      string   `placeholder:"FILE" help:"Consensus synthesis JSON or telemetry v2 JSONL of the stage: adds a consensus section, and when its unresolved conflicts reach consensus_conflict_threshold also emits spec-auto.anomaly.consensus_conflict (to opted-in subscriptions only)."`
	IdempotencyKey string   `placeholder:"KEY" help:"Emitting the same key twice enqueues once. Default: SPEC/stage/session from the telemetry, SPEC/task for tasks, else none."`
	TaskID         string   `placeholder:"ID" help:"Task id, for spec-kit.task.completed."`
	TaskTitle      string   `placeholder:"TITLE" help:"Task title, for spec-kit.task.completed."`
	Data           []string `placeholder:"KEY=VALUE" sep:"none" help:"Extra field sent under \"data\" (repeatable)."`
	Preview        bool     `help:"Show the payload and the deliveries that would be enqueued; write nothing."`
	NoKick         bool     `help:"Do not start a background 'outbox deliver' for this SPEC (also kick = false in config.toml)."`
	commitFlag
}

// Help is shown by `outbox emit --help`.
func (c *EmitCmd) Help() string {
	return `Examples:
  # from a guardrail hook, right after the telemetry is written:
  outbox emit --telemetry docs/SPEC-OPS-004-integrated-coder-hooks/evidence/commands/SPEC-KIT-065/spec-plan_2026-11-20T10:01:02Z-1.json

  # by hand:
  outbox emit --spec SPEC-KIT-065 --stage validate --status failure
  outbox emit --spec SPEC-KIT-065 --event spec-kit.task.completed --task-id T60 --task-title "Add webhooks"

  # a stage with its consensus (a conflict also raises the anomaly event):
  outbox emit --telemetry .../commands/SPEC-KIT-065/spec-plan_2026-11-20T10:01:02Z-1.json \
              --consensus .../consensus/SPEC-KIT-065/spec-plan_2026-11-20T10:05:12Z_synthesis.json

  # at the end of /spec-auto (stages, statuses and the failing stage come
  # from the newest telemetry of each stage under evidence_dir):
  outbox emit --spec SPEC-KIT-065 --event spec-auto.pipeline.completed --status success

emit never touches the network and returns in milliseconds: it starts a
detached 'outbox deliver --spec SPEC' (logging to the SPEC's tmp/deliver.log)
and does not wait for it. It writes nothing when webhooks are disabled
(enabled = false or SPECKIT_WEBHOOKS_ENABLED=0).`
}

// emitJSON is the --json output of emit.
type emitJSON struct {
	*outbox.Result
	Payload        json.RawMessage `json:"payload,omitempty"`
	AnomalyPayload json.RawMessage `json:"anomaly_payload,omitempty"`
}

// Run enqueues the event.
func (c *EmitCmd) Run(env *Env) error {
	data, err := outbox.ParseData(c.Data)
	if err != nil {
		return withCode(exitUsage, err)
	}
	ws, err := env.workspace()
	if err != nil {
		return err
	}
	em := &outbox.Emitter{Config: ws.Config, RepoRoot: ws.Root, Getenv: os.Getenv}
	res, err := em.Emit(outbox.Request{
		Spec: c.Spec, Event: c.Event, Stage: c.Stage, Status: c.Status, Telemetry: c.Telemetry, Consensus: c.Consensus,
		IdempotencyKey: c.IdempotencyKey, TaskID: c.TaskID, TaskTitle: c.TaskTitle, Data: data,
		Preview: c.Preview,
	})
	if errors.Is(err, outbox.ErrUsage) {
		return withCode(exitUsage, err)
	}
	if err != nil {
		return withCode(exitRuntime, err)
	}
	var commitErr error
	n := enqueuedCount(res)
	if !res.Preview && n > 0 {
		what := describe(res)
		if res.Anomaly != nil && len(res.Anomaly.Deliveries) > 0 {
			what += " and " + describe(res.Anomaly)
		}
		commitErr = c.commit(env, ws, []string{res.Spec}, fmt.Sprintf("enqueued %s for %d subscription(s)", what, n))
	}
	if ws.Config.Webhooks.Kick && !c.NoKick && !res.Preview && n > 0 {
		if err := kick(env, ws, em, res.Spec, c.Commit); err != nil {
			fmt.Fprintf(env.Stderr, "outbox: warning: %v (the next 'outbox deliver' will send it)\n", err)
		}
	}
	if env.JSON {
		if err := printJSON(env.Stdout, emitJSON{Result: res, Payload: res.Body, AnomalyPayload: anomalyBody(res)}); err != nil {
			return err
		}
	} else if err := printEmit(env, res); err != nil {
		return err
	}
	return commitErr
}

// kick starts a detached `outbox deliver --spec SPEC` for the SPEC just
// enqueued, logging to the SPEC's tmp/deliver.log.
func kick(env *Env, ws *outbox.Workspace, em *outbox.Emitter, spec string, commit bool) error {
	dir, err := em.SpoolDir(spec)
	if err != nil {
		return err
	}
	self, err := deliver.Self()
	if err != nil {
		return err
	}
	args := []string{"--repo", ws.Root}
	if ws.Config.Path != "" {
		args = append(args, "--config", ws.Config.Path)
	}
	args = append(args, "deliver", "--spec", spec)
	if commit {
		args = append(args, "--commit")
	}
	return deliver.Kick(self, args, filepath.Join(dir.TmpPath(), "deliver.log"))
}

func anomalyBody(res *outbox.Result) []byte {
	if res.Anomaly == nil {
		return nil
	}
	return res.Anomaly.Body
}

// enqueuedCount is the number of deliveries an emit wrote (or would write).
func enqueuedCount(res *outbox.Result) int {
	n := len(res.Deliveries)
	if res.Anomaly != nil {
		n += len(res.Anomaly.Deliveries)
	}
	return n
}

func printEmit(env *Env, res *outbox.Result) error {
	if err := printEvent(env, res); err != nil || res.Anomaly == nil {
		return err
	}
	return printEvent(env, res.Anomaly)
}

func printEvent(env *Env, res *outbox.Result) error {
	w, ew := env.Stdout, env.Stderr
	if res.TelemetryError != "" {
		fmt.Fprintf(ew, "outbox: warning: %s (enqueued with minimal fields)\n", res.TelemetryError)
	}
	for _, warn := range res.Warnings {
		fmt.Fprintf(ew, "outbox: warning: %s\n", warn)
	}
	switch {
	case !res.Enabled && !res.Preview:
		fmt.Fprintln(ew, "outbox: webhooks are disabled: nothing enqueued (enable with enabled = true under [spec_ops.webhooks], or SPECKIT_WEBHOOKS_ENABLED=1)")
		return nil
	case res.Duplicate:
		fmt.Fprintf(ew, "outbox: idempotency key %q was already enqueued: nothing written\n", res.IdempotencyKey)
		return nil
	case len(res.Deliveries) == 0:
		fmt.Fprintf(ew, "outbox: no subscription matches %s for %s: nothing enqueued\n", describe(res), res.Spec)
		return nil
	case res.Preview:
		if !res.Enabled {
			fmt.Fprintln(ew, "outbox: note: webhooks are disabled; a real emit would write nothing")
		}
		fmt.Fprintf(w, "would enqueue %s for %s to %d subscription(s):\n", describe(res), res.Spec, len(res.Deliveries))
		for _, d := range res.Deliveries {
			fmt.Fprintf(w, "  %s\n", d.Subscription)
		}
		fmt.Fprintf(w, "payload:\n%s\n", res.Body)
		return nil
	}
	for _, d := range res.Deliveries {
		fmt.Fprintf(w, "%s %s\n", d.ID, d.Subscription)
	}
	return nil
}

func describe(res *outbox.Result) string {
	s := res.Event
	if res.Stage != "" || res.Status != "" {
		s += " (" + res.Stage
		if res.Stage != "" && res.Status != "" {
			s += ", "
		}
		s += res.Status + ")"
	}
	return s
}

func printJSON(w interface{ Write([]byte) (int, error) }, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// jsonRaw embeds already-encoded JSON in --json output.
func jsonRaw(b []byte) json.RawMessage { return json.RawMessage(b) }
