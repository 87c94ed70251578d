package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// FileName is the name of the config file in every searched directory.
const FileName = "config.toml"

// Find returns the config file to load. Search order:
//
//  1. explicit (the CLI passes --config, else $SPECKIT_CONFIG): it must
//     exist, a missing file is an *Error wrapping ErrNotFound naming it;
//  2. <repoRoot>/config.toml (skipped when repoRoot is "");
//  3. $CODE_HOME/config.toml, $CODEX_HOME/config.toml;
//  4. $HOME/.code/config.toml, $HOME/.codex/config.toml.
//
// The first existing regular file wins. When nothing is found Find returns
// "", nil: the caller then uses Default() (webhooks off). A nil getenv means
// os.Getenv. Find only stats files; it never reads them.
func Find(explicit, repoRoot string, getenv func(string) string) (string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if explicit != "" {
		fi, err := os.Stat(explicit)
		switch {
		case err != nil:
			return "", readError(explicit, err)
		case fi.IsDir():
			return "", &Error{File: explicit, Msg: "is a directory, not a config file", Err: ErrRead}
		}
		return explicit, nil
	}
	var candidates []string
	if repoRoot != "" {
		candidates = append(candidates, filepath.Join(repoRoot, FileName))
	}
	for _, v := range []string{"CODE_HOME", "CODEX_HOME"} {
		if dir := getenv(v); dir != "" {
			candidates = append(candidates, filepath.Join(dir, FileName))
		}
	}
	if home := getenv("HOME"); home != "" {
		candidates = append(candidates,
			filepath.Join(home, ".code", FileName),
			filepath.Join(home, ".codex", FileName))
	}
	for _, c := range candidates {
		fi, err := os.Stat(c)
		switch {
		case err == nil && fi.Mode().IsRegular():
			return c, nil
		case err == nil, errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrInvalid):
			continue // a directory, or nothing there
		default:
			// The file may be there but we cannot tell: say so rather than
			// silently falling back to another config (or none).
			return "", readError(c, err)
		}
	}
	return "", nil
}
