package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFind(t *testing.T) {
	root := t.TempDir()
	mk := func(rel string) string {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("# "+rel+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	explicit := mk("explicit/custom.toml")
	repoCfg := mk("repo/config.toml")
	codeCfg := mk("code-home/config.toml")
	codexCfg := mk("codex-home/config.toml")
	homeCode := mk("home/.code/config.toml")
	homeCodex := mk("home2/.codex/config.toml")
	// A directory named config.toml is not a config file.
	if err := os.MkdirAll(filepath.Join(root, "dirrepo", "config.toml"), 0o755); err != nil {
		t.Fatal(err)
	}

	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	dir := func(rel string) string { return filepath.Join(root, rel) }
	all := env("CODE_HOME", dir("code-home"), "CODEX_HOME", dir("codex-home"), "HOME", dir("home"))

	tests := []struct {
		name     string
		explicit string
		repoRoot string
		getenv   func(string) string
		want     string
	}{
		{"explicit wins", explicit, dir("repo"), all, explicit},
		{"repo root next", "", dir("repo"), all, repoCfg},
		{"CODE_HOME next", "", dir("empty-repo"), all, codeCfg},
		{"repo root skipped when empty", "", "", all, codeCfg},
		{"directory named config.toml skipped", "", dir("dirrepo"), all, codeCfg},
		{"CODEX_HOME next", "", "", env("CODE_HOME", dir("nothing"), "CODEX_HOME", dir("codex-home"), "HOME", dir("home")), codexCfg},
		{"~/.code next", "", "", env("HOME", dir("home")), homeCode},
		{"~/.codex last", "", "", env("HOME", dir("home2")), homeCodex},
		{"nothing found", "", dir("empty-repo"), env("HOME", dir("nothing")), ""},
		{"no HOME at all", "", "", env(), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Find(tt.explicit, tt.repoRoot, tt.getenv)
			if err != nil || got != tt.want {
				t.Errorf("Find = %q, %v; want %q", got, err, tt.want)
			}
		})
	}

	t.Run("explicit missing", func(t *testing.T) {
		missing := dir("explicit/nope.toml")
		got, err := Find(missing, dir("repo"), all)
		if got != "" || !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), missing) {
			t.Errorf("Find = %q, %v; want ErrNotFound naming %s (no fallback)", got, err, missing)
		}
	})
	t.Run("explicit directory", func(t *testing.T) {
		_, err := Find(dir("explicit"), "", all)
		if !errors.Is(err, ErrRead) || !strings.Contains(err.Error(), dir("explicit")) {
			t.Errorf("Find(dir) = %v, want ErrRead naming it", err)
		}
	})
}
