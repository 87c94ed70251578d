package main

import (
	"bytes"
	"context"
	"net"
	"time"

	"fmt"
	"github.com/gofrs/flock"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/spec-kit/outbox/fixtures"
	"github.com/spec-kit/outbox/internal/schematest"
	"github.com/spec-kit/outbox/outbox/spool"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"outbox": func() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the end-to-end CLI tests in testdata/script.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			// Keep the user's ~/.codex and environment out of the tests.
			env.Setenv("HOME", filepath.Join(env.WorkDir, "home"))
			env.Setenv("CODE_HOME", "")
			env.Setenv("CODEX_HOME", "")
			env.Setenv("SPECKIT_CONFIG", "")
			env.Setenv("SPECKIT_WEBHOOKS_ENABLED", "")
			env.Setenv("GIT_CONFIG_GLOBAL", "/dev/null")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"fixture":  cmdFixture,
			"spooled":  cmdSpooled,
			"payloads": cmdPayloads,
			"freeport": cmdFreePort,
			"waitlock": cmdWaitLock,
			"waitport": cmdWaitPort,
			"envfrom":  cmdEnvFrom,
		},
	})
}

// fixture DIR: copy the sample Spec-Kit repository into DIR.
func cmdFixture(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: fixture DIR")
	}
	ts.Check(fixtures.CopyRepo(ts.MkAbs(args[0])))
}

// spooled DIR N: the state folder DIR holds exactly N delivery files, each
// well named and decodable, and nothing else.
func cmdSpooled(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: spooled DIR N")
	}
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	dir := ts.MkAbs(args[0])
	ents, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		ts.Fatalf("%v", err)
	}
	for _, e := range ents {
		n, err := spool.ParseName(e.Name())
		ts.Check(err)
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		ts.Check(err)
		d, err := spool.Decode(e.Name(), data)
		ts.Check(err)
		if d.ID != n.ID || d.Subscription != n.Subscription {
			ts.Fatalf("%s: content does not match its name", e.Name())
		}
	}
	if got := len(ents); (got == want) == neg {
		ts.Fatalf("%s holds %d files, want %s%d", args[0], got, map[bool]string{true: "not ", false: ""}[neg], want)
	}
}

// payloads DIR: every delivery body in DIR matches the payload JSON Schema,
// and the bodies are printed to stdout (for later `stdout` assertions).
func cmdPayloads(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: payloads DIR")
	}
	dir := ts.MkAbs(args[0])
	ents, err := os.ReadDir(dir)
	ts.Check(err)
	var out bytes.Buffer
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		ts.Check(err)
		d, err := spool.Decode(e.Name(), data)
		ts.Check(err)
		if err := schematest.Check(d.Body); err != nil {
			ts.Fatalf("%s: payload does not match the schema: %v\n%s", e.Name(), err, d.Body)
		}
		fmt.Fprintf(&out, "%s\n", d.Body)
	}
	if len(ents) == 0 {
		ts.Fatalf("%s: no delivery files", args[0])
	}
	ts.Stdout().Write(out.Bytes())
}

// freeport VAR: set VAR to a free loopback TCP port.
func cmdFreePort(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: freeport VAR")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	ts.Setenv(args[0], strconv.Itoa(port))
}

// waitlock FILE: wait (up to a minute) until the flock on FILE can be
// taken, i.e. a background deliver run holding it has finished its work.
func cmdWaitLock(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: waitlock FILE")
	}
	l := flock.New(ts.MkAbs(args[0]))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ok, err := l.TryLockContext(ctx, 10*time.Millisecond)
	ts.Check(err)
	if !ok {
		ts.Fatalf("%s stayed locked", args[0])
	}
	ts.Check(l.Unlock())
}

// waitport PORT: wait (up to ten seconds) until a background listener
// accepts connections on 127.0.0.1:PORT.
func cmdWaitPort(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: waitport PORT")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+args[0], time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("nothing listens on port %s: %v", args[0], err)
		}
		time.Sleep(5 * time.Millisecond) // polling a port that is not ours to signal
	}
}

// envfrom VAR REGEXP: set VAR to the first group of REGEXP's first match in
// the last command's stdout.
func cmdEnvFrom(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: envfrom VAR REGEXP")
	}
	m := regexp.MustCompile(args[1]).FindStringSubmatch(ts.ReadFile("stdout"))
	if len(m) < 2 {
		ts.Fatalf("no match for %s in stdout", args[1])
	}
	ts.Setenv(args[0], m[1])
}
