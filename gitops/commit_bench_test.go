package gitops

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// buildBenchRepo makes a repository of n tracked files with git fast-import
// (100 files a directory, hookDir/ledger.jsonl among them), checked out so
// the index holds real stat data: the shape internal/cmd/commitbench times.
func buildBenchRepo(tb testing.TB, n int) string {
	tb.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		tb.Skip("git not installed")
	}
	root := tb.TempDir()
	if out, err := runGit(root, "init", "-q", "-b", "main"); err != nil {
		tb.Fatalf("git init: %v\n%s", err, out)
	}
	cmd := exec.Command("git", "fast-import", "--quiet")
	cmd.Dir = root
	cmd.Env = gitEnv()
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(in, 1<<20)
	fmt.Fprintf(w, "commit refs/heads/main\ncommitter bench <bench@localhost> 1700000000 +0000\ndata 4\ninit\n")
	for i := 0; i < n-1; i++ {
		body := fmt.Sprintf("file %d\n", i)
		fmt.Fprintf(w, "M 100644 inline src/d%04d/f%06d.txt\ndata %d\n%s\n", i/100, i, len(body), body)
	}
	fmt.Fprintf(w, "M 100644 inline %s/ledger.jsonl\ndata 3\n{}\n\n", hookDir)
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	in.Close()
	if err := cmd.Wait(); err != nil {
		tb.Fatalf("fast-import: %v", err)
	}
	if out, err := runGit(root, "reset", "-q", "--hard"); err != nil {
		tb.Fatalf("git reset: %v\n%s", err, out)
	}
	return root
}

// benchChange is the outbox-like change of round i: three new spool files
// and a ledger append.
func benchChange(tb testing.TB, root string, round int) {
	dir := filepath.Join(root, filepath.FromSlash(hookDir))
	if err := os.MkdirAll(filepath.Join(dir, "spool"), 0o755); err != nil {
		tb.Fatal(err)
	}
	for k := 0; k < 3; k++ {
		p := filepath.Join(dir, "spool", fmt.Sprintf("%06d-%d.json", round, k))
		if err := os.WriteFile(p, []byte(fmt.Sprintf(`{"round":%d,"n":%d}`+"\n", round, k)), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	f, err := os.OpenFile(filepath.Join(dir, "ledger.jsonl"), os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		tb.Fatal(err)
	}
	fmt.Fprintf(f, `{"round":%d}`+"\n", round)
	f.Close()
}

// BenchmarkCommit times Commit of three new spool files and a ledger
// append in repositories of 1,000 and 100,000 tracked files (the change
// itself is not timed).
func BenchmarkCommit(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		root := buildBenchRepo(b, n)
		round := 0 // across the runs of the sub-benchmark: each adds new files
		b.Run(fmt.Sprintf("files=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				round++
				benchChange(b, root, round)
				b.StartTimer()
				res, err := Commit(root, CommitOptions{Paths: []string{hookDir}, Exclude: ExcludeScratch, Message: "bench"})
				if err != nil || res.Files != 4 {
					b.Fatalf("commit: %+v %v", res, err)
				}
			}
		})
	}
}

// BenchmarkReadIndex times mapping and walking the index of a repository
// of 100,000 files, and building the spliced index (not writing it).
func BenchmarkReadIndex(b *testing.B) {
	root := buildBenchRepo(b, 100000)
	benchChange(b, root, 1)
	st := openObjectStore(filepath.Join(root, ".git", "objects"))
	defer st.Close()
	p := filepath.Join(root, ".git", "index")
	ix, err := readIndex(p, []string{hookDir})
	if err != nil {
		b.Fatal(err)
	}
	scan, err := scanPath(root, hookDir, ExcludeScratch, ix, &objectWriter{st: st, defer_: true})
	if err != nil {
		b.Fatal(err)
	}
	ix.close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ix, err := readIndex(p, []string{hookDir})
		if err != nil {
			b.Fatal(err)
		}
		if _, changed := ix.splice([]*pathScan{scan}); !changed {
			b.Fatal("no change")
		}
		ix.close()
	}
}
