package setup

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spec-kit/outbox/outbox/config"
)

const defaultPattern = "docs/SPEC-OPS-004-integrated-coder-hooks/evidence/commands/*/webhooks"

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// snapshot reads every regular file under dir.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		out[p] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func initRepo(t *testing.T, o Options) *Result {
	t.Helper()
	if o.Current == nil {
		o.Current = config.Default()
	}
	res, err := Init(o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func actions(res *Result) string {
	var s []string
	for _, f := range res.Files {
		s = append(s, f.File+"="+string(f.Action))
	}
	return strings.Join(s, " ")
}

// uncomment turns on every commented setting of the example: lines
// "# key = ..." and "# [[...]]".
func uncomment(s string) string {
	re := regexp.MustCompile(`(?m)^# ([a-z_]+ = |\[\[)`)
	return re.ReplaceAllString(s, "$1")
}

func TestExampleParses(t *testing.T) {
	cfg, err := config.Parse("example", []byte(Example()))
	if err != nil {
		t.Fatalf("the example does not parse: %v\n%s", err, Example())
	}
	if cfg.Webhooks.Enabled || len(cfg.Webhooks.Subscriptions) != 0 || cfg.Webhooks.SpoolDir != config.DefaultSpoolDir {
		t.Fatalf("example as appended: %+v, want disabled, no subscription, default spool_dir", cfg.Webhooks)
	}

	on := uncomment(Example())
	cfg, err = config.Parse("example", []byte(on))
	if err != nil {
		t.Fatalf("the uncommented example does not parse: %v\n%s", err, on)
	}
	w := cfg.Webhooks
	if w.MaxConcurrency != config.DefaultMaxConcurrency || w.SpoolDir != config.DefaultSpoolDir || w.DryRun || !w.Kick {
		t.Fatalf("uncommented settings are not the defaults: %+v", w)
	}
	if len(w.Subscriptions) != 1 {
		t.Fatalf("uncommented example has %d subscriptions, want 1", len(w.Subscriptions))
	}
	s := w.Subscriptions[0]
	if s.ID != "chatops" || s.URLEnv != "SPECKIT_WEBHOOK_URL" || s.SecretEnv != "SPECKIT_WEBHOOK_SECRET" || s.URL != "" ||
		len(s.IncludeEvents) != 2 || s.MaxAttempts != config.DefaultMaxAttempts {
		t.Fatalf("uncommented subscription: %+v", s)
	}
	// Every key of the example is explained, and both variables are named.
	for _, want := range []string{"enabled", "max_concurrency", "spool_dir", "dry_run", "kick", "id", "url_env",
		"secret_env", "include_events", "max_attempts", config.EnvWebhooksEnabled, "SPECKIT_WEBHOOKS_DRY_RUN"} {
		if !strings.Contains(Example(), want) {
			t.Errorf("the example does not mention %s", want)
		}
	}
}

func TestInitFreshRepository(t *testing.T) {
	root := t.TempDir()
	res := initRepo(t, Options{Root: root})
	if got := actions(res); got != "config.toml=created .gitattributes=created .gitignore=created" || !res.Changed {
		t.Fatalf("actions: %s (changed %v)", got, res.Changed)
	}
	if res.Pattern != defaultPattern || res.SpoolDir != config.DefaultSpoolDir {
		t.Fatalf("pattern %q spool_dir %q", res.Pattern, res.SpoolDir)
	}
	if got := read(t, filepath.Join(root, "config.toml")); got != Example() {
		t.Fatalf("config.toml:\n%s", got)
	}
	wantAttr := attributesComment + "\n" +
		defaultPattern + "/ledger.jsonl merge=union\n" +
		defaultPattern + "/ledger-*.jsonl merge=union\n"
	if got := read(t, filepath.Join(root, ".gitattributes")); got != wantAttr {
		t.Fatalf(".gitattributes:\n%s\nwant:\n%s", got, wantAttr)
	}
	wantIgnore := ignoreComment + "\n" +
		defaultPattern + "/tmp/\n" + defaultPattern + "/*.lock\n" + defaultPattern + "/.lock\n"
	if got := read(t, filepath.Join(root, ".gitignore")); got != wantIgnore {
		t.Fatalf(".gitignore:\n%s\nwant:\n%s", got, wantIgnore)
	}
	if l := res.Files[1].Lines; len(l) != 2 || l[0] != defaultPattern+"/ledger.jsonl merge=union" {
		t.Fatalf(".gitattributes lines reported: %q", l)
	}
	if s := res.Files[0].String(); s != "config.toml: created with a [spec_ops.webhooks] example" {
		t.Fatalf("report: %s", s)
	}
	for _, f := range []string{"config.toml", ".gitattributes", ".gitignore"} {
		st, err := os.Stat(filepath.Join(root, f))
		if err != nil || st.Mode().Perm() != 0o644 {
			t.Fatalf("%s: %v, mode %v", f, err, st.Mode())
		}
	}
	assertIdempotent(t, root)
}

// assertIdempotent runs Init again on root: nothing is written, byte for
// byte, and no temp file is left behind.
func assertIdempotent(t *testing.T, root string) {
	t.Helper()
	before := snapshot(t, root)
	res := initRepo(t, Options{Root: root})
	if res.Changed {
		t.Fatalf("second run changed something: %s", actions(res))
	}
	for _, f := range res.Files {
		if f.Action != Unchanged {
			t.Fatalf("second run: %s", f)
		}
	}
	after := snapshot(t, root)
	if len(after) != len(before) {
		t.Fatalf("second run: %d files, was %d", len(after), len(before))
	}
	for p, data := range before {
		if after[p] != data {
			t.Fatalf("second run changed %s", p)
		}
	}
}

func TestInitAppendsOnly(t *testing.T) {
	root := t.TempDir()
	// No final newline anywhere: the originals must stay byte for byte, with
	// a line ending added before the appended block.
	cfg := "model = \"gpt-5\"\n\n[profiles.ci]\napproval = \"never\" # keep"
	attrs := "*.png binary\n# comment"
	ignore := "/bin\n"
	write(t, filepath.Join(root, "config.toml"), cfg)
	write(t, filepath.Join(root, ".gitattributes"), attrs)
	write(t, filepath.Join(root, ".gitignore"), ignore)
	if err := os.Chmod(filepath.Join(root, "config.toml"), 0o600); err != nil {
		t.Fatal(err)
	}
	res := initRepo(t, Options{Root: root})
	if got := actions(res); got != "config.toml=added .gitattributes=added .gitignore=added" {
		t.Fatalf("actions: %s", got)
	}
	if got, want := read(t, filepath.Join(root, "config.toml")), cfg+"\n\n"+Example(); got != want {
		t.Fatalf("config.toml:\n%s", got)
	}
	if got := read(t, filepath.Join(root, ".gitattributes")); !strings.HasPrefix(got, attrs+"\n\n"+attributesComment+"\n") {
		t.Fatalf(".gitattributes:\n%s", got)
	}
	if got := read(t, filepath.Join(root, ".gitignore")); !strings.HasPrefix(got, ignore+"\n"+ignoreComment+"\n") {
		t.Fatalf(".gitignore:\n%s", got)
	}
	if st, _ := os.Stat(filepath.Join(root, "config.toml")); st.Mode().Perm() != 0o600 {
		t.Fatalf("config.toml mode %v, want 0600 kept", st.Mode())
	}
	if res.Files[0].String() != "config.toml: added [spec_ops.webhooks] example" {
		t.Fatalf("report: %s", res.Files[0])
	}
	assertIdempotent(t, root)
}

func TestInitKeepsExistingWebhooksTable(t *testing.T) {
	forms := map[string]string{
		"table":    "[spec_ops.webhooks]\nenabled = true\nspool_dir = \"hooks/{spec_id}/out\"\n",
		"dotted":   "spec_ops.webhooks.spool_dir = \"hooks/{spec_id}/out\"\n",
		"inline":   "[spec_ops]\nwebhooks = { spool_dir = \"hooks/{spec_id}/out\" }\n",
		"implicit": "[[spec_ops.webhooks.subscriptions]]\nid = \"a\"\nurl = \"https://example.com/h\"\nsecret_env = \"S\"\n",
	}
	for name, cfg := range forms {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			write(t, filepath.Join(root, "config.toml"), cfg)
			res := initRepo(t, Options{Root: root})
			if res.Files[0].Action != Unchanged || res.Files[0].String() != "config.toml: already has [spec_ops.webhooks]" {
				t.Fatalf("config: %s", res.Files[0])
			}
			if got := read(t, filepath.Join(root, "config.toml")); got != cfg {
				t.Fatalf("config.toml changed:\n%s", got)
			}
			want := "hooks/*/out"
			if name == "implicit" {
				want = defaultPattern
			}
			if res.Pattern != want {
				t.Fatalf("pattern %q, want %q", res.Pattern, want)
			}
			if !strings.Contains(read(t, filepath.Join(root, ".gitattributes")), "\n"+want+"/ledger.jsonl merge=union\n") {
				t.Fatalf(".gitattributes does not follow spool_dir")
			}
		})
	}
}

func TestInitRefusesBrokenOrUnextendableConfig(t *testing.T) {
	for name, cfg := range map[string]string{
		"syntax":         "model = = 1\n",
		"invalid table":  "[spec_ops.webhooks]\nretries = 3\n",
		"inline parent":  "spec_ops = { other = 1 }\n",
		"scalar webhook": "[spec_ops]\nwebhooks = 1\n",
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			write(t, filepath.Join(root, "config.toml"), cfg)
			_, err := Init(Options{Root: root, Current: config.Default()})
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("err = %v, want ErrConfig", err)
			}
			if !strings.Contains(err.Error(), "config.toml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			if got := read(t, filepath.Join(root, "config.toml")); got != cfg {
				t.Fatalf("config.toml changed:\n%s", got)
			}
			if _, err := os.Stat(filepath.Join(root, ".gitattributes")); err == nil {
				t.Fatalf(".gitattributes written after a config error")
			}
		})
	}
}

func TestInitExistingLines(t *testing.T) {
	root := t.TempDir()
	// Equivalent lines: a leading slash, extra attributes, trailing blanks.
	attrs := "/" + defaultPattern + "/ledger.jsonl   merge=union -diff\n"
	ignore := "/" + defaultPattern + "/tmp/  \n" + defaultPattern + "/*.lock\n" + defaultPattern + "/.lock\n"
	write(t, filepath.Join(root, ".gitattributes"), attrs)
	write(t, filepath.Join(root, ".gitignore"), ignore)
	res := initRepo(t, Options{Root: root})
	if got := actions(res); got != "config.toml=created .gitattributes=added .gitignore=unchanged" {
		t.Fatalf("actions: %s", got)
	}
	want := attrs + "\n" + attributesComment + "\n" + defaultPattern + "/ledger-*.jsonl merge=union\n"
	if got := read(t, filepath.Join(root, ".gitattributes")); got != want {
		t.Fatalf(".gitattributes:\n%s\nwant:\n%s", got, want)
	}
	if res.Files[1].String() != ".gitattributes: added merge=union for the webhooks ledgers (1 line)" {
		t.Fatalf("report: %s", res.Files[1])
	}
	if res.Files[2].String() != ".gitignore: already has ignore rules for webhooks tmp/ and lock files" {
		t.Fatalf("report: %s", res.Files[2])
	}
	// A line that merely mentions the pattern with other attributes does
	// not count.
	root = t.TempDir()
	write(t, filepath.Join(root, ".gitattributes"), defaultPattern+"/ledger.jsonl -diff\n")
	res = initRepo(t, Options{Root: root})
	if len(res.Files[1].Lines) != 2 {
		t.Fatalf("lines added: %q", res.Files[1].Lines)
	}
}

func TestInitCRLF(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "config.toml"), "model = \"x\"\r\n")
	write(t, filepath.Join(root, ".gitignore"), "/bin\r\n")
	initRepo(t, Options{Root: root})
	got := read(t, filepath.Join(root, "config.toml"))
	if want := "model = \"x\"\r\n\r\n" + strings.ReplaceAll(Example(), "\n", "\r\n"); got != want {
		t.Fatalf("config.toml:\n%q", got)
	}
	if _, err := config.Parse("crlf", []byte(got)); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(root, ".gitignore")); strings.Count(got, "\r\n") != strings.Count(got, "\n") {
		t.Fatalf(".gitignore mixes line endings: %q", got)
	}
	assertIdempotent(t, root)
}

func TestInitFollowsSymlink(t *testing.T) {
	root := t.TempDir()
	real := filepath.Join(t.TempDir(), "shared.toml")
	write(t, real, "model = \"x\"\n")
	if err := os.Symlink(real, filepath.Join(root, "config.toml")); err != nil {
		t.Skip(err)
	}
	initRepo(t, Options{Root: root})
	if st, err := os.Lstat(filepath.Join(root, "config.toml")); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("config.toml is no longer a symlink: %v", err)
	}
	if got := read(t, real); !strings.HasSuffix(got, Example()) {
		t.Fatalf("link target:\n%s", got)
	}
	// A dangling link is refused rather than replaced by a file.
	root = t.TempDir()
	if err := os.Symlink(filepath.Join(root, "nowhere.toml"), filepath.Join(root, "config.toml")); err != nil {
		t.Fatal(err)
	}
	if _, err := Init(Options{Root: root, Current: config.Default()}); err == nil {
		t.Fatal("dangling config.toml link accepted")
	}
}

func TestInitDoesNotHideAnotherConfig(t *testing.T) {
	root := t.TempDir()
	home := filepath.Join(t.TempDir(), "config.toml")
	write(t, home, "[spec_ops.webhooks]\nenabled = true\nspool_dir = \"elsewhere/{spec_id}\"\n")
	cur, err := config.Load(home)
	if err != nil {
		t.Fatal(err)
	}
	res := initRepo(t, Options{Root: root, Current: cur})
	if res.Files[0].Action != Skipped || !strings.Contains(res.Files[0].Message, home) {
		t.Fatalf("config: %s", res.Files[0])
	}
	if _, err := os.Stat(filepath.Join(root, "config.toml")); err == nil {
		t.Fatal("config.toml created although it would hide " + home)
	}
	if res.Pattern != "elsewhere/*" {
		t.Fatalf("pattern %q does not follow the configuration in use", res.Pattern)
	}
	res = initRepo(t, Options{Root: root, Current: cur, Force: true})
	if res.Files[0].Action != Created || res.Pattern != defaultPattern {
		t.Fatalf("--force: %s, pattern %q", res.Files[0], res.Pattern)
	}

	// A file without a webhooks table is not hidden by a new config.toml in
	// any way that matters to outbox.
	root = t.TempDir()
	write(t, home, "model = \"x\"\n")
	cur, _ = config.Load(home)
	if res := initRepo(t, Options{Root: root, Current: cur}); res.Files[0].Action != Created {
		t.Fatalf("config: %s", res.Files[0])
	}
}

func TestInitExplicitConfigFile(t *testing.T) {
	root := t.TempDir()
	other := filepath.Join(t.TempDir(), "team.toml")
	write(t, other, "model = \"x\"\n")
	res := initRepo(t, Options{Root: root, ConfigFile: other})
	if res.Files[0].File != other || res.Files[0].Action != Added {
		t.Fatalf("config: %s", res.Files[0])
	}
	if _, err := os.Stat(filepath.Join(root, "config.toml")); err == nil {
		t.Fatal("config.toml created at the root although --config names another file")
	}
	inside := filepath.Join(root, "etc", "outbox.toml")
	write(t, inside, "")
	res = initRepo(t, Options{Root: root, ConfigFile: inside})
	if res.Files[0].File != "etc/outbox.toml" || res.Files[0].Action != Added {
		t.Fatalf("config: %s", res.Files[0])
	}
	if got := read(t, inside); got != Example() {
		t.Fatalf("empty file: the example is not the whole content:\n%s", got)
	}
}

func TestPattern(t *testing.T) {
	root := filepath.FromSlash("/repo")
	for _, c := range []struct{ spool, want, err string }{
		{config.DefaultSpoolDir, defaultPattern, ""},
		{"hooks/{spec_id}", "hooks/*", ""},
		{"./hooks//{spec_id}/", "hooks/*", ""},
		{"{spec_id}", "*", ""},
		{"a/SPEC-{spec_id}-x/{spec_id}", "a/SPEC-*-x/*", ""},
		{"/repo/out/{spec_id}/w", "out/*/w", ""},
		{"a[1]/b*?\\/{spec_id}", `a\[1\]/b\*\?\\/*`, ""},
		{"#x/{spec_id}", `\#x/*`, ""},
		{"!x/{spec_id}", `\!x/*`, ""},
		{"/elsewhere/{spec_id}", "", "outside the repository"},
		{"../sibling/{spec_id}", "", "outside the repository"},
		{"a/../../{spec_id}", "", "outside the repository"},
		{"my hooks/{spec_id}", "", "space"},
		{"hooks/fixed", "", "has no {spec_id}"},
	} {
		got, err := Pattern(root, c.spool)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("Pattern(%q) = %q, %v; want error %q", c.spool, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("Pattern(%q) = %q, %v; want %q", c.spool, got, err, c.want)
		}
	}
}

func TestInitSpoolDirOutsideRepository(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "config.toml"), "[spec_ops.webhooks]\nspool_dir = \"/var/spool/outbox/{spec_id}\"\n")
	res := initRepo(t, Options{Root: root})
	if got := actions(res); got != "config.toml=unchanged .gitattributes=skipped .gitignore=skipped" || res.Changed {
		t.Fatalf("actions: %s", got)
	}
	if !strings.Contains(res.Files[1].Message, "outside the repository") {
		t.Fatalf("report: %s", res.Files[1])
	}
}

func TestReplaceRefusesConcurrentChange(t *testing.T) {
	p := filepath.Join(t.TempDir(), ".gitignore")
	write(t, p, "a\n")
	cur, err := readFile(p)
	if err != nil {
		t.Fatal(err)
	}
	write(t, p, "a\nb\n")
	if err := cur.replace([]byte("a\nc\n")); err == nil || !strings.Contains(err.Error(), "changed") {
		t.Fatalf("replace over a changed file: %v", err)
	}
	if got := read(t, p); got != "a\nb\n" {
		t.Fatalf("the concurrent change was lost: %q", got)
	}
	ents, _ := os.ReadDir(filepath.Dir(p))
	if len(ents) != 1 {
		t.Fatalf("temp files left: %v", ents)
	}
}

func TestAppendBlock(t *testing.T) {
	for _, c := range []struct{ data, want string }{
		{"", "X\n"},
		{"a", "a\n\nX\n"},
		{"a\n", "a\n\nX\n"},
		{"a\n\n", "a\n\nX\n"},
		{"a\r\n", "a\r\n\r\nX\r\n"},
		{"a\r\nb", "a\r\nb\r\n\r\nX\r\n"},
	} {
		if got := string(appendBlock([]byte(c.data), "X\n")); got != c.want {
			t.Errorf("appendBlock(%q) = %q, want %q", c.data, got, c.want)
		}
	}
	if !bytes.Equal(appendBlock(nil, ""), []byte{}) {
		t.Error("empty")
	}
}
