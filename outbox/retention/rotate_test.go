package retention

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

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
func newRun(t *testing.T, f *fixture, o Options) *run {
	t.Helper()
	o, err := o.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	sz, err := measure(f.dir.Root)
	if err != nil {
		t.Fatal(err)
	}
	return &run{dir: f.dir, o: o, rep: &Report{}, total: sz.total, ledger: sz.ledger}
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
	data, _ := os.ReadFile(f.dir.LedgerPath())
	pl, err := r.plan(data, 3000)
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
	}
}
