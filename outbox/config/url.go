package config

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// urlProblem reports why raw is not an acceptable delivery URL, or "" when it
// is. Acceptable: an absolute https URL with a host, or an http URL whose host
// is loopback (127.0.0.0/8, ::1, localhost) or when allowInsecure is set.
//
// URLs can hold tokens, so the message shows the URL only as
// scheme://host/path, never its userinfo, query or fragment; with hidePath
// (values read from the environment) the path is elided too.
func urlProblem(raw string, allowInsecure, hidePath bool) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Opaque != "" {
		// Never echo raw: it could not be parsed, so it cannot be redacted.
		return "is not a valid absolute URL (want https://host/path)"
	}
	shown := func() string { return strconv.Quote(displayURL(u, hidePath)) }
	if u.Hostname() == "" {
		return shown() + " has no host"
	}
	switch u.Scheme {
	case "https":
		return ""
	case "http":
		if allowInsecure || isLoopback(u.Hostname()) {
			return ""
		}
		return shown() + " is not https (http is allowed only for loopback hosts or with allow_insecure_http = true)"
	default:
		return fmt.Sprintf("%s: scheme %q is not supported (want https, or http for loopback hosts)", shown(), u.Scheme)
	}
}

// displayURL renders u as scheme://host/path (scheme://host/… with hidePath).
func displayURL(u *url.URL, hidePath bool) string {
	s := u.Scheme + "://" + u.Host
	p := u.EscapedPath()
	switch {
	case p == "" || p == "/":
		return s + p
	case hidePath:
		return s + "/…"
	}
	return s + p
}

// isLoopback reports whether host is "localhost" or a loopback IP address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// Placeholders of evidence_base_url.
const (
	PathPlaceholder   = "{path}"
	CommitPlaceholder = "{commit}"
)

// evidenceURLProblem reports why tmpl is not a usable evidence_base_url, or
// "" when it is: an absolute http(s) URL template holding {path}.
func evidenceURLProblem(tmpl string) string {
	if !strings.Contains(tmpl, PathPlaceholder) {
		return "must contain " + PathPlaceholder
	}
	probe := strings.NewReplacer(PathPlaceholder, "p", CommitPlaceholder, "c").Replace(tmpl)
	u, err := url.Parse(probe)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "want an absolute http(s) URL template, e.g. \"https://github.com/acme/repo/blob/{commit}/{path}\""
	}
	return ""
}

// EvidenceLinks builds one link per repository-relative path from
// evidence_base_url, or returns nil when it is not set. {commit} becomes
// commit (or "HEAD" when empty, as in an unborn branch); {path} becomes the
// path with each segment URL-escaped.
func (w *Webhooks) EvidenceLinks(commit string, paths []string) []string {
	if w.EvidenceBaseURL == "" || len(paths) == 0 {
		return nil
	}
	if commit == "" {
		commit = "HEAD"
	}
	links := make([]string, 0, len(paths))
	for _, p := range paths {
		segs := strings.Split(p, "/")
		for i, s := range segs {
			segs[i] = url.PathEscape(s)
		}
		links = append(links, strings.NewReplacer(CommitPlaceholder, commit, PathPlaceholder, strings.Join(segs, "/")).Replace(w.EvidenceBaseURL))
	}
	return links
}
