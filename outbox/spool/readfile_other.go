//go:build !unix

package spool

import "os"

// readFileInto reads the file at p, appending to buf.
func readFileInto(p string, buf []byte) ([]byte, error) {
	data, err := os.ReadFile(p)
	return append(buf, data...), err
}
