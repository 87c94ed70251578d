package send

import (
	"cmp"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spec-kit/outbox/internal/lazyre"
)

const (
	maxResponseLen = 200 // bytes of Result.Response
	maxErrorLen    = 300 // bytes of Result.Error

	urlMark    = "<url>"
	secretMark = "<redacted>"

	// minPartLen is the shortest path segment or query value redacted on
	// its own (shorter ones are too common to be secrets, and redacting them
	// would mangle ordinary text).
	minPartLen = 6
	// minSecretLen is the shortest secret redacted.
	minSecretLen = 4
)

// urlToken matches a "scheme://..." token, including the JSON-escaped form
// "scheme:\/\/...", up to whitespace, a quote, an angle bracket or a brace:
// characters that cannot appear in a URL unescaped.
var urlToken = lazyre.New(`[A-Za-z0-9+.\-]*:(?://|\\/\\/)[^\s"<>{}` + "`" + `]*`)

// redactor scrubs text from outside the package bound for a Result: it
// replaces "scheme://..." tokens and the request URL's parts with "<url>",
// and secrets with "<redacted>". It is built lazily, since most attempts
// have nothing to scrub, and is not safe for concurrent use.
type redactor struct {
	u       *url.URL
	raw     string
	secrets []string
	built   bool
	rep     *strings.Replacer // nil when there is nothing literal to redact
}

func newRedactor(u *url.URL, raw string, secrets []string) *redactor {
	return &redactor{u: u, raw: raw, secrets: secrets}
}

// build collects the literal strings to redact: the raw URL, its request
// URI (path and query), its path (escaped and not), long path segments, the query, its long values, the
// fragment, the userinfo, and the secrets.
func (r *redactor) build() {
	r.built = true
	type lit struct{ old, new string }
	var lits []lit
	add := func(s, mark string, minLen int) {
		if len(s) >= minLen {
			lits = append(lits, lit{s, mark})
		}
	}
	add(r.raw, urlMark, 1)
	if u := r.u; u != nil {
		add(u.String(), urlMark, 1)
		add(u.RequestURI(), urlMark, 2)
		if u.Path != "/" {
			add(u.EscapedPath(), urlMark, 2)
			add(u.Path, urlMark, 2)
		}
		for seg := range strings.SplitSeq(u.EscapedPath(), "/") {
			add(seg, urlMark, minPartLen)
			if dec, err := url.PathUnescape(seg); err == nil {
				add(dec, urlMark, minPartLen)
			}
		}
		add(u.RawQuery, urlMark, 1)
		if q, err := url.ParseQuery(u.RawQuery); err == nil {
			for _, vs := range q {
				for _, v := range vs {
					add(v, urlMark, minPartLen)
					add(url.QueryEscape(v), urlMark, minPartLen)
				}
			}
		}
		add(u.Fragment, urlMark, minPartLen)
		if u.User != nil {
			add(u.User.String(), urlMark, 1)
			add(u.User.Username(), urlMark, minSecretLen)
			if p, ok := u.User.Password(); ok {
				add(p, secretMark, minSecretLen)
			}
		}
	}
	for _, s := range r.secrets {
		add(s, secretMark, minSecretLen)
	}
	if len(lits) == 0 {
		return
	}
	// strings.Replacer tries its old strings in argument order at each
	// position: longest first, so a whole path wins over one of its segments.
	slices.SortStableFunc(lits, func(a, b lit) int { return cmp.Compare(len(b.old), len(a.old)) })
	pairs := make([]string, 0, 2*len(lits))
	for _, l := range lits {
		pairs = append(pairs, l.old, l.new)
	}
	r.rep = strings.NewReplacer(pairs...)
}

// scrub replaces URL tokens, then the literal strings. It works on text
// already cleaned of control characters.
func (r *redactor) scrub(s string) string {
	if s == "" {
		return ""
	}
	s = urlToken().ReplaceAllString(s, urlMark)
	if r != nil {
		if !r.built {
			r.build()
		}
		if r.rep != nil {
			s = r.rep.Replace(s)
		}
	}
	return s
}

// guard is the last guard on every Result string: printable text on one
// line, no "scheme://..." token, at most maxLen bytes. Unlike scrub it does
// not redact the URL's parts, which could mangle this package's own fixed
// messages (a path segment named "timeout"); text from outside the package
// goes through scrub first.
func guard(s string, maxLen int) string {
	if s == "" {
		return ""
	}
	return truncate(urlToken().ReplaceAllString(printable([]byte(s)), urlMark), maxLen)
}

// responsePrefix returns the sanitised prefix of a response body. When the
// body was cut at the read cap, its last, possibly partial, word is dropped
// before scrubbing so no partial URL or secret escapes the redactor.
func responsePrefix(body []byte, truncated bool, r *redactor) string {
	s := printable(body)
	if truncated {
		if i := strings.LastIndexByte(s, ' '); i >= 0 {
			s = s[:i]
		} else {
			s = ""
		}
	}
	return truncate(r.scrub(s), maxResponseLen)
}

// printable keeps the printable runes of b: whitespace runs (newlines and
// tabs included) become one space, control and format characters and
// invalid UTF-8 are dropped, and the result is trimmed.
func printable(b []byte) string {
	var sb strings.Builder
	sb.Grow(min(len(b), 4<<10))
	space := false
	for len(b) > 0 {
		c, size := utf8.DecodeRune(b)
		b = b[size:]
		switch {
		case c == utf8.RuneError && size <= 1:
			continue
		case unicode.IsSpace(c):
			space = sb.Len() > 0
		case unicode.IsPrint(c):
			if space {
				sb.WriteByte(' ')
				space = false
			}
			sb.WriteRune(c)
		}
	}
	return sb.String()
}

// truncate cuts s to at most n bytes on a rune boundary, then drops a
// placeholder cut in half and trailing spaces.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	s = s[:n]
	for _, mark := range []string{urlMark, secretMark} {
		for k := len(mark) - 1; k > 0; k-- {
			if strings.HasSuffix(s, mark[:k]) {
				s = s[:len(s)-k]
				break
			}
		}
	}
	return strings.TrimRight(s, " ")
}
