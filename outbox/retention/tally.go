package retention

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spec-kit/outbox/internal/lazyre"
	"github.com/spec-kit/outbox/ledger"
	"github.com/spec-kit/outbox/outbox/spool"
)

// Kind is what an evicted ledger line removed.
type Kind string

// The kinds of evicted lines.
const (
	KindSent           Kind = "sent"            // a sent payload (or a dry-run record)
	KindDead           Kind = "dead"            // a dead letter
	KindPending        Kind = "pending"         // a pending delivery, never delivered
	KindRotation       Kind = "ledger_rotation" // old ledger lines moved into an archive
	KindArchiveDropped Kind = "archive_dropped" // an archive of old ledger lines removed
	KindOther          Kind = ""                // not an eviction this package wrote
)

// Classify says what an evicted line (ledger.ActionEvicted) removed, from
// its reason. Lines of other actions are KindOther.
func Classify(e ledger.Entry) Kind {
	if e.Action != ledger.ActionEvicted {
		return KindOther
	}
	return classify(e.Reason)
}

var reasonPrefixRe = lazyre.New(`^spool over [0-9]+ bytes: `)

func classify(reason string) Kind {
	loc := reasonPrefixRe().FindStringIndex(reason)
	if loc == nil {
		return KindOther
	}
	what := reason[loc[1]:]
	switch {
	case strings.HasPrefix(what, whatSent), strings.HasPrefix(what, whatDryRun):
		return KindSent
	case strings.HasPrefix(what, whatDead):
		return KindDead
	case strings.HasPrefix(what, whatPending):
		return KindPending
	case strings.HasPrefix(what, whatRotated):
		return KindRotation
	case strings.HasPrefix(what, whatArchive) && droppedNameRe().MatchString(reason):
		return KindArchiveDropped
	}
	return KindOther
}

// Totals are the evictions a SPEC's ledger and archives record, including
// those recorded by archives since dropped.
type Totals struct {
	Sent            int   `json:"sent"`             // sent payloads (and dry-run records) evicted
	Dead            int   `json:"dead"`             // dead letters evicted
	Pending         int   `json:"pending"`          // pending deliveries evicted
	Bytes           int64 `json:"bytes"`            // freed by evicting those
	Rotations       int   `json:"ledger_rotations"` // rotations of ledger.jsonl into archives
	ArchivesDropped int   `json:"archives_dropped"` // archives removed
}

// Deliveries is the number of deliveries evicted.
func (t Totals) Deliveries() int { return t.Sent + t.Dead + t.Pending }

func (t *Totals) add(o Totals) {
	t.Sent += o.Sent
	t.Dead += o.Dead
	t.Pending += o.Pending
	t.Bytes += o.Bytes
	t.Rotations += o.Rotations
	t.ArchivesDropped += o.ArchivesDropped
}

// carried is how a dropped archive's line carries the totals it recorded.
func carried(t Totals) string {
	return fmt.Sprintf("; it recorded %d sent, %d dead and %d pending deliveries evicted (%d bytes), %d ledger rotations and %d archives dropped",
		t.Sent, t.Dead, t.Pending, t.Bytes, t.Rotations, t.ArchivesDropped)
}

var carriedRe = lazyre.New(`; it recorded ([0-9]+) sent, ([0-9]+) dead and ([0-9]+) pending deliveries evicted \(([0-9]+) bytes\), ([0-9]+) ledger rotations and ([0-9]+) archives dropped`)
var droppedNameRe = lazyre.New(`: ledger archive (\S+) dropped: `)

func parseCarried(reason string) Totals {
	m := carriedRe().FindStringSubmatch(reason)
	if m == nil {
		return Totals{}
	}
	n := func(s string) int64 { v, _ := strconv.ParseInt(s, 10, 64); return v }
	return Totals{Sent: int(n(m[1])), Dead: int(n(m[2])), Pending: int(n(m[3])), Bytes: n(m[4]),
		Rotations: int(n(m[5])), ArchivesDropped: int(n(m[6]))}
}

// wireLine holds the fields of a ledger line that tallies need.
type wireLine struct {
	TS       string `json:"ts"`
	Action   string `json:"action"`
	Delivery string `json:"delivery"`
	Reason   string `json:"reason"`
	Bytes    int64  `json:"bytes"`
}

// eachLine calls fn for each line of a ledger stream; lines that do not
// parse (a torn last line) are skipped.
func eachLine(r io.Reader, fn func(wireLine)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		var l wireLine
		if json.Unmarshal(raw, &l) != nil || l.Action == "" {
			continue
		}
		fn(l)
	}
	return sc.Err()
}

// tallier adds up evicted lines, counting a delivery evicted twice (a crash
// between its line and its removal) and an archive dropped twice once.
type tallier struct {
	ids   map[string]bool
	drops map[string]bool
	sum   Totals
}

func (t *tallier) add(l wireLine) {
	if l.Action != ledger.ActionEvicted {
		return
	}
	k := classify(l.Reason)
	switch k {
	case KindSent, KindDead, KindPending:
		if l.Delivery != "" {
			if t.ids == nil {
				t.ids = map[string]bool{}
			}
			if t.ids[l.Delivery] {
				return
			}
			t.ids[l.Delivery] = true
		}
		switch k {
		case KindSent:
			t.sum.Sent++
		case KindDead:
			t.sum.Dead++
		case KindPending:
			t.sum.Pending++
		}
		t.sum.Bytes += l.Bytes
	case KindRotation:
		t.sum.Rotations++
	case KindArchiveDropped:
		if m := droppedNameRe().FindStringSubmatch(l.Reason); m != nil {
			if t.drops == nil {
				t.drops = map[string]bool{}
			}
			if t.drops[m[1]] {
				return
			}
			t.drops[m[1]] = true
		}
		t.sum.ArchivesDropped++
		t.sum.add(parseCarried(l.Reason))
	}
}

func (t *tallier) totals() Totals { return t.sum }

// Tally adds up the evictions recorded for dir: in its archives, oldest
// first, then in ledger.jsonl, with the counts that lines of dropped
// archives carry. It is what `outbox status` shows. A missing directory
// has none.
func Tally(dir *spool.Dir) (Totals, error) {
	var t tallier
	as, err := listArchives(dir.Root)
	if err != nil {
		return Totals{}, fmt.Errorf("retention: %w", err)
	}
	for _, a := range as {
		if _, err := readArchive(filepath.Join(dir.Root, a.name), t.add); err != nil {
			return t.totals(), fmt.Errorf("retention: %s: %w", a.name, err)
		}
	}
	f, err := os.Open(dir.LedgerPath())
	if errors.Is(err, fs.ErrNotExist) {
		return t.totals(), nil
	}
	if err != nil {
		return t.totals(), fmt.Errorf("retention: %w", err)
	}
	defer f.Close()
	if err := eachLine(f, t.add); err != nil {
		return t.totals(), fmt.Errorf("retention: %s: %w", dir.LedgerPath(), err)
	}
	return t.totals(), nil
}
