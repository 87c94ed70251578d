package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/spec-kit/outbox/deliver"
)

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress returns a deliver.Runner Progress callback that redraws one
// status line on a terminal at most ten times a second, and a function
// that ends the line. When w is not a terminal it returns nils: scripts
// and logs get no progress output.
func progress(w io.Writer, what string) (func(deliver.Summary), func()) {
	if !isTerminal(w) {
		return nil, func() {}
	}
	var (
		mu    sync.Mutex
		last  time.Time
		drawn bool
	)
	update := func(s deliver.Summary) {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(last) < 100*time.Millisecond {
			return
		}
		last, drawn = time.Now(), true
		fmt.Fprintf(w, "\r%s: %d delivered, %d retrying, %d dead ", what, s.Delivered, s.Retrying, s.Dead)
	}
	done := func() {
		mu.Lock()
		defer mu.Unlock()
		if drawn {
			fmt.Fprint(w, "\r\033[K")
		}
	}
	return update, done
}
