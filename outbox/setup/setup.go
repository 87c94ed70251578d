package setup

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/pelletier/go-toml/v2"
	"github.com/spec-kit/outbox/outbox/config"
)

// ErrConfig marks a config file that Init cannot work with: it does not
// parse, or the example section cannot be appended to it without breaking
// it. The CLI reports it as a configuration error.
var ErrConfig = errors.New("unusable config file")

// configError is an error that errors.Is reports as ErrConfig, with the
// text of the error it wraps (config.Errors name the file and the line).
type configError struct{ err error }

func (e *configError) Error() string        { return e.err.Error() }
func (e *configError) Unwrap() error        { return e.err }
func (e *configError) Is(target error) bool { return target == ErrConfig }

// Options says where Init works.
type Options struct {
	// Root is the repository root.
	Root string
	// Current is the configuration outbox reads today (Current.Path is ""
	// when no file was found). It is consulted when no config.toml exists
	// at Root: Init does not create one that would hide webhooks configured
	// in another file (~/.codex/config.toml, ...) unless Force is set.
	Current *config.Config
	// ConfigFile is the file to prepare when it was named explicitly
	// (--config, $SPECKIT_CONFIG); "" means config.toml at Root.
	ConfigFile string
	// Force creates config.toml at Root even when Current comes from
	// another file that has a [spec_ops.webhooks] table.
	Force bool
}

// Action is what Init did to one file.
type Action string

// The actions.
const (
	Created   Action = "created"   // the file did not exist
	Added     Action = "added"     // lines were appended
	Unchanged Action = "unchanged" // it already had everything
	Skipped   Action = "skipped"   // left alone, for the reason in Message
)

// File is what Init did to one file.
type File struct {
	File    string   `json:"file"`            // relative to the root when inside it
	Action  Action   `json:"action"`          // created, added, unchanged, skipped
	Lines   []string `json:"lines,omitempty"` // lines appended (.gitattributes, .gitignore)
	Message string   `json:"message"`         // the one-line report, without the file name
}

// String is the one-line report: "<file>: <message>".
func (f File) String() string { return f.File + ": " + f.Message }

// Result is what Init did.
type Result struct {
	Root     string `json:"root"`
	SpoolDir string `json:"spool_dir"`         // the spool_dir the patterns follow
	Pattern  string `json:"pattern,omitempty"` // spool_dir as a repository-relative pattern, {spec_id} as *
	Files    []File `json:"files"`             // config, .gitattributes, .gitignore, in that order
	Changed  bool   `json:"changed"`           // some file was written
}

// Init prepares the repository at o.Root (see the package documentation).
// It returns an error wrapping ErrConfig when the config file cannot be
// used, and a plain error when a file cannot be read or written; files
// handled before the failure keep their changes, which is harmless since
// every change is an append that the next run recognises.
func Init(o Options) (*Result, error) {
	root, err := filepath.Abs(o.Root)
	if err != nil {
		return nil, err
	}
	res := &Result{Root: root, Files: []File{}}
	cfg, f, err := prepareConfig(root, o)
	if err != nil {
		return nil, err
	}
	res.Files = append(res.Files, f)

	res.SpoolDir = cfg.Webhooks.SpoolDir
	if res.SpoolDir == "" {
		res.SpoolDir = config.DefaultSpoolDir
	}
	pattern, perr := Pattern(root, res.SpoolDir)
	res.Pattern = pattern
	for _, spec := range []struct {
		name  string
		lines func(string) []string
		has   func(line, want string) bool
		what  string
	}{
		{".gitattributes", AttributeLines, hasAttributeLine, "merge=union for the webhooks ledgers"},
		{".gitignore", IgnoreLines, hasIgnoreLine, "ignore rules for webhooks tmp/ and lock files"},
	} {
		if perr != nil {
			res.Files = append(res.Files, File{File: spec.name, Action: Skipped, Message: "skipped: " + perr.Error()})
			continue
		}
		f, err := ensureLines(filepath.Join(root, spec.name), spec.lines(pattern), spec.has)
		if err != nil {
			return nil, err
		}
		f.File = spec.name
		switch f.Action {
		case Unchanged:
			f.Message = "already has " + spec.what
		case Created:
			f.Message = fmt.Sprintf("created with %s (%s)", spec.what, plural(len(f.Lines), "line"))
		default:
			f.Message = fmt.Sprintf("added %s (%s)", spec.what, plural(len(f.Lines), "line"))
		}
		res.Files = append(res.Files, f)
	}
	for _, f := range res.Files {
		if f.Action == Created || f.Action == Added {
			res.Changed = true
		}
	}
	return res, nil
}

// prepareConfig appends the example to the config file when it has no
// [spec_ops.webhooks] table and returns the configuration outbox will read
// afterwards, from which the patterns follow.
func prepareConfig(root string, o Options) (*config.Config, File, error) {
	target, explicit := o.ConfigFile, o.ConfigFile != ""
	if !explicit {
		target = filepath.Join(root, config.FileName)
	}
	target, err := filepath.Abs(target)
	if err != nil {
		return nil, File{}, err
	}
	f := File{File: display(root, target)}
	cur, err := readFile(target)
	if err != nil {
		return nil, File{}, err
	}
	if cur.exists {
		cfg, err := config.Parse(f.File, cur.data)
		if err != nil {
			return nil, File{}, &configError{err}
		}
		has, err := hasWebhooksTable(cur.data)
		if err != nil {
			return nil, File{}, &configError{fmt.Errorf("%s: %w", f.File, err)}
		}
		if has {
			f.Action, f.Message = Unchanged, "already has [spec_ops.webhooks]"
			return cfg, f, nil
		}
	} else if !explicit && !o.Force && o.Current != nil && o.Current.Path != "" {
		if other, err := os.ReadFile(o.Current.Path); err == nil {
			if has, err := hasWebhooksTable(other); err == nil && has {
				f.Action = Skipped
				f.Message = fmt.Sprintf("not created: webhooks are configured in %s, which a config.toml here would hide (--force creates it anyway)", o.Current.Path)
				return o.Current, f, nil
			}
		}
	}
	data := appendBlock(cur.data, Example())
	cfg, err := config.Parse(f.File, data)
	if err != nil {
		return nil, File{}, &configError{fmt.Errorf("%s: cannot append the [spec_ops.webhooks] example without breaking the file (add the section by hand): %w", f.File, err)}
	}
	if err := cur.replace(data); err != nil {
		return nil, File{}, err
	}
	if cur.exists {
		f.Action, f.Message = Added, "added [spec_ops.webhooks] example"
	} else {
		f.Action, f.Message = Created, "created with a [spec_ops.webhooks] example"
	}
	return cfg, f, nil
}

// hasWebhooksTable reports whether a TOML document defines spec_ops.webhooks
// in any form: a [spec_ops.webhooks] header, dotted keys, an inline table, or
// implicitly through [[spec_ops.webhooks.subscriptions]].
func hasWebhooksTable(data []byte) (bool, error) {
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		return false, err
	}
	specOps, ok := doc["spec_ops"].(map[string]any)
	if !ok {
		return false, nil
	}
	_, ok = specOps["webhooks"]
	return ok, nil
}

// ensureLines appends the lines of want that path lacks (has decides when a
// line already present stands for a wanted one). A comment line of want is
// appended only along with a rule line that was missing.
func ensureLines(path string, want []string, has func(line, want string) bool) (File, error) {
	cur, err := readFile(path)
	if err != nil {
		return File{}, err
	}
	existing := splitLines(cur.data)
	var missing []string
	rules := 0
	for _, w := range want {
		found := false
		for _, l := range existing {
			if has(l, w) {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, w)
			if !isComment(w) {
				rules++
			}
		}
	}
	if rules == 0 {
		return File{Action: Unchanged}, nil
	}
	var block bytes.Buffer
	for _, m := range missing {
		block.WriteString(m)
		block.WriteByte('\n')
	}
	if err := cur.replace(appendBlock(cur.data, block.String())); err != nil {
		return File{}, err
	}
	added := []string{}
	for _, m := range missing {
		if !isComment(m) {
			added = append(added, m)
		}
	}
	f := File{Action: Added, Lines: added}
	if !cur.exists {
		f.Action = Created
	}
	return f, nil
}

// display names path relative to root when it lies inside it.
func display(root, path string) string {
	if rel, err := filepath.Rel(root, path); err == nil && filepath.IsLocal(rel) {
		return filepath.ToSlash(rel)
	}
	return path
}

// errNotRegular refuses to replace something that is not a regular file.
var errNotRegular = errors.New("not a regular file")

// current is a file as Init read it.
type current struct {
	path   string // the file to write: symlinks resolved
	exists bool
	data   []byte
	mode   fs.FileMode
	size   int64
	mtime  int64
}

// readFile reads path, following symlinks so that a replacement goes to the
// link's target and the link stays a link.
func readFile(path string) (*current, error) {
	c := &current{path: path, mode: 0o644}
	if p, err := filepath.EvalSymlinks(path); err == nil {
		c.path = p
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	} else if _, lerr := os.Lstat(path); lerr == nil {
		return nil, fmt.Errorf("%s: a symbolic link to a file that does not exist", path)
	}
	st, err := os.Stat(c.path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w", path, errNotRegular)
	}
	data, err := os.ReadFile(c.path)
	if err != nil {
		return nil, err
	}
	c.exists, c.data, c.mode, c.size, c.mtime = true, data, st.Mode().Perm(), st.Size(), st.ModTime().UnixNano()
	return c, nil
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
