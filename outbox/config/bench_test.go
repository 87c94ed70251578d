package config

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// BenchmarkLoad loads the 10-subscription fixture: what `outbox emit` pays
// on every run (read + one decode + one schema scan + validation).
func BenchmarkLoad(b *testing.B) {
	path := fixtures + "ten-subscriptions.toml"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(path); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseBigCodexConfig parses a large Codex config (many unrelated
// keys and tables) with the 10 subscriptions appended: the unrelated part
// must stay cheap.
func BenchmarkParseBigCodexConfig(b *testing.B) {
	ten, err := os.ReadFile(fixtures + "ten-subscriptions.toml")
	if err != nil {
		b.Fatal(err)
	}
	var sb strings.Builder
	for i := range 60 {
		fmt.Fprintf(&sb, "key_%d = %d\n", i, i)
	}
	for i := range 40 {
		fmt.Fprintf(&sb, "[mcp_servers.s%d]\ncommand = \"npx\"\nargs = [\"-y\", \"s%d\"]\nenv = { A = \"b\" }\n", i, i)
	}
	data := []byte(strings.Replace(string(ten), `model = "gpt-5"`, sb.String(), 1))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("config.toml", data); err != nil {
			b.Fatal(err)
		}
	}
}
