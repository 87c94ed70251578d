// Command outbox is a Git-native, file-only webhook outbox for Spec-Kit
// pipelines. This package only parses flags and prints; the work is done by
// the packages it calls.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/alecthomas/kong"
)

// Exit codes. They are part of the interface: scripts depend on them.
const (
	exitOK      = 0 // done (including "webhooks disabled, nothing to do")
	exitFailed  = 1 // the command ran and found problems (config check)
	exitUsage   = 2 // bad flags or arguments
	exitConfig  = 3 // config.toml is missing, unreadable or invalid
	exitRuntime = 4 // outbox could not do its work (I/O, locks, repository)
)

// exitError carries an exit code out of a command's Run.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// kongExit is how kong's --help and --version ask to exit.
type kongExit int

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run is the whole CLI, callable from tests.
func run(args []string, stdout, stderr io.Writer) (code int) {
	var cli CLI
	var model any = &cli
	if isEmit(args) {
		// emit is on the pipeline's critical path: build the parser from the
		// global flags and emit alone (kong's model of every command costs
		// about a millisecond). Flags, help and errors of emit are the same.
		model = &emitCLI{Globals: &cli.Globals}
	}
	defer func() {
		if r := recover(); r != nil {
			if c, ok := r.(kongExit); ok {
				code = int(c)
				return
			}
			panic(r)
		}
	}()
	parser, err := kong.New(model,
		kong.Name("outbox"),
		kong.Description(description),
		kong.UsageOnError(),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true, NoExpandSubcommands: false}),
		kong.Vars{"version": versionString()},
		kong.Writers(stdout, stderr),
		kong.Exit(func(c int) { panic(kongExit(c)) }),
	)
	if err != nil {
		panic(err) // a bug in the CLI definition
	}
	kctx, err := parser.Parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "outbox: %v\n", err)
		return exitUsage
	}
	env := &Env{Stdout: stdout, Stderr: stderr, Globals: &cli.Globals}
	err = kctx.Run(env)
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "outbox: %v\n", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitRuntime
}

// emitCLI is the command line as `outbox emit` sees it.
type emitCLI struct {
	*Globals
	Emit    EmitCmd          `cmd:"" help:"Enqueue an event: one spool file per matching subscription, no network."`
	Version kong.VersionFlag `help:"Print the version and exit."`
}

// isEmit reports whether args name the emit command: the first argument
// that is not a global flag (or a global flag's value) is "emit".
func isEmit(args []string) bool {
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--config" || a == "--repo":
			i++ // its value
		case strings.HasPrefix(a, "--config=") || strings.HasPrefix(a, "--repo=") || a == "--json":
		default:
			return a == "emit"
		}
	}
	return false
}

const description = `Git-native, file-only webhook outbox for Spec-Kit pipelines.

'outbox emit' turns a pipeline event into one immutable spool file per matching
subscription in the SPEC's webhooks/ directory, with no network, and starts a
detached 'outbox deliver', which signs and POSTs what is due and moves each
file to sent/ or dead/, or reschedules it. No daemon, no database: the ledger
of every action is committed with the evidence.

Exit codes: 0 ok, 1 problems found, 2 usage error, 3 configuration error,
4 runtime error.`
