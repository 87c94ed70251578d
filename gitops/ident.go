package gitops

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/config"
)

// fallbackIdentity is used when nothing else names an author.
var fallbackIdentity = Identity{Name: "outbox", Email: "outbox@localhost"}

// gitConfig is what Commit takes from git's configuration.
type gitConfig struct {
	user Identity // user.name, user.email
	// skipHash: index.skipHash (or feature.manyFiles, which implies it),
	// git's permission to write the index without its trailing checksum.
	skipHash bool
	// fsyncLoose and fsyncIndex: core.fsync (or core.fsyncObjectFiles)
	// asks for loose objects, or the index, to be synced.
	fsyncLoose, fsyncIndex bool
}

// identities returns the author and committer: the configured identity,
// else GIT_AUTHOR_* / GIT_COMMITTER_* and git config user.name/user.email
// (as git resolves them), else the outbox identity.
func identities(configured *Identity, cfg gitConfig) (author, committer Identity) {
	if configured != nil && configured.Name != "" && configured.Email != "" {
		return *configured, *configured
	}
	base := cfg.user
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

// readGitConfig reads git's config files in git's order (system, global,
// repository; later wins). include directives are not followed.
func readGitConfig(commonDir string) gitConfig {
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
	var c gitConfig
	var skipHash, manyFiles, fsyncObjectFiles *bool
	var fsync []string
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
			c.user.Name = v
		}
		if v := cfg.Section("user").Option("email"); v != "" {
			c.user.Email = v
		}
		boolOpt(cfg.Section("index"), "skipHash", &skipHash)
		boolOpt(cfg.Section("feature"), "manyFiles", &manyFiles)
		boolOpt(cfg.Section("core"), "fsyncObjectFiles", &fsyncObjectFiles)
		fsync = append(fsync, cfg.Section("core").OptionAll("fsync")...)
	}
	switch {
	case skipHash != nil:
		c.skipHash = *skipHash
	case manyFiles != nil:
		c.skipHash = *manyFiles
	}
	c.fsyncLoose, c.fsyncIndex = fsyncComponents(fsync)
	if fsyncObjectFiles != nil && *fsyncObjectFiles {
		c.fsyncLoose = true
	}
	return c
}

func boolOpt(s *config.Section, key string, dst **bool) {
	if !s.HasOption(key) {
		return
	}
	v := false
	switch strings.ToLower(strings.TrimSpace(s.Option(key))) {
	case "true", "yes", "on", "1":
		v = true
	}
	*dst = &v
}

// fsyncComponents evaluates core.fsync as git does: the last value counts,
// a comma-separated list of components added to (or, with "-", removed
// from) the default set, "none" clearing it. It reports whether loose
// objects and the index are in the result; git's default has neither.
func fsyncComponents(values []string) (loose, index bool) {
	const (
		cLoose = 1 << iota
		cPack
		cPackMeta
		cCommitGraph
		cIndex
		cRef
	)
	names := map[string]int{
		"loose-object": cLoose, "pack": cPack, "pack-metadata": cPackMeta,
		"commit-graph": cCommitGraph, "index": cIndex, "reference": cRef,
		"objects":          cLoose | cPack,
		"derived-metadata": cPackMeta | cCommitGraph,
		"committed":        cLoose | cPack | cRef,
		"added":            cLoose | cPack | cRef | cIndex,
		"all":              cLoose | cPack | cPackMeta | cCommitGraph | cIndex | cRef,
	}
	const def = cPack | cPackMeta | cCommitGraph
	set := def
	for _, v := range values {
		cur, pos, neg := def, 0, 0
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			if part == "none" {
				cur = 0
				continue
			}
			minus := strings.HasPrefix(part, "-")
			c := names[strings.TrimPrefix(part, "-")]
			if minus {
				neg |= c
			} else {
				pos |= c
			}
		}
		set = (cur &^ neg) | pos
	}
	return set&cLoose != 0, set&cIndex != 0
}
