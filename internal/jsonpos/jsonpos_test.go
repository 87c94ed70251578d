package jsonpos

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestPosition(t *testing.T) {
	tests := []struct {
		doc       string
		line, col int
	}{
		{"{\n  \"a\": [1,\n  oops]\n}", 3, 3},
		{"x", 1, 1},
		{"{\"a\": 1,}", 1, 9},
	}
	for _, tt := range tests {
		var v any
		var se *json.SyntaxError
		if err := json.Unmarshal([]byte(tt.doc), &v); !errors.As(err, &se) {
			t.Fatalf("%q: %v is not a syntax error", tt.doc, err)
		}
		if line, col := Position([]byte(tt.doc), se.Offset); line != tt.line || col != tt.col {
			t.Errorf("%q: %d:%d, want %d:%d", tt.doc, line, col, tt.line, tt.col)
		}
	}
	if line, col := Position(nil, 0); line != 1 || col != 1 {
		t.Errorf("empty: %d:%d", line, col)
	}
}
