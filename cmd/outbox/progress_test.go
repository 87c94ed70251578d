package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/spec-kit/outbox/deliver"
)

// TestNoProgressOffTerminal: scripts and logs get no progress lines.
func TestNoProgressOffTerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, w := range []any{&bytes.Buffer{}, f} {
		w := w.(interface{ Write([]byte) (int, error) })
		update, done := progress(w, "deliver")
		if update != nil {
			t.Fatalf("%T: progress would be drawn", w)
		}
		done()
	}
	if isTerminal(f) {
		t.Fatal("a regular file is not a terminal")
	}
	var _ func(deliver.Summary) = nil
}

func TestIsEmit(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want bool
	}{
		{[]string{"emit", "--spec", "S"}, true},
		{[]string{"--repo", "emit", "deliver"}, false}, // "emit" is --repo's value
		{[]string{"--repo", "r", "--config", "c.toml", "emit"}, true},
		{[]string{"--repo=r", "--json", "emit"}, true},
		{[]string{"deliver", "emit"}, false},
		{[]string{"--help", "emit"}, false},
		{nil, false},
	} {
		if got := isEmit(tt.args); got != tt.want {
			t.Errorf("isEmit(%q) = %v, want %v", tt.args, got, tt.want)
		}
	}
}
