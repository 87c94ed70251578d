package config

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/spec-kit/outbox/outbox/event"
)

// validID reports whether id matches ^[A-Za-z0-9][A-Za-z0-9.-]{0,63}$: ids
// name spool files, so no "_", "/" or leading ".".
func validID(id string) bool {
	if id == "" || len(id) > 64 || !isAlnum(id[0]) {
		return false
	}
	for i := 1; i < len(id); i++ {
		if c := id[i]; !isAlnum(c) && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

// validEnvName reports whether name matches ^[A-Za-z_][A-Za-z0-9_]*$.
func validEnvName(name string) bool {
	if name == "" || name[0] >= '0' && name[0] <= '9' {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isAlnum(c) && c != '_' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}

// problem is a validation failure before it is given a file and a line.
type problem struct {
	key string
	msg string
	err error
}

// validator turns the decoded document into a Config, applying defaults and
// collecting every problem (not just the first).
type validator struct {
	problems []problem
}

func (v *validator) add(err error, key, format string, args ...any) {
	v.problems = append(v.problems, problem{key: key, msg: fmt.Sprintf(format, args...), err: err})
}

// errors resolves the lines of the collected problems and sorts them by line.
func (v *validator) errors(name string, s *scanner) Errors {
	out := make(Errors, len(v.problems))
	for i, p := range v.problems {
		out[i] = &Error{File: name, Line: s.lineOf(p.key), Key: p.key, Msg: p.msg, Err: p.err}
	}
	sort.SliceStable(out, func(i, j int) bool {
		li, lj := out[i].Line, out[j].Line
		if li == 0 || lj == 0 {
			return li != 0 && lj == 0
		}
		return li < lj
	})
	return out
}

const webhooksKey = "spec_ops.webhooks"

// build applies defaults to w (nil when the table is absent) and validates it.
func (v *validator) build(w *rawWebhooks) *Config {
	c := Default()
	if w == nil {
		return c
	}
	wh := &c.Webhooks
	if w.Enabled != nil {
		wh.Enabled = *w.Enabled
	}
	if w.DryRun != nil {
		wh.DryRun = *w.DryRun
	}
	if w.Kick != nil {
		wh.Kick = *w.Kick
	}
	if w.Commit != nil {
		wh.Commit = *w.Commit
	}
	if w.CommitAuthor != nil {
		wh.CommitAuthor = *w.CommitAuthor
		if _, _, ok := ParseAuthor(wh.CommitAuthor); !ok {
			v.add(ErrInvalid, webhooksKey+".commit_author", "%q: want \"Name <email>\"", wh.CommitAuthor)
		}
	}
	if w.MaxSpoolBytes != nil {
		wh.MaxSpoolBytes = *w.MaxSpoolBytes
		if wh.MaxSpoolBytes < 65536 {
			v.add(ErrInvalid, webhooksKey+".max_spool_bytes", "must be >= 65536, got %d", wh.MaxSpoolBytes)
		}
	}
	if w.EvidenceDir != nil {
		wh.EvidenceDir = *w.EvidenceDir
		v.spoolDir(webhooksKey+".evidence_dir", wh.EvidenceDir)
	}
	if w.EvidenceURL != nil {
		wh.EvidenceBaseURL = *w.EvidenceURL
		if msg := evidenceURLProblem(wh.EvidenceBaseURL); msg != "" {
			v.add(ErrInvalid, webhooksKey+".evidence_base_url", "%q: %s", wh.EvidenceBaseURL, msg)
		}
	}
	if w.Threshold != nil {
		wh.ConflictThreshold = *w.Threshold
		if wh.ConflictThreshold < 1 {
			v.add(ErrInvalid, webhooksKey+".consensus_conflict_threshold", "must be >= 1, got %d", wh.ConflictThreshold)
		}
	}
	if w.MaxConcurrency != nil {
		wh.MaxConcurrency = *w.MaxConcurrency
		if wh.MaxConcurrency < 1 {
			v.add(ErrInvalid, webhooksKey+".max_concurrency", "must be >= 1, got %d", wh.MaxConcurrency)
		}
	}
	if w.SpoolDir != nil {
		wh.SpoolDir = *w.SpoolDir
		v.spoolDir(webhooksKey+".spool_dir", wh.SpoolDir)
	}
	if w.Subscriptions != nil {
		wh.Subscriptions = make([]Subscription, len(w.Subscriptions))
	}
	firstUse := map[string]int{}
	for i := range w.Subscriptions {
		key := webhooksKey + ".subscriptions[" + strconv.Itoa(i) + "]"
		wh.Subscriptions[i] = v.subscription(key, &w.Subscriptions[i])
		id := wh.Subscriptions[i].ID
		if id == "" {
			continue
		}
		// Ids name files, and file systems may ignore case: "Ops" and
		// "ops" collide.
		folded := strings.ToLower(id)
		j, dup := firstUse[folded]
		switch {
		case !dup:
			firstUse[folded] = i
		case wh.Subscriptions[j].ID == id:
			v.add(ErrInvalid, key+".id", "duplicate id %q (already used by subscriptions[%d])", id, j)
		default:
			v.add(ErrInvalid, key+".id", "duplicate id %q (subscriptions[%d] uses %q; ids name files, so case does not count)", id, j, wh.Subscriptions[j].ID)
		}
	}
	return c
}

func (v *validator) spoolDir(key, dir string) {
	switch {
	case strings.TrimSpace(dir) == "":
		v.add(ErrInvalid, key, "must not be empty")
	case !strings.Contains(dir, SpecIDPlaceholder):
		v.add(ErrInvalid, key, "%q must contain %q", dir, SpecIDPlaceholder)
	case slices.Contains(strings.FieldsFunc(dir, func(r rune) bool { return r == '/' || r == '\\' }), ".."):
		v.add(ErrInvalid, key, "%q must not contain a \"..\" element", dir)
	}
}

// subscription applies defaults to one subscription and validates it. key is
// spec_ops.webhooks.subscriptions[i].
func (v *validator) subscription(key string, r *rawSubscription) Subscription {
	s := Subscription{
		ID:                  r.ID,
		URL:                 r.URL,
		URLEnv:              r.URLEnv,
		SecretEnv:           r.SecretEnv,
		PreviousSecretEnv:   r.PreviousSecretEnv,
		Active:              r.Active,
		DryRun:              r.DryRun,
		AllowInsecureHTTP:   r.AllowInsecureHTTP,
		MaxAttempts:         DefaultMaxAttempts,
		InitialBackoffMS:    DefaultInitialBackoffMS,
		BackoffFactor:       DefaultBackoffFactor,
		JitterMS:            DefaultJitterMS,
		PerRequestTimeoutMS: DefaultPerRequestTimeoutMS,
		MaxAgeHours:         DefaultMaxAgeHours,
	}
	// Every message about a subscription with a usable id ends with it, so
	// that a long file reads well.
	tag := ""
	switch {
	case r.ID == "":
		v.add(ErrInvalid, key+".id", "is required")
	case !validID(r.ID):
		v.add(ErrInvalid, key+".id", "%q is not a valid id (want 1-64 letters, digits, '.' or '-', starting with a letter or digit: it is used in file names)", r.ID)
	default:
		tag = fmt.Sprintf(" [id %q]", r.ID)
	}
	add := func(err error, k, format string, args ...any) {
		v.add(err, key+k, format+"%s", append(args, tag)...)
	}

	switch {
	case r.URL != "" && r.URLEnv != "":
		add(ErrInvalid, ".url_env", "set exactly one of url and url_env, not both")
	case r.URL == "" && r.URLEnv == "":
		add(ErrInvalid, "", "one of url or url_env is required")
	case r.URL != "":
		if msg := urlProblem(r.URL, r.AllowInsecureHTTP, false); msg != "" {
			add(ErrInvalid, ".url", "%s", msg)
		}
	}
	envName := func(k, name string) {
		if name != "" && !validEnvName(name) {
			add(ErrInvalid, k, "%q is not an environment variable name (want [A-Za-z_][A-Za-z0-9_]*)", name)
		}
	}
	envName(".url_env", r.URLEnv)
	if r.SecretEnv == "" {
		add(ErrInvalid, ".secret_env", "is required (deliveries are always signed)")
	}
	envName(".secret_env", r.SecretEnv)
	envName(".previous_secret_env", r.PreviousSecretEnv)
	if r.PreviousSecretEnv != "" && r.PreviousSecretEnv == r.SecretEnv {
		add(ErrInvalid, ".previous_secret_env", "must name a different variable than secret_env")
	}

	s.IncludeEvents = v.list(key+".include_events", r.IncludeEvents, tag, func(e string) (string, string) {
		if event.IsKnownType(e) {
			return e, ""
		}
		if prefix, ok := strings.CutSuffix(e, "*"); ok && len(prefix) > 1 && strings.HasSuffix(prefix, ".") {
			for _, t := range event.Types {
				if strings.HasPrefix(t, prefix) {
					return e, ""
				}
			}
			return "", fmt.Sprintf("pattern %q matches no known event type (known: %s)", e, strings.Join(event.Types, ", "))
		}
		return "", fmt.Sprintf("unknown event type %q (known: %s; or a prefix pattern such as %q)",
			e, strings.Join(event.Types, ", "), event.AnomalyPrefix+"*")
	})
	s.IncludeStages = v.list(key+".include_stages", r.IncludeStages, tag, func(e string) (string, string) {
		if st, ok := event.NormalizeStage(e); ok {
			return st, ""
		}
		return "", fmt.Sprintf("unknown stage %q (known: %s)", e, strings.Join(event.Stages, ", "))
	})
	s.IncludeStatus = v.list(key+".include_status", r.IncludeStatus, tag, func(e string) (string, string) {
		if st, ok := event.NormalizeStatus(e); ok {
			return st, ""
		}
		return "", fmt.Sprintf("unknown status %q (known: %s)", e, strings.Join(event.Statuses, ", "))
	})

	intAtLeast := func(k string, p *int, dst *int, least int) {
		if p == nil {
			return
		}
		*dst = *p
		if *p < least {
			add(ErrInvalid, k, "must be >= %d, got %d", least, *p)
		}
	}
	intAtLeast(".max_attempts", r.MaxAttempts, &s.MaxAttempts, 1)
	intAtLeast(".initial_backoff_ms", r.InitialBackoffMS, &s.InitialBackoffMS, 1)
	intAtLeast(".jitter_ms", r.JitterMS, &s.JitterMS, 0)
	intAtLeast(".per_request_timeout_ms", r.PerRequestTimeoutMS, &s.PerRequestTimeoutMS, 1)
	intAtLeast(".max_age_hours", r.MaxAgeHours, &s.MaxAgeHours, 1)
	if r.BackoffFactor != nil {
		s.BackoffFactor = *r.BackoffFactor
		if f := s.BackoffFactor; !(f >= 1) || math.IsInf(f, 0) {
			add(ErrInvalid, ".backoff_factor", "must be a finite number >= 1, got %v", f)
		}
	}
	return s
}

// list validates and canonicalizes a filter list. nil (key omitted) means no
// filter and stays nil; an explicit empty list is an error, since it would
// silently match nothing.
func (v *validator) list(key string, in []string, tag string, canon func(string) (string, string)) []string {
	if in == nil {
		return nil
	}
	if len(in) == 0 {
		leaf := key[strings.LastIndexByte(key, '.')+1:]
		v.add(ErrInvalid, key, "must not be empty (omit %s to match everything)%s", leaf, tag)
		return nil
	}
	out := make([]string, 0, len(in))
	for i, e := range in {
		c, msg := canon(e)
		if msg != "" {
			v.add(ErrInvalid, key+"["+strconv.Itoa(i)+"]", "%s%s", msg, tag)
			continue
		}
		out = append(out, c)
	}
	return out
}
