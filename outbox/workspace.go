package outbox

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spec-kit/outbox/gitops"
	"github.com/spec-kit/outbox/outbox/config"
)

// Workspace is a repository and the configuration that applies to it.
type Workspace struct {
	Root   string         // absolute root of the working tree
	Config *config.Config // Config.Path is "" when no file was found
}

// OpenWorkspace finds the repository (repo, else the one around the current
// directory) and loads its configuration (configPath, else the search order
// of config.Find). A missing configuration is not an error: everything takes
// its default, and webhooks are off.
func OpenWorkspace(repo, configPath string, getenv func(string) string) (*Workspace, error) {
	root, err := findRoot(repo)
	if err != nil {
		return nil, err
	}
	path, err := config.Find(configPath, root, getenv)
	if err != nil {
		return nil, err
	}
	cfg, err := loadConfig(path)
	if err != nil {
		return nil, err
	}
	return &Workspace{Root: root, Config: cfg}, nil
}

func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return config.Parse("", nil)
	}
	return config.Load(path)
}

func findRoot(repo string) (string, error) {
	if repo == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		root, err := gitops.Discover(wd)
		if err != nil {
			return "", fmt.Errorf("%w (pass --repo DIR)", err)
		}
		return root, nil
	}
	abs, err := filepath.Abs(repo)
	if err != nil {
		return "", err
	}
	st, err := os.Stat(abs)
	if err != nil || !st.IsDir() {
		return "", fmt.Errorf("--repo %s: not a directory", repo)
	}
	return abs, nil
}
