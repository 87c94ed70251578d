// Package config owns the [spec_ops.webhooks] configuration of the outbox:
// finding the config.toml to use, parsing it, filling in defaults and
// validating every key under [spec_ops.webhooks] (and its subscriptions),
// with errors that name the file, the line and the key path.
//
// The file is usually a user's whole Codex config.toml; everything outside
// [spec_ops.webhooks] is ignored, everything inside it is strict.
//
// The package must never read a secret's value into anything that is printed
// or stored (secrets are referenced by environment variable name only, and
// Check looks at a variable just to see whether it is set), never touch the
// network, and never write files.
package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Defaults.
const (
	DefaultSpoolDir            = "docs/SPEC-OPS-004-integrated-coder-hooks/evidence/commands/{spec_id}/webhooks"
	DefaultMaxConcurrency      = 4
	DefaultMaxAttempts         = 10
	DefaultInitialBackoffMS    = 1000
	DefaultBackoffFactor       = 2.0
	DefaultJitterMS            = 250
	DefaultPerRequestTimeoutMS = 5000
	DefaultMaxAgeHours         = 24
	DefaultMaxSpoolBytes       = 5_000_000
	DefaultEvidenceDir         = "docs/SPEC-OPS-004-integrated-coder-hooks/evidence/commands/{spec_id}"
	DefaultConflictThreshold   = 1
)

// EnvWebhooksEnabled overrides [spec_ops.webhooks] enabled when set (see
// Config.EnabledWith).
const EnvWebhooksEnabled = "SPECKIT_WEBHOOKS_ENABLED"

// SpecIDPlaceholder is replaced by the spec id in spool_dir.
const SpecIDPlaceholder = "{spec_id}"

// Config is the loaded configuration.
type Config struct {
	Path     string // file it was read from; "" when no file was found (all defaults)
	Webhooks Webhooks
}

// Webhooks is the [spec_ops.webhooks] table.
type Webhooks struct {
	Enabled        bool   `toml:"enabled"`         // default false
	MaxConcurrency int    `toml:"max_concurrency"` // default 4, must be >= 1
	SpoolDir       string `toml:"spool_dir"`       // default DefaultSpoolDir; must contain "{spec_id}"; relative to the repo root unless absolute
	DryRun         bool   `toml:"dry_run"`         // default false
	Kick           bool   `toml:"kick"`            // default true: emit starts a detached deliver run
	MaxSpoolBytes  int64  `toml:"max_spool_bytes"` // default 5 MB: the cap of one SPEC's webhooks/ directory
	Commit         bool   `toml:"commit"`          // default false: commands commit the SPEC's webhooks files (as --commit)
	CommitAuthor   string `toml:"commit_author"`   // "Name <email>" of outbox's commits; default: git config, else outbox
	EvidenceDir    string `toml:"evidence_dir"`    // default DefaultEvidenceDir: where pipeline.completed finds each stage's telemetry; must contain "{spec_id}"
	// EvidenceBaseURL is a link template with {path} (repository-relative,
	// URL-escaped per segment) and optionally {commit} (HEAD's hash); when
	// set, payloads carry evidence.links. Default "": no links.
	EvidenceBaseURL string `toml:"evidence_base_url"`
	// ConflictThreshold is consensus_conflict_threshold: the number of
	// unresolved consensus conflicts at or above which emit --consensus also
	// emits spec-auto.anomaly.consensus_conflict. Default 1, >= 1.
	ConflictThreshold int            `toml:"consensus_conflict_threshold"`
	Subscriptions     []Subscription `toml:"subscriptions"`
}

// Subscription is one [[spec_ops.webhooks.subscriptions]] entry. After Load
// every field holds its effective value (defaults applied), except Active
// (nil means true: use IsActive) and the Include* filters (nil means no
// filter).
type Subscription struct {
	ID                  string   `toml:"id"`                     // required, unique, ^[A-Za-z0-9][A-Za-z0-9.-]{0,63}$ (used in file names)
	URL                 string   `toml:"url"`                    // exactly one of url / url_env
	URLEnv              string   `toml:"url_env"`                // name of the variable holding the URL
	SecretEnv           string   `toml:"secret_env"`             // required (deliveries are always signed)
	PreviousSecretEnv   string   `toml:"previous_secret_env"`    // optional, for rotation
	Active              *bool    `toml:"active"`                 // default true; use IsActive()
	DryRun              bool     `toml:"dry_run"`                // spool but never send
	AllowInsecureHTTP   bool     `toml:"allow_insecure_http"`    // allow http:// to non-loopback hosts
	IncludeEvents       []string `toml:"include_events"`         // known event types or "prefix.*" patterns
	IncludeStages       []string `toml:"include_stages"`         // canonical stage names ("Plan")
	IncludeStatus       []string `toml:"include_status"`         // canonical statuses ("success")
	MaxAttempts         int      `toml:"max_attempts"`           // default 10, >= 1
	InitialBackoffMS    int      `toml:"initial_backoff_ms"`     // default 1000, > 0
	BackoffFactor       float64  `toml:"backoff_factor"`         // default 2.0, >= 1
	JitterMS            int      `toml:"jitter_ms"`              // default 250, >= 0
	PerRequestTimeoutMS int      `toml:"per_request_timeout_ms"` // default 5000, > 0
	MaxAgeHours         int      `toml:"max_age_hours"`          // default 24, >= 1: older deliveries are dead rather than retried
}

// Default returns the configuration used when no config file exists:
// webhooks off, no subscriptions, default spool directory.
func Default() *Config {
	return &Config{Webhooks: Webhooks{
		MaxConcurrency: DefaultMaxConcurrency,
		SpoolDir:       DefaultSpoolDir,
		Kick:           true,
		MaxSpoolBytes:  DefaultMaxSpoolBytes,
		EvidenceDir:    DefaultEvidenceDir,

		ConflictThreshold: DefaultConflictThreshold,
	}}
}

// EnabledWith reports whether webhooks are enabled: $SPECKIT_WEBHOOKS_ENABLED
// (1/true/yes/on or 0/false/no/off, any case) overrides the enabled key when
// it is set and non-empty. Any other value is an error wrapping ErrEnv. A nil
// getenv means os.Getenv; a nil c means Default().
func (c *Config) EnabledWith(getenv func(string) string) (bool, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	fromFile := c != nil && c.Webhooks.Enabled
	v := strings.TrimSpace(getenv(EnvWebhooksEnabled))
	switch strings.ToLower(v) {
	case "":
		return fromFile, nil
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("%w: %s=%q: want 1, true, yes, on, 0, false, no or off", ErrEnv, EnvWebhooksEnabled, v)
}

// Subscription returns the subscription with the given id.
func (c *Config) Subscription(id string) (*Subscription, bool) {
	if c == nil {
		return nil, false
	}
	for i := range c.Webhooks.Subscriptions {
		if c.Webhooks.Subscriptions[i].ID == id {
			return &c.Webhooks.Subscriptions[i], true
		}
	}
	return nil, false
}

// SpoolDirFor returns the spool directory of a spec: spool_dir with every
// "{spec_id}" replaced by specID. The result is relative to the repository
// root unless spool_dir is absolute. specID is used as is: the caller must
// have validated it (no "/", no "..").
func (w *Webhooks) SpoolDirFor(specID string) string {
	dir := w.SpoolDir
	if dir == "" {
		dir = DefaultSpoolDir
	}
	return strings.ReplaceAll(dir, SpecIDPlaceholder, specID)
}

// EvidencePath is evidence_dir for specID, made absolute against the
// repository root like SpoolPath.
func (w *Webhooks) EvidencePath(repoRoot, specID string) string {
	dir := w.EvidenceDir
	if dir == "" {
		dir = DefaultEvidenceDir
	}
	p := filepath.FromSlash(strings.ReplaceAll(dir, SpecIDPlaceholder, specID))
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(repoRoot, p)
}

// SpoolPath is SpoolDirFor made absolute against the repository root (an
// absolute spool_dir stays as it is), in the platform's path syntax.
func (w *Webhooks) SpoolPath(repoRoot, specID string) string {
	p := filepath.FromSlash(w.SpoolDirFor(specID))
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(repoRoot, p)
}

// IsActive reports whether the subscription receives events (active defaults
// to true).
func (s *Subscription) IsActive() bool { return s.Active == nil || *s.Active }

// ResolveURL returns the URL to deliver to: url, or the value of the
// environment variable named by url_env (nil getenv means os.Getenv). An
// unset url_env variable, or a value that is not an acceptable URL (https, or
// http to a loopback host unless allow_insecure_http), is an error wrapping
// ErrEnv that names the variable; it never repeats the value's path, query or
// userinfo.
func (s *Subscription) ResolveURL(getenv func(string) string) (string, error) {
	if s.URLEnv == "" {
		if s.URL == "" {
			return "", fmt.Errorf("%w: subscription %q has neither url nor url_env", ErrInvalid, s.ID)
		}
		if msg := urlProblem(s.URL, s.AllowInsecureHTTP, false); msg != "" {
			return "", fmt.Errorf("%w: subscription %q: url %s", ErrInvalid, s.ID, msg)
		}
		return s.URL, nil
	}
	if getenv == nil {
		getenv = os.Getenv
	}
	v := getenv(s.URLEnv)
	if v == "" {
		return "", fmt.Errorf("%w: subscription %q: environment variable %s (url_env) is not set", ErrEnv, s.ID, s.URLEnv)
	}
	if msg := urlProblem(v, s.AllowInsecureHTTP, true); msg != "" {
		return "", fmt.Errorf("%w: subscription %q: environment variable %s (url_env): %s", ErrEnv, s.ID, s.URLEnv, msg)
	}
	return v, nil
}

// ParseAuthor splits "Name <email>" into its parts.
func ParseAuthor(s string) (name, email string, ok bool) {
	open, close := strings.LastIndexByte(s, '<'), strings.LastIndexByte(s, '>')
	if open < 1 || close != len(s)-1 || close < open+2 {
		return "", "", false
	}
	name, email = strings.TrimSpace(s[:open]), s[open+1:close]
	if name == "" || strings.ContainsAny(email, " <>") || !strings.Contains(email, "@") {
		return "", "", false
	}
	return name, email, true
}
