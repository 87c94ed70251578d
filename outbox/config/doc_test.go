package config_test

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/spec-kit/outbox/outbox/config"
)

// docPath is the configuration reference, relative to this package.
var docPath = filepath.Join("..", "..", "docs", "configuration.md")

// tomlKeys returns the toml tags of t's fields, except "subscriptions" (the
// array of tables, documented by its own section).
func tomlKeys(t reflect.Type) []string {
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ",")
		if name != "" && name != "-" && name != "subscriptions" {
			keys = append(keys, name)
		}
	}
	return keys
}

// docSection returns the lines of the "## " section of doc whose heading
// contains title.
func docSection(t *testing.T, doc, title string) string {
	t.Helper()
	var b strings.Builder
	in := false
	for _, line := range strings.SplitAfter(doc, "\n") {
		if strings.HasPrefix(line, "## ") {
			in = strings.Contains(line, title)
			continue
		}
		if in {
			b.WriteString(line)
		}
	}
	if b.Len() == 0 {
		t.Fatalf("%s has no \"## \" section titled %s", docPath, title)
	}
	return b.String()
}

// TestDocumentsEveryKey fails when a key that config.toml accepts (a toml
// tag of config.Webhooks or config.Subscription) has no row in the key table
// of its section of docs/configuration.md: a row starting "| `key` |".
func TestDocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	for _, table := range []struct {
		title string
		typ   reflect.Type
	}{
		// The subscriptions heading contains the webhooks title too, so
		// match the exact spellings.
		{"`[spec_ops.webhooks]`", reflect.TypeFor[config.Webhooks]()},
		{"`[[spec_ops.webhooks.subscriptions]]`", reflect.TypeFor[config.Subscription]()},
	} {
		section := docSection(t, doc, table.title)
		keys := tomlKeys(table.typ)
		if len(keys) == 0 {
			t.Fatalf("%s has no toml tags", table.typ)
		}
		for _, key := range keys {
			row := regexp.MustCompile("(?m)^\\| `" + regexp.QuoteMeta(key) + "` \\|")
			if !row.MatchString(section) {
				t.Errorf("%s: section %s has no table row for key %q (accepted by %s)", docPath, table.title, key, table.typ)
			}
		}
	}
	if !strings.Contains(doc, config.EnvWebhooksEnabled) {
		t.Errorf("%s does not mention %s", docPath, config.EnvWebhooksEnabled)
	}
}

// TestDocExampleParses checks the annotated example of docs/configuration.md
// (the toml block after "<!-- example: config.Parse -->"): config.Parse must
// accept it, and it must set every key.
func TestDocExampleParses(t *testing.T) {
	data, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "<!-- example: config.Parse -->\n```toml\n")
	if !ok {
		t.Fatalf("%s: no \"<!-- example: config.Parse -->\" marker followed by a ```toml block", docPath)
	}
	example, _, ok := strings.Cut(rest, "\n```\n")
	if !ok {
		t.Fatalf("%s: the example's toml block is not closed", docPath)
	}
	example += "\n"
	cfg, err := config.Parse("configuration.md example", []byte(example))
	if err != nil {
		t.Fatalf("the example does not parse:\n%v", err)
	}
	if !cfg.Webhooks.Enabled || len(cfg.Webhooks.Subscriptions) == 0 {
		t.Errorf("the example should enable webhooks and have subscriptions")
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[config.Webhooks](), reflect.TypeFor[config.Subscription]()} {
		for _, key := range tomlKeys(typ) {
			if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(key) + ` = `).MatchString(example) {
				t.Errorf("the example does not set %q (%s): it should show every key", key, typ)
			}
		}
	}
}
