package config

import (
	"bytes"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// seg is one segment of a key path: a key name, an array index, or both
// ("subscriptions[1]"). A bare index (nested arrays) has an empty name.
type seg struct {
	name string
	idx  int // -1: not an array element
}

// keyOf renders a key path: spec_ops.webhooks.subscriptions[1].url. Names
// that are not bare TOML keys are quoted.
func keyOf(path []seg) string {
	var b strings.Builder
	for i, s := range path {
		if s.name != "" {
			if i > 0 {
				b.WriteByte('.')
			}
			if isBareKey(s.name) {
				b.WriteString(s.name)
			} else {
				b.WriteString(strconv.Quote(s.name))
			}
		}
		if s.idx >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.idx))
			b.WriteByte(']')
		}
	}
	return b.String()
}

func isBareKey(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// span is the byte range of a key (with its value) or a table header.
type span struct {
	key        string
	start, end int
	table      bool   // a table header or an inline table
	msg        string // why it is unknown (scanner.unknown only)
}

// Relation of a key path to spec_ops.webhooks.
const (
	unrelated = iota // elsewhere in the file: ignored
	ancestor         // the root or spec_ops: may lead into spec_ops.webhooks
	inside           // spec_ops.webhooks or below: strict
)

func relation(path []seg) int {
	for i, want := range webhooksBase {
		if i == len(path) {
			return ancestor
		}
		if path[i].name != want || path[i].idx >= 0 {
			return unrelated
		}
	}
	return inside
}

// scanner walks a document with go-toml's unstable parser. It does what the
// decoder cannot do well: report keys under spec_ops.webhooks that are not in
// the schema (strict mode would report every unrelated key of a Codex config
// too, which is slow and mislabels keys in inline tables), remember where each
// key is (for error lines), and find the table a syntax error sits in.
type scanner struct {
	record     bool   // record spans, unknown keys and array indexes (error path)
	all        bool   // record spans for every key, not only under spec_ops.webhooks
	bad        bool   // an unknown key or a misshapen subscriptions table was seen
	spans      []span // in document order
	unknown    []span // keys/tables under spec_ops.webhooks not in the schema
	notArray   []span // spec_ops.webhooks.subscriptions written as a single table
	table      []seg  // current table
	arrays     map[string]int
	parseError error

	data     []byte
	byKey    map[string]int // first span per key, built on demand
	newlines []int          // offsets of '\n', built on demand
}

// Scan modes.
const (
	checkOnly  = iota // happy path: only set bad; no allocation for unrelated tables
	recordOurs        // record spans and problems under spec_ops.webhooks
	recordAll         // record spans for every key (locating decoder errors)
)

func scan(data []byte, mode int) *scanner {
	s := &scanner{record: mode != checkOnly, all: mode == recordAll, data: data}
	var p unstable.Parser
	p.Reset(data)
	tableRel := ancestor
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			s.header(e)
			tableRel = relation(s.table)
		case unstable.KeyValue:
			if tableRel != unrelated || s.all {
				s.keyval(s.table, e)
			}
		}
	}
	s.parseError = p.Error()
	return s
}

// header handles [a.b] and [[a.b]]. Array-table indexes are tracked per path
// so that [[spec_ops.webhooks.subscriptions]] becomes subscriptions[0], [1]...
func (s *scanner) header(e *unstable.Node) {
	var path []seg
	start, end := -1, -1
	it := e.Key()
	for it.Next() {
		k := it.Node()
		if start < 0 {
			start = int(k.Raw.Offset)
		}
		end = int(k.Raw.Offset + k.Raw.Length)
		path = append(path, seg{name: string(k.Data), idx: -1})
		if !s.record {
			continue // indexes only matter for messages
		}
		last := len(path) - 1
		if s.arrays == nil {
			s.arrays = map[string]int{}
		}
		id := keyOf(path)
		if it.IsLast() && e.Kind == unstable.ArrayTable {
			s.arrays[id]++
			path[last].idx = s.arrays[id] - 1
		} else if n := s.arrays[id]; n > 0 {
			path[last].idx = n - 1
		}
	}
	s.table = path
	s.entry(path, start, end, e.Kind)
}

// keyval handles key = value, at the top level or inside an inline table.
func (s *scanner) keyval(prefix []seg, kv *unstable.Node) {
	path := slices.Clip(prefix)
	it := kv.Key()
	for it.Next() {
		path = append(path, seg{name: string(it.Node().Data), idx: -1})
	}
	s.value(path, int(kv.Raw.Offset), int(kv.Raw.Offset+kv.Raw.Length), kv.Value())
}

// value records the entry at path and descends into inline tables and arrays.
func (s *scanner) value(path []seg, start, end int, v *unstable.Node) {
	rel := relation(path)
	if rel == unrelated && !s.all {
		return
	}
	if !s.entry(path, start, end, v.Kind) {
		return
	}
	switch v.Kind {
	case unstable.InlineTable:
		it := v.Children()
		for it.Next() {
			if n := it.Node(); n.Kind == unstable.KeyValue {
				s.keyval(path, n)
			}
		}
	case unstable.Array:
		i := 0
		it := v.Children()
		for it.Next() {
			n := it.Node()
			if n.Kind == unstable.Comment {
				continue
			}
			elem := slices.Clone(path)
			if last := &elem[len(elem)-1]; last.idx < 0 {
				last.idx = i
			} else {
				elem = append(elem, seg{idx: i})
			}
			i++
			es, ee := start, end
			if n.Raw.Length > 0 {
				es, ee = int(n.Raw.Offset), int(n.Raw.Offset+n.Raw.Length)
			}
			s.value(elem, es, ee, n)
		}
	}
}

// entry checks path against the schema (when under spec_ops.webhooks) and
// records its span. It returns false when the path is unknown, so that the
// caller does not descend into it.
func (s *scanner) entry(path []seg, start, end int, kind unstable.Kind) bool {
	rel := relation(path)
	table := kind == unstable.Table || kind == unstable.ArrayTable || kind == unstable.InlineTable
	if rel == inside {
		relPath := path[len(webhooksBase):]
		if n := knownPrefix(relPath); n < len(relPath) {
			s.bad = true
			if !s.record {
				return false
			}
			bad := path[:len(webhooksBase)+n+1]
			key := keyOf(bad)
			for _, u := range s.unknown {
				if u.key == key {
					return false
				}
			}
			sp := span{key: key, start: start, end: end, table: table || n+1 < len(relPath)}
			sp.msg = unknownKeyMsg(bad[len(webhooksBase):], sp.table)
			s.unknown = append(s.unknown, sp)
			s.spans = append(s.spans, sp)
			return false
		}
		if len(relPath) == 1 && relPath[0].name == "subscriptions" && relPath[0].idx < 0 &&
			(kind == unstable.Table || kind == unstable.InlineTable) {
			s.bad = true
			s.notArray = append(s.notArray, span{key: keyOf(path), start: start, end: end})
		}
	}
	if s.record && (rel == inside || s.all) {
		s.spans = append(s.spans, span{key: keyOf(path), start: start, end: end, table: table})
	}
	return true
}

// line returns the 1-based line of a byte offset.
func (s *scanner) line(offset int) int {
	if s.newlines == nil {
		s.newlines = make([]int, 0, 64)
		for i, c := range s.data {
			if c == '\n' {
				s.newlines = append(s.newlines, i)
			}
		}
	}
	return sort.SearchInts(s.newlines, offset) + 1
}

// offset returns the byte offset of a 1-based line and column.
func (s *scanner) offset(line, col int) int {
	off := 0
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(s.data[off:], '\n')
		if i < 0 {
			return len(s.data)
		}
		off += i + 1
	}
	return min(off+max(col-1, 0), len(s.data))
}

// lineOf returns the line where key (or, failing that, its closest recorded
// parent) is written; 0 when nothing matches.
func (s *scanner) lineOf(key string) int {
	if s.byKey == nil {
		s.byKey = make(map[string]int, len(s.spans))
		for i, sp := range s.spans {
			if _, dup := s.byKey[sp.key]; !dup {
				s.byKey[sp.key] = i
			}
		}
	}
	for key != "" {
		if i, ok := s.byKey[key]; ok {
			return s.line(s.spans[i].start)
		}
		key = parentKey(key)
	}
	return 0
}

// parentKey strips the last segment: a.b[1].c -> a.b[1] -> a.b -> a.
func parentKey(key string) string {
	if strings.HasSuffix(key, "]") {
		if i := strings.LastIndexByte(key, '['); i >= 0 {
			return key[:i]
		}
	}
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		return key[:i]
	}
	return ""
}

// innermost returns the smallest recorded span containing offset.
func (s *scanner) innermost(offset int) (span, bool) {
	best, found := span{}, false
	for _, sp := range s.spans {
		if sp.start <= offset && (offset < sp.end || offset == sp.start) {
			if !found || sp.end-sp.start < best.end-best.start {
				best, found = sp, true
			}
		}
	}
	return best, found
}

// syntaxKey guesses the key path of a syntax error on the given line: the
// table the scanner was in plus the key written on that line, if any.
func (s *scanner) syntaxKey(line int) string {
	start := s.offset(line, 1)
	text := string(s.data[start:])
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		text = text[:i]
	}
	text = strings.TrimSpace(text)
	if strings.HasPrefix(text, "[") {
		name := strings.TrimSpace(strings.Trim(text, "[] \t"))
		if i := strings.IndexAny(name, "]#"); i >= 0 {
			name = strings.TrimSpace(name[:i])
		}
		if isDottedBareKey(name) {
			return name
		}
		return ""
	}
	table := keyOf(s.table)
	if i := strings.IndexByte(text, '='); i > 0 {
		if k := strings.TrimSpace(text[:i]); isDottedBareKey(k) {
			if table == "" {
				return k
			}
			return table + "." + k
		}
	}
	return table
}

func isDottedBareKey(k string) bool {
	for _, part := range strings.Split(k, ".") {
		if !isBareKey(strings.TrimSpace(part)) {
			return false
		}
	}
	return true
}
