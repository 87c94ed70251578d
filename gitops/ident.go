package gitops

import (
	"os"
	"path/filepath"

	"github.com/go-git/go-git/v5/plumbing/format/config"
)

// fallbackIdentity is used when nothing else names an author.
var fallbackIdentity = Identity{Name: "outbox", Email: "outbox@localhost"}

// identities returns the author and committer: the configured identity,
// else GIT_AUTHOR_* / GIT_COMMITTER_* and git config user.name/user.email
// (as git resolves them), else the outbox identity.
func identities(configured *Identity, commonDir string) (author, committer Identity) {
	if configured != nil && configured.Name != "" && configured.Email != "" {
		return *configured, *configured
	}
	base := gitConfigIdentity(commonDir)
	if configured != nil {
		if configured.Name != "" {
			base.Name = configured.Name
		}
		if configured.Email != "" {
			base.Email = configured.Email
		}
	}
	pick := func(nameEnv, emailEnv string) Identity {
		id := base
		if v := os.Getenv(nameEnv); v != "" && (configured == nil || configured.Name == "") {
			id.Name = v
		}
		if v := os.Getenv(emailEnv); v != "" && (configured == nil || configured.Email == "") {
			id.Email = v
		}
		if id.Name == "" {
			id.Name = fallbackIdentity.Name
		}
		if id.Email == "" {
			id.Email = fallbackIdentity.Email
		}
		return id
	}
	return pick("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL"), pick("GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL")
}

// gitConfigIdentity reads user.name and user.email from git's config files
// in git's order (system, global, repository; later wins). include
// directives are not followed.
func gitConfigIdentity(commonDir string) Identity {
	var files []string
	if os.Getenv("GIT_CONFIG_NOSYSTEM") == "" {
		files = append(files, "/etc/gitconfig")
	}
	if g, ok := os.LookupEnv("GIT_CONFIG_GLOBAL"); ok {
		files = append(files, g)
	} else {
		xdg := os.Getenv("XDG_CONFIG_HOME")
		home, _ := os.UserHomeDir()
		if xdg == "" && home != "" {
			xdg = filepath.Join(home, ".config")
		}
		if xdg != "" {
			files = append(files, filepath.Join(xdg, "git", "config"))
		}
		if home != "" {
			files = append(files, filepath.Join(home, ".gitconfig"))
		}
	}
	files = append(files, filepath.Join(commonDir, "config"))
	var id Identity
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		cfg := config.New()
		err = config.NewDecoder(f).Decode(cfg)
		f.Close()
		if err != nil {
			continue
		}
		if v := cfg.Section("user").Option("name"); v != "" {
			id.Name = v
		}
		if v := cfg.Section("user").Option("email"); v != "" {
			id.Email = v
		}
	}
	return id
}
