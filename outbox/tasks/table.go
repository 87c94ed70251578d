package tasks

import (
	"strings"
	"unicode"

	"github.com/spec-kit/outbox/internal/lazyre"
)

// Row is one task row of a tracker table.
type Row struct {
	Spec   string `json:"spec,omitempty"` // the SPEC the row belongs to; "" when it names none
	TaskID string `json:"task_id"`
	Title  string `json:"title,omitempty"`
	Status string `json:"status"` // the cell, markup removed ("Done", "✅ Done", "In Progress")
	Done   bool   `json:"done"`
	Source string `json:"source"` // repository-relative file, forward slashes
	Line   int    `json:"line"`   // 1-based line of the row in Source
}

// column roles, found in a header row by name (case, spaces, '_', '-' and
// markup ignored).
const (
	colID = iota
	colStatus
	colTitle
	colSpec
	colPRD
	colEvidence
	colBranch
	colNotes
	numCols
)

var headerNames = map[string]int{
	"taskid": colID, "id": colID, "task#": colID, "taskno": colID,
	"status": colStatus, "state": colStatus,
	"title": colTitle, "tasktitle": colTitle, "task": colTitle, "name": colTitle, "summary": colTitle, "description": colTitle,
	"spec": colSpec, "specid": colSpec,
	"prd":      colPRD,
	"evidence": colEvidence,
	"branch":   colBranch,
	"notes":    colNotes, "note": colNotes,
}

// attribution is the order in which a SPEC.md row's cells are searched for
// the SPEC it belongs to.
var attribution = []int{colSpec, colPRD, colEvidence, colBranch, colNotes, colTitle}

// specToken matches a SPEC id: SPEC-<AREA>-<number>, then an optional slug.
var specToken = lazyre.New(`SPEC-[A-Z][A-Z0-9]*-[0-9]+(?:-[A-Za-z0-9]+)*`)

// Parse reads every tracker table of a Markdown file: a table whose header
// row names a task id column ("Task ID" or "ID") and a status column
// ("Status" or "State"). Other tables, and rows without a task id, are
// skipped. Columns may come in any order; extra columns are ignored, and a
// missing title column leaves titles empty.
//
// With spec set (docs/<SPEC-ID>/tasks.md), every row belongs to it.
// Otherwise (SPEC.md) a row belongs to the SPEC named by the last SPEC id in
// the first of its Spec, PRD, Evidence, Branch, Notes and Title cells that
// holds one (see SpecOf); rows naming none get an empty Spec.
func Parse(data []byte, source, spec string) []Row {
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	var rows []Row
	fence := ""
	for i := 0; i < len(lines); i++ {
		if f := fenceOf(lines[i]); f != "" {
			switch {
			case fence == "":
				fence = f
			case strings.HasPrefix(f, fence):
				fence = ""
			}
			continue
		}
		if fence != "" || i+1 >= len(lines) || !strings.Contains(lines[i], "|") || !isDelimiter(lines[i+1]) {
			continue
		}
		cols := headerColumns(splitRow(lines[i]))
		i += 2
		start := i
		for ; i < len(lines) && strings.Contains(lines[i], "|") && strings.TrimSpace(lines[i]) != ""; i++ {
		}
		if cols[colID] < 0 || cols[colStatus] < 0 {
			i--
			continue
		}
		for j := start; j < i; j++ {
			cells := splitRow(lines[j])
			cell := func(role int) string {
				if k := cols[role]; k >= 0 && k < len(cells) {
					return cells[k]
				}
				return ""
			}
			id := Clean(cell(colID))
			if id == "" || strings.Trim(id, "-") == "" {
				continue
			}
			status := Clean(cell(colStatus))
			r := Row{TaskID: id, Title: Clean(cell(colTitle)), Status: status, Done: IsDone(status), Source: source, Line: j + 1, Spec: spec}
			if spec == "" {
				for _, role := range attribution {
					if s := SpecOf(cell(role)); s != "" {
						r.Spec = s
						break
					}
				}
			}
			rows = append(rows, r)
		}
		i--
	}
	return rows
}

// fenceOf returns the fence (``` or ~~~, any length) a code-fence line opens
// or closes, or "".
func fenceOf(line string) string {
	t := strings.TrimLeft(line, " ")
	if len(line)-len(t) > 3 {
		return ""
	}
	for _, c := range []string{"`", "~"} {
		n := len(t) - len(strings.TrimLeft(t, c))
		if n >= 3 {
			return strings.Repeat(c, n)
		}
	}
	return ""
}

// headerColumns maps each role to its cell index in a header row, or -1.
// The first column with a role's name wins, except that an explicit task id
// column ("Task ID") beats a plain "ID", and "Title" beats "Task".
func headerColumns(cells []string) [numCols]int {
	var cols [numCols]int
	rank := [numCols]int{}
	for i := range cols {
		cols[i] = -1
	}
	for i, c := range cells {
		n := normHeader(c)
		role, ok := headerNames[n]
		if !ok {
			continue
		}
		r := 1
		if n == "taskid" || n == "title" {
			r = 2
		}
		if cols[role] < 0 || r > rank[role] {
			cols[role], rank[role] = i, r
		}
	}
	return cols
}

func normHeader(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(Clean(s)) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '#' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isDelimiter reports whether line is a table's delimiter row: cells of
// dashes with optional alignment colons.
func isDelimiter(line string) bool {
	if !strings.Contains(line, "-") {
		return false
	}
	cells := splitRow(line)
	if len(cells) == 0 {
		return false
	}
	for _, c := range cells {
		c = strings.TrimSpace(c)
		c = strings.TrimPrefix(c, ":")
		c = strings.TrimSuffix(c, ":")
		if c == "" || strings.Trim(c, "-") != "" {
			return false
		}
	}
	return true
}

// splitRow splits a table row into its raw cells: outer pipes dropped,
// "\|" kept as a literal pipe.
func splitRow(line string) []string {
	t := strings.TrimSpace(line)
	t = strings.TrimPrefix(t, "|")
	if strings.HasSuffix(t, "|") && !strings.HasSuffix(t, `\|`) {
		t = t[:len(t)-1]
	}
	var cells []string
	var b strings.Builder
	for i := 0; i < len(t); i++ {
		switch {
		case t[i] == '\\' && i+1 < len(t) && t[i+1] == '|':
			b.WriteByte('|')
			i++
		case t[i] == '|':
			cells = append(cells, strings.TrimSpace(b.String()))
			b.Reset()
		default:
			b.WriteByte(t[i])
		}
	}
	return append(cells, strings.TrimSpace(b.String()))
}

var (
	imageOrLink = lazyre.New(`!?\[([^\]]*)\]\([^)]*\)`)
	refLink     = lazyre.New(`\[([^\]]*)\]\[[^\]]*\]`)
	autoLink    = lazyre.New(`<((?:https?|mailto):[^>]*)>`)
	htmlBreak   = lazyre.New(`(?i)<br\s*/?>`)
	htmlTag     = lazyre.New(`</?[A-Za-z][A-Za-z0-9]*(?:\s[^>]*)?>`)
	emphasis    = lazyre.New(`(\*\*|__|~~)(.+?)(\*\*|__|~~)`)
	singleEmph  = lazyre.New(`(^|[\s(])[*_]([^*_\s][^*_]*?)[*_]($|[\s).,:;!?])`)
)

// Clean reduces a cell to its text: links to their text, emphasis, code
// spans and HTML tags removed, whitespace collapsed.
func Clean(cell string) string {
	s := cell
	s = imageOrLink().ReplaceAllString(s, "$1")
	s = refLink().ReplaceAllString(s, "$1")
	s = autoLink().ReplaceAllString(s, "$1")
	s = htmlBreak().ReplaceAllString(s, " ")
	s = htmlTag().ReplaceAllString(s, "")
	s = strings.ReplaceAll(s, "`", "")
	for {
		t := emphasis().ReplaceAllString(s, "$2")
		if t == s {
			break
		}
		s = t
	}
	for {
		t := singleEmph().ReplaceAllString(s, "$1$2$3")
		if t == s {
			break
		}
		s = t
	}
	return strings.Join(strings.Fields(s), " ")
}

// doneWords are the first words of a status that means the task is finished.
var doneWords = map[string]bool{
	"done": true, "complete": true, "completed": true, "finished": true,
	"shipped": true, "merged": true, "closed": true, "resolved": true,
}

// IsDone reports whether a cleaned status cell means the task is finished:
// its first word is Done (any case) or a synonym (Complete, Completed,
// Finished, Shipped, Merged, Closed, Resolved), after any leading emoji or
// punctuation ("✅ Done", "done (2026-11-02)"); or the cell is only a check
// mark (✅, ✔, ☑, [x]). "Not done", "Done?" style doubts are not detected
// beyond the first word: "Not done" is not done.
func IsDone(status string) bool {
	s := strings.ToLower(strings.TrimSpace(status))
	if s == "[x]" {
		return true
	}
	words := strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
	if len(words) == 0 {
		return strings.ContainsAny(s, "✅✔☑")
	}
	return doneWords[words[0]]
}

// SpecOf returns the last SPEC id in a raw cell (links and paths included:
// "docs/SPEC-OPS-004-x/evidence/commands/SPEC-KIT-060-y/" names
// SPEC-KIT-060-y), or "".
func SpecOf(cell string) string {
	m := specToken().FindAllString(cell, -1)
	if len(m) == 0 {
		return ""
	}
	return m[len(m)-1]
}
