package telemetry_test

import (
	"bytes"
	"errors"
	"io/fs"
	"path"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/spec-kit/outbox/fixtures"
	"github.com/spec-kit/outbox/outbox/event"
	"github.com/spec-kit/outbox/outbox/telemetry"
)

// FuzzParseGuardrailContract checks what the package documentation promises
// of ParseGuardrail, for any input (FuzzParseGuardrail, in
// guardrail_test.go, checks the status inference): errors are one line,
// start with "telemetry: ", stay short however long the file's strings are,
// wrap a sentinel, and agree with the partial result; a BOM changes nothing.
func FuzzParseGuardrailContract(f *testing.F) {
	// Every JSON file of the sample evidence: guardrail telemetry v1 of each
	// stage, the malformed one, and consensus files (v2, not guardrail).
	err := fs.WalkDir(fixtures.FS, "repo", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || (path.Ext(p) != ".json" && path.Ext(p) != ".jsonl") {
			return err
		}
		data, err := fixtures.FS.ReadFile(p)
		if err == nil {
			f.Add(data)
		}
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		``, `null`, `[]`, `"x"`, `{`, `{}`, "\xef\xbb\xbf{}",
		`{"schemaVersion": "1.0", "command": "SPEC-OPS-VALIDATE", "specId": "  S  ", "scenarios": [{"name": " ", "status": "Blocked"}]}`,
		`{"schemaVersion": 1.5, "command": "spec-", "specId": "", "hooks": {"a": 1}}`,
		`{"schemaVersion": [1], "command": 7, "artifacts": [{"path": ""}, {"path": "/x"}], "hal": {"summary": {"status": " failed "}}}`,
		`{"schemaVersion": 1, "command": "spec-ops-audit", "specId": "S", "tool": {"status": null}, "policy": "x"}`,
	} {
		f.Add([]byte(s))
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := telemetry.ParseGuardrail(data)
		if err != nil {
			checkGuardrailError(t, err)
		}
		if g == nil {
			if !errors.Is(err, telemetry.ErrMalformed) {
				t.Fatalf("nil Guardrail with error %v, want ErrMalformed", err)
			}
		} else {
			checkGuardrail(t, g, err)
		}

		// A UTF-8 byte order mark in front changes nothing (one is
		// tolerated, not two).
		if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
			return
		}
		g2, err2 := telemetry.ParseGuardrail(append([]byte("\xef\xbb\xbf"), data...))
		if !reflect.DeepEqual(g, g2) || errText(err) != errText(err2) {
			t.Fatalf("a BOM changed the result:\n%+v, %v\n%+v, %v", g, err, g2, err2)
		}
	})
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func checkGuardrailError(t *testing.T, err error) {
	t.Helper()
	msg := err.Error()
	if !strings.HasPrefix(msg, "telemetry: ") {
		t.Errorf("error %q does not start with \"telemetry: \"", msg)
	}
	if strings.ContainsAny(msg, "\r\n") {
		t.Errorf("error is not one line: %q", msg)
	}
	if len(msg) > 1024 {
		t.Errorf("error is %d bytes long: file text is not clipped: %.200q…", len(msg), msg)
	}
	sentinel := false
	for _, s := range []error{telemetry.ErrMalformed, telemetry.ErrNotGuardrail, telemetry.ErrUnknownCommand, telemetry.ErrMissingSpecID} {
		sentinel = sentinel || errors.Is(err, s)
	}
	if !sentinel {
		t.Errorf("error %q wraps no sentinel", msg)
	}
}

func checkGuardrail(t *testing.T, g *telemetry.Guardrail, err error) {
	t.Helper()
	if !slices.Contains(event.Statuses, g.Status) {
		t.Errorf("Status %q is not one of %v", g.Status, event.Statuses)
	}
	if g.Stage != "" && !slices.Contains(event.Stages, g.Stage) {
		t.Errorf("Stage %q is not one of %v", g.Stage, event.Stages)
	}
	if g.SpecID != strings.TrimSpace(g.SpecID) {
		t.Errorf("SpecID %q is not trimmed", g.SpecID)
	}
	for _, c := range g.Checks {
		if c.Name == "" || strings.TrimSpace(c.Status) == "" {
			t.Errorf("check %+v has no name or a blank status", c)
		}
	}
	if slices.Contains(g.Artifacts, "") {
		t.Errorf("Artifacts %q has an empty path", g.Artifacts)
	}
	// Each problem the result shows is reported, and nothing else.
	if got, want := errors.Is(err, telemetry.ErrMissingSpecID), g.SpecID == ""; got != want {
		t.Errorf("ErrMissingSpecID reported: %v, SpecID %q (err %v)", got, g.SpecID, err)
	}
	if got, want := errors.Is(err, telemetry.ErrUnknownCommand), g.Stage == ""; got != want {
		t.Errorf("ErrUnknownCommand reported: %v, Stage %q (err %v)", got, g.Stage, err)
	}
	if got, want := errors.Is(err, telemetry.ErrNotGuardrail), g.SchemaVersion != 1; got != want {
		t.Errorf("ErrNotGuardrail reported: %v, SchemaVersion %d (err %v)", got, g.SchemaVersion, err)
	}
}
