// Package lazyre compiles regular expressions on first use. Every outbox
// process links every package, and a package-level regexp.MustCompile runs
// at start-up whether the process needs it or not; emit is on a pipeline's
// critical path.
package lazyre

import (
	"regexp"
	"sync"
)

// New returns a function that compiles expr the first time it is called
// and returns the same *regexp.Regexp after that. It panics, like
// regexp.MustCompile, if expr does not compile.
func New(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
