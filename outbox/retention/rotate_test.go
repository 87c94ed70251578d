package retention

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spec-kit/outbox/internal/uuidv7"
	"github.com/spec-kit/outbox/ledger"
	"github.com/spec-kit/outbox/outbox/spool"
)

// TestMain lets the test binary act as a ledger appender process for the
// rotation tests.
func TestMain(m *testing.M) {
	if path := os.Getenv("RETENTION_TEST_APPEND"); path != "" {
		os.Exit(appendProcess(path))
	}
	os.Exit(m.Run())
}

// appendProcess appends RETENTION_TEST_LINES lines, in batches of 1 to 5,
// each naming its process and sequence number.
func appendProcess(path string) int {
	proc := os.Getenv("RETENTION_TEST_PROC")
	n, _ := strconv.Atoi(os.Getenv("RETENTION_TEST_LINES"))
	for i := 0; i < n; {
		var es []ledger.Entry
		for j := 0; j < 1+i%5 && i < n; j++ {
			es = append(es, ledger.Entry{Action: ledger.ActionAttempt, Subscription: "ops",
				Error: fmt.Sprintf("marker %s-%05d %s", proc, i, strings.Repeat("x", i%90))})
			i++
		}
		if err := ledger.Append(path, es...); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

// newRun is a run on f's directory, as Run sets it up.
func newRun(t testing.TB, f *fixture, o Options) *run {
	t.Helper()
	o, err := o.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	sz, err := measure(f.dir.Root)
	if err != nil {
		t.Fatal(err)
	}
	return &run{dir: f.dir, o: o, rep: &Report{}, total: sz.Total, ledger: sz.Ledger}
}

func TestRotationWithConcurrentAppenders(t *testing.T) {
	f := newFixture(t)
	f.ledgerLines(50)
	const procs, lines = 4, 1500
	var wg sync.WaitGroup
	errs := make(chan error, procs)
	for p := 0; p < procs; p++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "RETENTION_TEST_APPEND="+f.dir.LedgerPath(),
			fmt.Sprintf("RETENTION_TEST_PROC=p%d", p), fmt.Sprintf("RETENTION_TEST_LINES=%d", lines))
		out := &strings.Builder{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := cmd.Wait(); err != nil {
				errs <- fmt.Errorf("appender: %v: %s", err, out)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	r := newRun(t, f, Options{MaxBytes: 1 << 30})
	rotations := 0
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		r.ledgerGrew()
		if err := r.rotate(2000); err != nil {
			t.Fatal(err)
		}
		rotations = len(r.rep.Rotations)
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if rotations < 5 {
		t.Fatalf("only %d rotations ran while the appenders wrote", rotations)
	}
	seen := map[string]int{}
	summaries := 0
	for _, l := range history(t, f.dir) {
		if i := strings.Index(l, "marker "); i >= 0 {
			seen[strings.Fields(l[i:])[1]]++
		}
		if strings.Contains(l, `"action":"evicted"`) && strings.Contains(l, "ledger rotated: ") {
			summaries++
		}
	}
	for p := 0; p < procs; p++ {
		for i := 0; i < lines; i++ {
			if k := fmt.Sprintf("p%d-%05d", p, i); seen[k] != 1 {
				t.Fatalf("line %s is in the history %d times, want once", k, seen[k])
			}
		}
	}
	if summaries != rotations {
		t.Fatalf("%d rotation lines for %d rotations", summaries, rotations)
	}
	if ents, _ := os.ReadDir(f.dir.TmpPath()); len(ents) != 0 {
		t.Fatalf("tmp/ not clean: %v", ents)
	}
}

func TestLedgerIsRotatedBeforeDeadLetters(t *testing.T) {
	f := newFixture(t)
	dead := f.addN(spool.Dead, t0, 5, 1000)
	f.ledgerLines(200)
	orig := history(t, f.dir)
	size := f.size()
	rep := f.run(Options{MaxBytes: size - 5000})
	if len(rep.Rotations) != 1 || rep.Evicted() != 0 || rep.ArchivesDropped.Files != 0 {
		t.Fatalf("report = %+v, want one rotation and nothing else", rep)
	}
	if got := f.ids(spool.Dead); len(got) != len(dead) {
		t.Fatalf("dead/ lost letters to a rotation that sufficed: %v", got)
	}
	rot := rep.Rotations[0]
	if !archiveRe().MatchString(rot.Archive) || !strings.HasPrefix(rot.Archive, "ledger-000001-20261204T150000Z") {
		t.Fatalf("archive name %q", rot.Archive)
	}
	st, _ := os.Stat(filepath.Join(f.dir.Root, rot.Archive))
	if st == nil || st.Size() != rot.ArchiveBytes || rot.ArchiveBytes*4 > rot.LedgerBytes {
		t.Fatalf("rotation %+v, archive %v: want a compressed archive", rot, st)
	}
	// The archive then the live ledger: the same lines, in order, and the
	// rotation's own line at the end.
	got := history(t, f.dir)
	if len(got) != len(orig)+1 || strings.Join(got[:len(orig)], "\n") != strings.Join(orig, "\n") {
		t.Fatalf("history changed: %d lines, want %d + 1", len(got), len(orig))
	}
	live, _ := ledger.ReadAll(f.dir.LedgerPath())
	last := live[len(live)-1]
	if Classify(last) != KindRotation || last.Bytes != rot.LedgerBytes-rot.ArchiveBytes ||
		!strings.Contains(last.Reason, fmt.Sprintf("into %s (", rot.Archive)) {
		t.Fatalf("rotation line %+v", last)
	}
	if ls, _ := os.Stat(f.dir.LedgerPath()); ls.Size() > size/10+400 {
		t.Fatalf("live ledger is %d bytes after the rotation", ls.Size())
	}
	if rep.After != f.size() || rep.After > (size-5000)/10*9 {
		t.Fatalf("after = %d, measured %d", rep.After, f.size())
	}
}

func TestArchivesBeyondBudgetGoBeforeDeadLettersAndKeepTheirCounts(t *testing.T) {
	f := newFixture(t)
	f.addN(spool.Sent, t0, 20, 1000)
	// All sent payloads go, and the ledger recording it is rotated.
	rep := f.run(Options{MaxBytes: 3000, LedgerKeepBytes: 100, ArchiveBytes: 1 << 20})
	if rep.Sent.Files != 20 || len(rep.Rotations) != 1 || rep.ArchivesDropped.Files != 0 {
		t.Fatalf("first run: %+v", rep)
	}
	before, err := Tally(f.dir)
	if err != nil || before.Sent != 20 || before.Rotations != 1 || before.Bytes != 20000 {
		t.Fatalf("tally = %+v, %v", before, err)
	}
	// Dead letters arrive; archives beyond a tiny budget go before them.
	dead := f.addN(spool.Dead, t0.Add(time.Hour), 4, 1000)
	f.ledgerLines(30)
	rep = f.run(Options{MaxBytes: f.size() - 7000, LedgerKeepBytes: 100, ArchiveBytes: 1})
	if rep.ArchivesDropped.Files != 2 || rep.Dead.Files == 0 || rep.Dead.Files == len(dead) {
		t.Fatalf("second run: %+v, want both archives dropped, then some dead letters", rep)
	}
	if as, _ := listArchives(f.dir.Root); len(as) != 0 {
		t.Fatalf("dead letters evicted while archives were left: %v", as)
	}
	var kinds []Kind
	for _, e := range f.evicted() { // the second run's: the first's were rotated
		if k := Classify(e); len(kinds) == 0 || kinds[len(kinds)-1] != k {
			kinds = append(kinds, k)
		}
	}
	if want := []Kind{KindRotation, KindArchiveDropped, KindDead}; !slices.Equal(kinds, want) {
		t.Fatalf("second run recorded %v, want %v in that order", kinds, want)
	}
	after, err := Tally(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	if after.Sent != 20 || after.Bytes != 20000+int64(1000*rep.Dead.Files) || after.Dead != rep.Dead.Files ||
		after.ArchivesDropped != rep.ArchivesDropped.Files || after.Rotations != 1+len(rep.Rotations) {
		t.Fatalf("tally after dropping archives = %+v (report %+v): counts lost", after, rep)
	}
	if got := f.ids(spool.Dead); len(got) != len(dead)-rep.Dead.Files {
		t.Fatalf("dead/ = %v", got)
	}
	// The drop line says what went.
	var drop ledger.Entry
	for _, e := range f.evicted() {
		if Classify(e) == KindArchiveDropped {
			drop = e
		}
	}
	if !strings.Contains(drop.Reason, ": ledger archive ledger-00000") || drop.Bytes == 0 {
		t.Fatalf("drop line %+v", drop)
	}
}

func TestInterruptedRotationIsCompletedWithoutDuplicates(t *testing.T) {
	f := newFixture(t)
	f.ledgerLines(100)
	// A rotation that wrote its archive and crashed before it rewrote
	// ledger.jsonl.
	r := newRun(t, f, Options{MaxBytes: 1 << 30})
	lf, err := os.Open(f.dir.LedgerPath())
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	size, err := fileSize(lf)
	if err != nil {
		t.Fatal(err)
	}
	pl, err := r.plan(lf, size, 3000)
	if err != nil || pl == nil || pl.archTmp == "" {
		t.Fatalf("plan = %+v, %v", pl, err)
	}
	if err := os.Rename(pl.archTmp, filepath.Join(f.dir.Root, pl.Archive)); err != nil {
		t.Fatal(err)
	}
	f.ledgerLines(10)
	live, _ := os.ReadFile(f.dir.LedgerPath())
	orig := strings.Split(strings.TrimSuffix(string(live), "\n"), "\n")
	// The next rotation completes it.
	r = newRun(t, f, Options{MaxBytes: 1 << 30})
	if err := r.rotate(3000); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, l := range history(t, f.dir) {
		counts[l]++
	}
	for _, l := range orig {
		if counts[l] != 1 {
			t.Fatalf("line in the history %d times after the completed rotation: %s", counts[l], l)
		}
	}
}

func TestLastResortRotatesAndDropsTheWholeHistory(t *testing.T) {
	f := newFixture(t)
	f.addN(spool.Pending, t0, 3, 1000)
	f.ledgerLines(100)
	rep := f.run(Options{MaxBytes: 800})
	if rep.Pending.Files != 3 || rep.ArchivesDropped.Files == 0 || rep.OverCap || rep.After > 720 {
		t.Fatalf("report = %+v", rep)
	}
	if as, _ := listArchives(f.dir.Root); len(as) != 0 {
		t.Fatalf("archives left: %v", as)
	}
	tal, err := Tally(f.dir)
	if err != nil || tal.Pending != 3 || tal.ArchivesDropped != rep.ArchivesDropped.Files {
		t.Fatalf("tally = %+v, %v", tal, err)
	}
	// Runs over a directory that cannot get under the cap (its .gitignore
	// and the lines recording the last resort weigh more) report it, and
	// stay bounded: they rewrite the same few lines.
	var sizes []int64
	for i := 0; i < 4; i++ {
		rep = f.run(Options{MaxBytes: 200})
		if !rep.OverCap || rep.After != f.size() {
			t.Fatalf("run %d: %+v, want over the cap", i, rep)
		}
		sizes = append(sizes, rep.After)
	}
	if sizes[3] > sizes[1]+50 {
		t.Fatalf("repeated last-resort runs grew the directory: %v", sizes)
	}
}

// cutPoint is cutAt on a ledger held in memory, as rotations cut before
// they streamed the ledger: the oracle for cutAt.
func cutPoint(data []byte, keep int64, done int) int {
	end := bytes.LastIndexByte(data, '\n') + 1
	target := int64(len(data)) - keep
	switch {
	case target <= int64(done):
		return done
	case target >= int64(end):
		return max(end, done)
	}
	t := int(target)
	if data[t-1] == '\n' {
		return t
	}
	return t + bytes.IndexByte(data[t:], '\n') + 1
}

// viewOf is a view of data through a buffer of bufSize bytes.
func viewOf(data []byte, bufSize int) *view {
	return &view{ra: bytes.NewReader(data), size: int64(len(data)), name: "data", buf: make([]byte, bufSize)}
}

func TestCutPoint(t *testing.T) {
	data := []byte("aaaa\nbbbb\ncccc\ndd") // torn last line
	for _, tt := range []struct {
		keep int64
		done int
		want int
	}{
		{keep: 100, want: 0},           // all of it may stay
		{keep: 0, want: 15},            // every whole line leaves; the torn tail stays
		{keep: 2, want: 15},            //
		{keep: 3, want: 15},            // the line the cut would split leaves
		{keep: 7, want: 10},            // exactly "cccc\ndd" stays
		{keep: 8, want: 10},            //
		{keep: 12, want: 5},            //
		{keep: 13, want: 5},            //
		{keep: 12, done: 10, want: 10}, // never before what is archived
		{keep: 100, done: 5, want: 5},
	} {
		if got := cutPoint(data, tt.keep, tt.done); got != tt.want {
			t.Errorf("cutPoint(keep %d, done %d) = %d, want %d", tt.keep, tt.done, got, tt.want)
		}
		for _, bufSize := range []int{1, 2, 3, 4, 5, 16, 1 << 10} {
			got, err := cutAt(viewOf(data, bufSize), tt.keep, int64(tt.done))
			if err != nil || got != int64(tt.want) {
				t.Errorf("cutAt(keep %d, done %d, buffer %d) = %d, %v, want %d",
					tt.keep, tt.done, bufSize, got, err, tt.want)
			}
		}
	}
}

// bigLedger writes, at path, realistic ledger lines (the enqueued, attempt
// and delivered lines of deliveries, a response prefix in each attempt)
// until it holds at least size bytes, and returns its content.
func bigLedger(t testing.TB, path string, size int) []byte {
	t.Helper()
	data := make([]byte, 0, size+1024)
	var err error
	for i := 0; len(data) < size; i++ {
		at := t0.Add(time.Duration(i) * time.Second)
		id := uuidv7.New(at)
		base := ledger.Entry{Time: at, Spec: "SPEC-KIT-065", Delivery: id, EventID: uuidv7.New(at),
			Event: "spec.stage.completed", Subscription: "chatops", Host: "hooks.example.com"}
		enq, att, del := base, base, base
		enq.Action, enq.Key = ledger.ActionEnqueued, fmt.Sprintf("SPEC-KIT-065:validate:%d", i)
		att.Action, att.Attempt, att.Status, att.DurationMS = ledger.ActionAttempt, 1, 200, int64(40+i%300)
		att.Response = `{"ok":true,"id":"` + strconv.Itoa(i) + `","note":"` + strings.Repeat("accepted ", 5+i%20) + `"}`
		del.Action, del.Attempt, del.Status = ledger.ActionDelivered, 1, 200
		for _, e := range []ledger.Entry{enq, att, del} {
			if data, err = ledger.AppendLine(data, e, at); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return data
}

// raceEnabled reports whether the test binary was built with -race.
func raceEnabled() bool {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" {
				return s.Value == "true"
			}
		}
	}
	return false
}

// TestRotateStreamsABigLedger rotates a ledger of tens of megabytes and
// checks that the rotation allocates a small fraction of its size (it
// streams the ledger instead of reading it whole), and that the archive
// and the live ledger are byte for byte what they must be.
func TestRotateStreamsABigLedger(t *testing.T) {
	// What a rotation may allocate whatever the ledger's size: the
	// compressor's state (about 800 KiB) and a few buffers.
	const fixed = 2 << 20
	size := 40 << 20
	if testing.Short() || raceEnabled() { // compression is ten times slower under -race
		size = 4 << 20
	}
	f := newFixture(t)
	data := bigLedger(t, f.dir.LedgerPath(), size)
	now := t0.Add(48 * time.Hour)
	r := newRun(t, f, Options{MaxBytes: 1 << 40, Now: now})
	const keep = 1 << 20

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := r.rotate(keep)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("rotating a %d-byte ledger allocated %d bytes", len(data), alloc)
	if alloc > max(uint64(len(data)/8), fixed) {
		t.Errorf("rotating a %d-byte ledger allocated %d bytes: memory grows with the ledger", len(data), alloc)
	}

	if len(r.rep.Rotations) != 1 {
		t.Fatalf("rotations = %+v, want one", r.rep.Rotations)
	}
	rot := r.rep.Rotations[0]
	cut := int(rot.LedgerBytes)
	if want := cutPoint(data, keep, 0); cut != want {
		t.Fatalf("cut at %d, want %d", cut, want)
	}
	if want := bytes.Count(data[:cut], []byte{'\n'}); rot.Lines != want {
		t.Errorf("rotation of %d lines, want %d", rot.Lines, want)
	}
	p := filepath.Join(f.dir.Root, rot.Archive)
	if !strings.HasPrefix(rot.Archive, "ledger-000001-20261204T150000Z") {
		t.Errorf("archive %q", rot.Archive)
	}
	if st, err := os.Stat(p); err != nil || st.Size() != rot.ArchiveBytes {
		t.Errorf("archive %v, %v: want %d bytes", st, err, rot.ArchiveBytes)
	}
	if got := gunzip(t, p); !bytes.Equal(got, data[:cut]) {
		t.Fatalf("archive holds %d bytes, not the ledger's first %d", len(got), cut)
	}
	// Byte for byte the archive that compressing the prefix in memory, in
	// one write, makes.
	lines := bytes.Count(data[:cut], []byte{'\n'})
	var want bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&want, gzip.DefaultCompression)
	zw.Name, zw.Comment, zw.ModTime = ledgerName, archiveComment(lines, cut, sha256.Sum256(data[:cut])), now
	zw.Write(data[:cut])
	zw.Close()
	if got, err := os.ReadFile(p); err != nil || !bytes.Equal(got, want.Bytes()) {
		t.Errorf("archive (%d bytes, %v) differs from the prefix compressed in memory (%d bytes)",
			len(got), err, want.Len())
	}
	af, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer af.Close()
	zr, err := gzip.NewReader(af)
	if err != nil {
		t.Fatal(err)
	}
	if zr.Comment != zw.Comment || zr.Name != ledgerName || !zr.ModTime.Equal(now) {
		t.Errorf("archive header: name %q, mtime %v, comment %q", zr.Name, zr.ModTime, zr.Comment)
	}

	live, err := os.ReadFile(f.dir.LedgerPath())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(live, data[cut:]) {
		t.Fatalf("live ledger does not start with the kept tail")
	}
	rest := live[len(data)-cut:]
	if bytes.Count(rest, []byte{'\n'}) != 1 || !bytes.HasSuffix(rest, []byte{'\n'}) {
		t.Fatalf("live ledger ends with %q, want the rotation's line", rest)
	}
	es, err := ledger.ReadAll(f.dir.LedgerPath())
	if err != nil {
		t.Fatal(err)
	}
	last := es[len(es)-1]
	if Classify(last) != KindRotation || last.Bytes != rot.LedgerBytes-rot.ArchiveBytes ||
		!strings.Contains(last.Reason, fmt.Sprintf("%d lines (", lines)) {
		t.Errorf("rotation line %+v", last)
	}
	if ents, _ := os.ReadDir(f.dir.TmpPath()); len(ents) != 0 {
		t.Errorf("tmp/ not clean: %v", ents)
	}
}

// randomLedger is n lines of random lengths (some empty, some longer than
// the small buffers the tests read them through), maybe with a torn line
// at the end.
func randomLedger(rng *rand.Rand, n int, torn bool) []byte {
	var data []byte
	line := func() []byte {
		l := make([]byte, rng.IntN(3)*rng.IntN(40))
		for i := range l {
			l[i] = 'a' + byte(rng.IntN(26))
		}
		return l
	}
	for i := 0; i < n; i++ {
		data = append(append(data, line()...), '\n')
	}
	if torn {
		data = append(data, line()...)
	}
	return data
}

// TestCutAtMatchesCutPoint compares the streamed cut with the in-memory
// one over random ledgers, keeps, dones and buffer sizes.
func TestCutAtMatchesCutPoint(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 5000; i++ {
		data := randomLedger(rng, rng.IntN(12), rng.IntN(2) == 0)
		keep := rng.Int64N(int64(len(data)) + 3)
		done := rng.IntN(len(data) + 1)
		if rng.IntN(3) == 0 { // as covered returns it: 0, or after a newline
			done = bytes.LastIndexByte(data[:done], '\n') + 1
		}
		want := cutPoint(data, keep, done)
		for _, bufSize := range []int{1, 2, 3, 7, 64, 1 << 10} {
			got, err := cutAt(viewOf(data, bufSize), keep, int64(done))
			if err != nil || got != int64(want) {
				t.Fatalf("ledger %q, keep %d, done %d, buffer %d: cutAt = %d, %v; cutPoint = %d",
					data, keep, done, bufSize, got, err, want)
			}
		}
	}
}

// lineTSOf is the "ts" of the first (or last) line of chunk, as rotations
// read it before they streamed the ledger: the oracle for firstTS and
// lastTS.
func lineTSOf(chunk []byte, first bool) string {
	chunk = bytes.TrimRight(chunk, "\n")
	var l []byte
	if first {
		l, _, _ = bytes.Cut(chunk, []byte{'\n'})
	} else {
		l = chunk[bytes.LastIndexByte(chunk, '\n')+1:]
	}
	var w wireLine
	if json.Unmarshal(l, &w) != nil {
		return ""
	}
	return w.TS
}

// TestFirstAndLastTS compares the streamed timestamps of a chunk with the
// in-memory ones, over chunks of random lines (some not JSON, some empty,
// some long) and buffer sizes.
func TestFirstAndLastTS(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	line := func(i int) string {
		switch rng.IntN(5) {
		case 0:
			return ""
		case 1:
			return "not json " + strconv.Itoa(i)
		case 2:
			return fmt.Sprintf(`{"ts":"2026-12-04T15:00:%02d.000Z","action":"attempt","response":"%s"}`,
				i%60, strings.Repeat("r", rng.IntN(300)))
		default:
			return fmt.Sprintf(`{"ts":"2026-12-04T16:00:%02d.000Z","action":"evicted"}`, i%60)
		}
	}
	for i := 0; i < 2000; i++ {
		var data []byte
		for j := rng.IntN(6); j >= 0; j-- {
			data = append(append(data, line(i+j)...), '\n')
		}
		from := 0
		if i%2 == 0 { // a prefix already archived
			pre := line(i) + "\n"
			data, from = append([]byte(pre), data...), len(pre)
		}
		chunk := data[from:]
		for _, bufSize := range []int{1, 5, 64, 1 << 12} {
			v := viewOf(data, bufSize)
			first, err1 := firstTS(v, int64(from), int64(len(data)))
			last, err2 := lastTS(v, int64(from), int64(len(data)))
			if err1 != nil || err2 != nil || first != lineTSOf(chunk, true) || last != lineTSOf(chunk, false) {
				t.Fatalf("chunk %q, buffer %d: ts %q .. %q (%v, %v), want %q .. %q", chunk, bufSize,
					first, last, err1, err2, lineTSOf(chunk, true), lineTSOf(chunk, false))
			}
		}
	}
}

func TestLineTSOfALineLongerThanTheBuffer(t *testing.T) {
	l := `{"ts":"2026-12-04T15:00:00.000Z","action":"attempt","response":"` + strings.Repeat("r", 3*viewBufSize) + `"}`
	v := newView(strings.NewReader(l), int64(len(l)), "long")
	if ts, err := lineTS(v, 0, int64(len(l))); err != nil || ts != "2026-12-04T15:00:00.000Z" {
		t.Fatalf("ts = %q, %v", ts, err)
	}
	l = `{"ts":"2026-12-04T15:00:00.000Z","response":"` + strings.Repeat("r", maxLineRead) + `"}`
	v = newView(strings.NewReader(l), int64(len(l)), "too long")
	if ts, err := lineTS(v, 0, int64(len(l))); err != nil || ts != "" {
		t.Fatalf("ts of a line longer than %d bytes = %q, %v; want none", maxLineRead, ts, err)
	}
}

func TestViewShortRead(t *testing.T) {
	v := newView(strings.NewReader("abc\n"), 10, "shrunk") // the file is shorter than the view
	if _, err := v.index(0, 10, 'x'); !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), "shrunk") {
		t.Fatalf("index past the end of the file: %v", err)
	}
}
