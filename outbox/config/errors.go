package config

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors. Every *Error carries exactly one of them in Err, so callers
// can test with errors.Is on an Error, on Errors or on anything wrapping them.
var (
	// ErrNotFound: an explicitly named config file does not exist.
	ErrNotFound = errors.New("config file not found")
	// ErrRead: the config file exists but could not be read.
	ErrRead = errors.New("cannot read config file")
	// ErrSyntax: the file is not valid TOML (syntax error, duplicate key,
	// table defined twice, ...).
	ErrSyntax = errors.New("invalid TOML")
	// ErrType: a key under [spec_ops.webhooks] holds a value of the wrong
	// TOML type (max_attempts = "ten").
	ErrType = errors.New("wrong value type")
	// ErrUnknownKey: a key or table under [spec_ops.webhooks] is not part of
	// the schema (usually a typo).
	ErrUnknownKey = errors.New("unknown key")
	// ErrInvalid: a value has the right type but breaks a validation rule.
	ErrInvalid = errors.New("invalid value")
	// ErrEnv: an environment variable the configuration depends on is unset
	// or holds an unusable value (returned by EnabledWith and ResolveURL).
	ErrEnv = errors.New("bad environment variable")
)

// Error is one problem in a config file. Error() renders it as
//
//	file:line: key: msg
//
// leaving out the line when unknown (0) and the key when empty.
type Error struct {
	File string // file name as given to Load or Parse
	Line int    // 1-based line, 0 when unknown
	Key  string // key path, e.g. spec_ops.webhooks.subscriptions[1].url
	Msg  string // what is wrong; never contains a secret's value
	Err  error  // one of the sentinel errors above
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
	}
	if e.Key != "" {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(e.Key)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the sentinel error.
func (e *Error) Unwrap() error { return e.Err }

// Errors is every problem found in one config file, in file order. Load and
// Parse always return their failures as Errors (never empty).
type Errors []*Error

// Error renders one problem per line.
func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap exposes every *Error to errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}
