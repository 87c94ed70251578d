//go:build !unix

package spool

import "os"

// readFileInto reads the file at p, appending to buf, to its end (it never
// stops at a short read: see readfile_unix.go).
func readFileInto(p string, buf []byte, _ bool) (data []byte, short bool, err error) {
	d, err := os.ReadFile(p)
	return append(buf, d...), false, err
}
