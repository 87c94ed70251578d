package config

import (
	"errors"
	"io/fs"
	"os"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// rawDoc is the decode target: only spec_ops.webhooks is declared, so every
// other table of a Codex config.toml is skipped by the decoder. Pointers tell
// an omitted key (use the default) from an explicit zero (validate it).
type rawDoc struct {
	SpecOps struct {
		Webhooks *rawWebhooks `toml:"webhooks"`
	} `toml:"spec_ops"`
}

type rawWebhooks struct {
	Enabled        *bool             `toml:"enabled"`
	MaxConcurrency *int              `toml:"max_concurrency"`
	SpoolDir       *string           `toml:"spool_dir"`
	DryRun         *bool             `toml:"dry_run"`
	Kick           *bool             `toml:"kick"`
	MaxSpoolBytes  *int64            `toml:"max_spool_bytes"`
	Commit         *bool             `toml:"commit"`
	CommitAuthor   *string           `toml:"commit_author"`
	EvidenceDir    *string           `toml:"evidence_dir"`
	EvidenceURL    *string           `toml:"evidence_base_url"`
	Threshold      *int              `toml:"consensus_conflict_threshold"`
	Subscriptions  []rawSubscription `toml:"subscriptions"`
}

type rawSubscription struct {
	ID                  string   `toml:"id"`
	URL                 string   `toml:"url"`
	URLEnv              string   `toml:"url_env"`
	SecretEnv           string   `toml:"secret_env"`
	PreviousSecretEnv   string   `toml:"previous_secret_env"`
	Active              *bool    `toml:"active"`
	DryRun              bool     `toml:"dry_run"`
	AllowInsecureHTTP   bool     `toml:"allow_insecure_http"`
	IncludeEvents       []string `toml:"include_events"`
	IncludeStages       []string `toml:"include_stages"`
	IncludeStatus       []string `toml:"include_status"`
	MaxAttempts         *int     `toml:"max_attempts"`
	InitialBackoffMS    *int     `toml:"initial_backoff_ms"`
	BackoffFactor       *float64 `toml:"backoff_factor"`
	JitterMS            *int     `toml:"jitter_ms"`
	PerRequestTimeoutMS *int     `toml:"per_request_timeout_ms"`
	MaxAgeHours         *int     `toml:"max_age_hours"`
}

// Load reads the file at path and parses it (see Parse). An empty path means
// "no config file": Load returns Default(). A missing file is an Errors
// wrapping ErrNotFound, an unreadable one wraps ErrRead.
func Load(path string) (*Config, error) {
	if path == "" {
		return Default(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Errors{readError(path, err)}
	}
	return Parse(path, data)
}

// readError describes a failure to read path without repeating the path.
func readError(path string, err error) *Error {
	if errors.Is(err, fs.ErrNotExist) {
		return &Error{File: path, Msg: "config file not found", Err: ErrNotFound}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return &Error{File: path, Msg: "cannot read config file: " + err.Error(), Err: ErrRead}
}

// Parse decodes and validates a config.toml. name is used in messages and
// stored as Config.Path. On failure the error is an Errors listing every
// problem (file:line: key: message), and the *Config is nil.
//
// Only [spec_ops.webhooks] and its subscriptions are read; everything else in
// the file is ignored, but must still be valid TOML.
func Parse(name string, data []byte) (*Config, error) {
	var doc rawDoc
	if err := toml.Unmarshal(data, &doc); err != nil {
		return nil, Errors{decodeError(name, data, err)}
	}
	// One cheap pass for unknown keys; positions are only worked out (by a
	// second pass) when there is something to report.
	s := scan(data, checkOnly)
	v := validator{}
	cfg := v.build(doc.SpecOps.Webhooks)
	if !s.bad && len(v.problems) == 0 {
		cfg.Path = name
		return cfg, nil
	}
	s = scan(data, recordOurs)
	for _, u := range s.unknown {
		v.problems = append(v.problems, problem{key: u.key, msg: u.msg, err: ErrUnknownKey})
	}
	for _, n := range s.notArray {
		v.problems = append(v.problems, problem{key: n.key, err: ErrType,
			msg: "wrong type: want an array of tables ([[spec_ops.webhooks.subscriptions]] or [{...}, ...]), got a single table"})
	}
	if len(v.problems) == 0 {
		// The quick pass was stricter than the recording one (it does not
		// track array indexes); trust the recording pass.
		cfg.Path = name
		return cfg, nil
	}
	return nil, v.errors(name, s)
}

// decodeError turns a go-toml decoding failure into an *Error naming the
// line and the key: ErrSyntax when the file is not valid TOML, ErrType when
// a value under spec_ops.webhooks has the wrong type.
func decodeError(name string, data []byte, err error) *Error {
	var de *toml.DecodeError
	if !errors.As(err, &de) {
		return &Error{File: name, Msg: strings.TrimPrefix(err.Error(), "toml: "), Err: ErrSyntax}
	}
	line, col := de.Position()
	msg := strings.TrimPrefix(de.Error(), "toml: ")
	s := scan(data, recordAll)
	if s.parseError != nil {
		return &Error{File: name, Line: line, Key: s.syntaxKey(line), Msg: msg, Err: ErrSyntax}
	}
	goKey := de.Key()
	key := strings.Join(goKey, ".")
	if sp, ok := s.innermost(s.offset(line, col)); ok {
		key = sp.key
	}
	// go-toml says "cannot decode TOML string into struct field <Go type>":
	// keep the TOML type, say what the key wants instead of the Go type.
	_, got, isType := strings.Cut(msg, "cannot decode TOML ")
	got, _, _ = strings.Cut(got, " ")
	if !isType || got == "" {
		// Valid syntax but not a valid document: duplicate key, table
		// defined twice, integer out of range...
		if strings.Contains(msg, "already") {
			return &Error{File: name, Line: line, Key: key, Msg: msg, Err: ErrSyntax}
		}
		return &Error{File: name, Line: line, Key: key, Msg: msg, Err: ErrType}
	}
	want := ""
	if len(goKey) > 0 {
		want = keyTypes[goKey[len(goKey)-1]]
	}
	if strings.HasSuffix(key, "]") {
		// An element of an array: say what the element should be.
		switch want {
		case "an array of strings":
			want = "a string"
		case "an array of tables":
			want = "a table"
		}
	}
	if want == "" {
		return &Error{File: name, Line: line, Key: key, Msg: "wrong type: " + msg, Err: ErrType}
	}
	return &Error{File: name, Line: line, Key: key, Msg: "wrong type: want " + want + ", got TOML " + got, Err: ErrType}
}
