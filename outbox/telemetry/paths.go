package telemetry

import (
	"path"
	"path/filepath"
	"strings"
)

// RepoRelative maps an artifact path from telemetry to a path relative to the
// repository at repoRoot, with forward slashes, for payloads and links.
//
//   - A relative p is cleaned and returned (it is taken as relative to the
//     repository already).
//   - An absolute p inside repoRoot is returned relative to repoRoot.
//   - An absolute p elsewhere (telemetry written on another machine or in
//     another checkout) is cut at its first "docs" path element:
//     /home/x/code/docs/SPEC-OPS-004-integrated-coder-hooks/a.log gives
//     docs/SPEC-OPS-004-integrated-coder-hooks/a.log.
//   - Failing that, only the base name is returned.
//
// Backslashes are read as separators and a Windows drive letter as absolute,
// so telemetry written on Windows maps too. The result is never absolute and
// never holds "..": a relative p that climbs out of the repository is treated
// like a foreign absolute one. RepoRelative returns "" for an empty p or when
// nothing usable is left (p is "/"). It reads no files; a relative repoRoot is
// resolved against the working directory.
func RepoRelative(repoRoot, p string) string {
	if p == "" {
		return ""
	}
	s := slashed(p)
	if !isAbsSlashed(s) {
		s = path.Clean(s)
		if s == ".." || strings.HasPrefix(s, "../") || isAbsSlashed(s) { // "./C:" cleans to "C:"
			return fromDocs(s)
		}
		return s
	}
	s = path.Clean(s)
	if root := cleanRoot(repoRoot); root != "" {
		prefix := root + "/"
		if root == "/" {
			prefix = "/"
		}
		if s == root {
			return "."
		}
		if rel, ok := strings.CutPrefix(s, prefix); ok && rel != "" {
			return rel
		}
	}
	return fromDocs(s)
}

// cleanRoot returns repoRoot absolute, cleaned and slashed, or "" if it is
// empty or cannot be made absolute.
func cleanRoot(repoRoot string) string {
	if repoRoot == "" {
		return ""
	}
	r := slashed(repoRoot)
	if !isAbsSlashed(r) {
		abs, err := filepath.Abs(repoRoot)
		if err != nil {
			return ""
		}
		r = slashed(abs)
	}
	return path.Clean(r)
}

// fromDocs returns s from its first "docs" element on, else its base name,
// else "". s is clean, so nothing after "docs" is "..".
func fromDocs(s string) string {
	rest := s
	for rest != "" {
		elem, after, _ := strings.Cut(rest, "/")
		if elem == "docs" {
			return rest
		}
		rest = after
	}
	base := path.Base(s)
	switch base {
	case "/", ".", "..", "":
		return ""
	}
	if isAbsSlashed(base) { // a bare drive, "C:"
		return ""
	}
	return base
}

func slashed(p string) string { return strings.ReplaceAll(p, `\`, "/") }

// isAbsSlashed reports whether a slashed path is absolute on Unix or Windows
// ("/x", "//server/share", "C:/x", "C:"). A drive-relative "C:x" counts too:
// it is no path inside the repository either.
func isAbsSlashed(p string) bool {
	if strings.HasPrefix(p, "/") {
		return true
	}
	return len(p) >= 2 && p[1] == ':' && isLetter(p[0])
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
