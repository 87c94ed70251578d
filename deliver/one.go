package deliver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spec-kit/outbox/deliver/send"
	"github.com/spec-kit/outbox/deliver/signature"
	"github.com/spec-kit/outbox/ledger"
	"github.com/spec-kit/outbox/outbox/config"
	"github.com/spec-kit/outbox/outbox/spool"
)

type outcome int

const (
	outDelivered outcome = iota
	outRetry
	outDead
	outDryRun
)

// EnvDryRun makes every run a dry run when set to 1/true/yes/on.
const EnvDryRun = "SPECKIT_WEBHOOKS_DRY_RUN"

// DryRunDir is the folder, beside spool/, where dry runs record requests.
const DryRunDir = "dry-run"

// spoolPaths are a drain's state folders, each with a trailing separator,
// so that a delivery's paths are one concatenation.
type spoolPaths struct {
	pending, sent, dead string
}

func newSpoolPaths(dir *spool.Dir) spoolPaths {
	sep := string(filepath.Separator)
	return spoolPaths{
		pending: dir.StatePath(spool.Pending) + sep,
		sent:    dir.StatePath(spool.Sent) + sep,
		dead:    dir.StatePath(spool.Dead) + sep,
	}
}

// deliverOne makes one attempt at n and submits its outcome.
func (r *Runner) deliverOne(ctx context.Context, dir *spool.Dir, sp spoolPaths, n spool.Name, c *committer, fl *inflight) (outcome, error) {
	name := n.String()
	from := sp.pending + name
	// Lines after "enqueued" carry only what identifies the delivery: the
	// ledger is per SPEC, and the enqueued line has the event.
	base := ledger.Entry{Delivery: n.ID, Subscription: n.Subscription}
	dead := func(reason string) (outcome, error) {
		e := base
		e.Action, e.Reason = ledger.ActionDead, reason
		return outDead, r.move(c, fl, from, sp.dead+name, e)
	}
	d, err := dir.ReadPath(from, n)
	if errors.Is(err, fs.ErrNotExist) {
		return outRetry, nil // moved away under us (by hand): nothing to do
	}
	if err != nil {
		return dead("unreadable delivery file: " + strings.ReplaceAll(err.Error(), dir.Root+string(filepath.Separator), ""))
	}
	sub, ok := r.Config.Subscription(n.Subscription)
	if !ok {
		return dead(fmt.Sprintf("subscription %q is no longer in the configuration", n.Subscription))
	}
	now := r.now()
	if r.dryRun(sub) {
		if err := r.recordDryRun(dir, d, sub, now); err != nil {
			return outRetry, err
		}
		e := base
		e.Action, e.Attempt = ledger.ActionDryRun, n.Attempt
		return outDryRun, r.move(c, fl, from, sp.sent+name, e)
	}

	res := r.attempt(ctx, sub, d, now)
	policy := send.Policy{
		MaxAttempts:    sub.MaxAttempts,
		InitialBackoff: time.Duration(sub.InitialBackoffMS) * time.Millisecond,
		Factor:         sub.BackoffFactor,
		Jitter:         time.Duration(sub.JitterMS) * time.Millisecond,
		MaxAge:         time.Duration(sub.MaxAgeHours) * time.Hour,
	}
	after := r.now()
	class, due, reason := policy.Next(n.Attempt, d.CreatedAt, after, res)
	if class == send.Retry && r.OneShot {
		class, reason = send.Dead, "not retried (outbox test): "+res.Error
	}
	att := base
	att.Action, att.Attempt, att.Status = ledger.ActionAttempt, n.Attempt, res.Status
	att.DurationMS, att.Host, att.Error, att.Response = res.Duration.Milliseconds(), res.Host, res.Error, res.Response
	att.Time = now
	switch class {
	case send.Delivered:
		e := base
		e.Action, e.Attempt = ledger.ActionDelivered, n.Attempt
		return outDelivered, r.move(c, fl, from, sp.sent+name, att, e)
	case send.Retry:
		next := spool.Name{Due: due, Attempt: n.Attempt + 1, ID: n.ID, Subscription: n.Subscription}
		e := base
		e.Action, e.Attempt, e.NextDue = ledger.ActionRetryScheduled, next.Attempt, due
		return outRetry, r.move(c, fl, from, sp.pending+next.String(), att, e)
	default:
		e := base
		e.Action, e.Attempt, e.Reason = ledger.ActionDead, n.Attempt, firstNonEmpty(reason, res.Error)
		return outDead, r.move(c, fl, from, sp.dead+name, att, e)
	}
}

// attempt resolves the URL and secrets now (a rotated secret is used by the
// next attempt) and sends.
func (r *Runner) attempt(ctx context.Context, sub *config.Subscription, d *spool.Delivery, now time.Time) send.Result {
	target, err := r.resolveURL(sub)
	if err != nil {
		return send.Result{Class: send.Retry, Error: err.Error()}
	}
	var secrets []string
	if s := r.getenv(sub.SecretEnv); s != "" {
		secrets = append(secrets, s)
		if sub.PreviousSecretEnv != "" {
			if p := r.getenv(sub.PreviousSecretEnv); p != "" {
				secrets = append(secrets, p)
			}
		}
	}
	return r.Sender.Send(ctx, send.Request{
		URL: target, ID: d.ID, Event: d.Event, Body: d.Body, Secrets: secrets, SecretEnv: sub.SecretEnv,
		Timeout:   time.Duration(sub.PerRequestTimeoutMS) * time.Millisecond,
		AllowHTTP: sub.AllowInsecureHTTP,
	}, now)
}

// urlKey is what a subscription's resolved URL depends on.
type urlKey struct {
	id, url, urlEnv, value string
	allowHTTP              bool
}

type resolved struct {
	url string
	err error
}

// resolveURL is sub.ResolveURL with the environment read now, remembering
// the outcome for the same configuration and environment value: checking
// a URL parses it, and this runs for every attempt.
func (r *Runner) resolveURL(sub *config.Subscription) (string, error) {
	k := urlKey{id: sub.ID, url: sub.URL, urlEnv: sub.URLEnv, allowHTTP: sub.AllowInsecureHTTP}
	if sub.URLEnv != "" {
		k.value = r.getenv(sub.URLEnv)
	}
	if v, ok := r.urls.Load(k); ok {
		res := v.(resolved)
		return res.url, res.err
	}
	u, err := sub.ResolveURL(func(string) string { return k.value })
	r.urls.Store(k, resolved{u, err})
	return u, err
}

// move encodes the ledger lines of one delivery's state change and
// submits them with its rename; fl learns when they are durable. A line
// the ledger refuses fails the run before anything is written for it.
func (r *Runner) move(c *committer, fl *inflight, from, to string, lines ...ledger.Entry) error {
	now := time.Now()
	data := make([]byte, 0, 256*len(lines))
	for _, e := range lines {
		var err error
		if data, err = ledger.AppendLine(data, e, now); err != nil {
			return fmt.Errorf("%w: %w", ErrLedger, err)
		}
	}
	c.submit(&change{lines: data, from: from, to: to, fl: fl})
	return nil
}

// deadBadName moves a file whose name is not a delivery name to dead/.
func (r *Runner) deadBadName(c *committer, sp spoolPaths, name string) error {
	e := ledger.Entry{Action: ledger.ActionDead, Reason: fmt.Sprintf("not a delivery file name: %q", name)}
	var fl inflight
	if err := r.move(c, &fl, sp.pending+name, sp.dead+name, e); err != nil {
		return err
	}
	return fl.wait()
}

func (r *Runner) dryRun(sub *config.Subscription) bool {
	if r.DryRun || r.Config.Webhooks.DryRun || sub.DryRun {
		return true
	}
	switch strings.ToLower(strings.TrimSpace(r.getenv(EnvDryRun))) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// recordDryRun writes the request a real run would send, minus its
// signatures, to dry-run/<delivery-id>.http. Only the URL's host is kept:
// paths and queries can hold tokens.
func (r *Runner) recordDryRun(dir *spool.Dir, d *spool.Delivery, sub *config.Subscription, now time.Time) error {
	host := "(url_env " + sub.URLEnv + ")"
	if u, err := sub.ResolveURL(r.getenv); err == nil {
		host = hostOf(u)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", r.UserAgent)
	h.Set(signature.HeaderSpecKitEvent, d.Event)
	h.Set(signature.HeaderSpecKitID, d.ID)
	h.Set(signature.HeaderSpecKitTimestamp, strconv.FormatInt(now.Unix(), 10))
	h.Set(signature.HeaderWebhookID, d.ID)
	h.Set(signature.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST /… HTTP/1.1\r\nHost: %s\r\n", host)
	if err := h.Write(&b); err != nil {
		return err
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(d.Body))
	b.Write(d.Body)
	b.WriteString("\n")
	out := filepath.Join(dir.Root, DryRunDir)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	return spool.WriteFileAtomic(dir.TmpPath(), filepath.Join(out, d.ID+".http"), b.Bytes())
}

func hostOf(u string) string {
	if p, err := url.Parse(u); err == nil {
		return p.Host
	}
	return "(unparsable url)"
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
