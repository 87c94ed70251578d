package spool

import (
	"math/rand/v2"
	"testing"
)

// literalSafeRunes is literalSafe's rule without the ASCII fast path: the
// rune loop alone decides.
func literalSafeRunes(body []byte) bool {
	if len(body) == 0 || body[len(body)-1] == '\n' || body[0] == ' ' || body[0] == '\t' || body[0] == '\n' {
		return false
	}
	return literalSafeText(body)
}

// The ASCII fast path of literalSafe decides as the rune loop does.
func TestLiteralSafeFastPathAgrees(t *testing.T) {
	cases := []struct {
		body string
		want bool
	}{
		{`{"a": 1}`, true},
		{"{\n  \"a\": 1\n}", true},
		{"", false},
		{"x\n", false},
		{" x", false},
		{"\tx", false},
		{"\nx", false},
		{"x \ny", false},
		{"x\t\ny", false},
		{"x ", false},
		{"x\r\ny", false},
		{"x\x00", false},
		{"x\x7f", false},
		{"a\tb", true},
		{"café", true},
		{"café ", false},
		{"caf\xc3", false},       // invalid UTF-8
		{"x\u0085y", false},      // NEL breaks lines
		{"x\u2028y", false},      // LINE SEPARATOR
		{"x\ufeffy", false},      // BOM
		{"\u00e9\n\u00e9", true}, // non-ASCII first line
		{"ab \u00e9", true},
	}
	for _, c := range cases {
		if got := literalSafe([]byte(c.body)); got != c.want || got != literalSafeRunes([]byte(c.body)) {
			t.Errorf("literalSafe(%q) = %t, want %t (rune loop: %t)", c.body, got, c.want, literalSafeRunes([]byte(c.body)))
		}
	}
	alphabet := []string{"a", "{", "\"", " ", "\t", "\n", "\r", "\x00", "\x7f", "é", "\u2028", "\ufeff", "\xc3", "😀"}
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[bool]int{}
	for range 20000 {
		var b []byte
		for range rng.IntN(12) {
			b = append(b, alphabet[rng.IntN(len(alphabet))]...)
		}
		got, want := literalSafe(b), literalSafeRunes(b)
		if got != want {
			t.Fatalf("literalSafe(%q) = %t, rune loop says %t", b, got, want)
		}
		seen[got]++
	}
	if seen[true] == 0 || seen[false] == 0 {
		t.Fatalf("random bodies all decided the same way: %v", seen)
	}
}
