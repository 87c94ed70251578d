// Package jsonpos turns the byte offsets of encoding/json errors into the
// line and column a person can find in the file.
package jsonpos

import "bytes"

// Position gives the 1-based line and column of the last byte read when
// encoding/json stopped "after reading offset bytes": the offending byte of a
// syntax error, the last byte of a value of the wrong type.
func Position(data []byte, offset int64) (line, col int) {
	i := int(min(max(offset-1, 0), int64(len(data))))
	before := data[:i]
	line = 1 + bytes.Count(before, []byte{'\n'})
	col = i - bytes.LastIndexByte(before, '\n')
	return line, col
}
