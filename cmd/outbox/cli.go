package main

import (
	"io"

	"github.com/alecthomas/kong"
)

// CLI is the command line: global flags and one field per command.
type CLI struct {
	Globals

	Emit    EmitCmd          `cmd:"" help:"Enqueue an event: one spool file per matching subscription, no network."`
	Deliver DeliverCmd       `cmd:"" help:"Send what is due: sign, POST, then move each file to sent/ or dead/, or reschedule it."`
	List    ListCmd          `cmd:"" help:"List deliveries: state, event, subscription, attempts, last status, next due time."`
	Show    ShowCmd          `cmd:"" help:"Show one delivery: its payload and its whole history from the ledger."`
	Replay  ReplayCmd        `cmd:"" help:"Move dead letters back into the spool (same id, same body) and deliver them."`
	Test    TestCmd          `cmd:"" help:"Send a signed spec-kit.ping to one subscription now and report the response."`
	Status  StatusCmd        `cmd:"" help:"Per SPEC and subscription: pending, due, dead, last success, warnings."`
	Listen  ListenCmd        `cmd:"" help:"Run a local receiver that verifies and prints each delivery (for testing configs)."`
	Verify  VerifyCmd        `cmd:"" help:"Check the signatures of a captured webhook request (a file or standard input)."`
	Init    InitCmd          `cmd:"" help:"Prepare the repository: a [spec_ops.webhooks] example, .gitattributes and .gitignore lines. Idempotent."`
	Tasks   TasksCmd         `cmd:"" help:"Emit spec-kit.task.completed for tracker rows (SPEC.md, docs/<SPEC>/tasks.md) that became Done between two commits."`
	GC      GCCmd            `cmd:"" name:"gc" help:"Keep each SPEC's webhooks/ under its size cap: evict oldest first, record each eviction."`
	Config  ConfigCmd        `cmd:"" help:"Inspect config.toml."`
	Version kong.VersionFlag `help:"Print the version and exit."`
}

// Globals are the flags every command takes.
type Globals struct {
	ConfigPath string `name:"config" env:"SPECKIT_CONFIG" placeholder:"FILE" help:"config.toml to use. Default: config.toml at the repository root, then $CODE_HOME, $CODEX_HOME, ~/.code, ~/.codex."`
	Repo       string `placeholder:"DIR" help:"Repository to work in. Default: the git repository containing the current directory."`
	JSON       bool   `name:"json" help:"Print machine-readable JSON on stdout."`
}

// Env is what every command's Run receives.
type Env struct {
	Stdout, Stderr io.Writer
	*Globals
}
