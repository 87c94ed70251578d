package telemetry_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spec-kit/outbox/outbox/telemetry"
)

func TestRepoRelative(t *testing.T) {
	const root = "/srv/ci/checkout"
	const ev = "docs/SPEC-OPS-004-integrated-coder-hooks/evidence/commands/SPEC-KIT-065-add-webhook-notification-system-for"
	cases := []struct{ root, in, want string }{
		// Relative: cleaned, slashed.
		{root, ev + "/a.log", ev + "/a.log"},
		{root, "./docs//x/../y.md", "docs/y.md"},
		{root, `docs\SPEC-OPS-004\a.log`, "docs/SPEC-OPS-004/a.log"},
		{"", "SPEC.md", "SPEC.md"},
		// Relative but climbing out: treated like a foreign path.
		{root, "../elsewhere/docs/z.log", "docs/z.log"},
		{root, "../../secret.txt", "secret.txt"},
		{root, "docs/../../etc/passwd", "passwd"},
		// Absolute inside the root.
		{root, root + "/" + ev + "/a.log", ev + "/a.log"},
		{root + "/", root + "/SPEC.md", "SPEC.md"},
		{root, root + "/tools/docs/notes.md", "tools/docs/notes.md"},
		{root, root, "."},
		{"/", "/docs/a.log", "docs/a.log"},
		// Absolute elsewhere: cut at the first docs element.
		{root, "/home/x/code/docs/SPEC-OPS-004-y/a.log", "docs/SPEC-OPS-004-y/a.log"},
		{root, "/srv/ci/checkout-2/docs/a.log", "docs/a.log"}, // a sibling, not inside
		{"", "/home/runner/work/acme/acme/docs/" + "SPEC.md", "docs/SPEC.md"},
		{root, "/home/x/docs", "docs"},
		{root, "/home/x/mydocs/docs-old/a.log", "a.log"},
		{root, "/var/tmp/../log/docs/b.log", "docs/b.log"},
		// Windows telemetry.
		{root, `C:\Users\dev\code\docs\SPEC-OPS-004\a.log`, "docs/SPEC-OPS-004/a.log"},
		{`C:\Users\dev\code`, `C:\Users\dev\code\SPEC.md`, "SPEC.md"},
		{root, `D:\build\out.log`, "out.log"},
		// Nothing usable.
		{root, "", ""},
		{root, "/", ""},
		{root, "C:", ""},
		{root, "C:/", ""},
	}
	for _, tc := range cases {
		got := telemetry.RepoRelative(tc.root, tc.in)
		if got != tc.want {
			t.Errorf("RepoRelative(%q, %q) = %q, want %q", tc.root, tc.in, got, tc.want)
		}
		if strings.HasPrefix(got, "/") || filepath.IsAbs(got) || strings.Contains("/"+got+"/", "/../") {
			t.Errorf("RepoRelative(%q, %q) = %q: absolute or climbing", tc.root, tc.in, got)
		}
	}
}

func TestRepoRelativeRelativeRoot(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(wd, "docs", "a.log")
	if got := telemetry.RepoRelative(".", in); got != "docs/a.log" {
		t.Errorf("RepoRelative(., %q) = %q", in, got)
	}
	in = filepath.Join(wd, "sub", "a.log")
	if got := telemetry.RepoRelative(".", in); got != "sub/a.log" {
		t.Errorf("RepoRelative(., %q) = %q", in, got)
	}
}

func FuzzRepoRelative(f *testing.F) {
	for _, s := range []string{"/a/docs/b", "../x", `C:\docs\y`, "docs/../..", "/", ""} {
		f.Add("/srv/ci/checkout", s)
	}
	f.Fuzz(func(t *testing.T, root, p string) {
		got := telemetry.RepoRelative(root, p)
		if strings.HasPrefix(got, "/") || strings.Contains(got, `\`) || strings.Contains("/"+got+"/", "/../") {
			t.Errorf("RepoRelative(%q, %q) = %q", root, p, got)
		}
		if len(got) >= 2 && got[1] == ':' && strings.ContainsRune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", rune(got[0])) {
			t.Errorf("RepoRelative(%q, %q) = %q: drive path", root, p, got)
		}
	})
}
