// Command commitbench measures `--commit`: the time gitops.Commit takes to
// commit a small outbox change (three new spool files and a ledger append
// under one SPEC's webhooks directory) in repositories of 1,000 and 100,000
// tracked files, next to `git add <dir> && git commit` doing the same. It
// prints the medians and the 100k/1k ratio (the target is within 2x). It is
// meant for `make bench`.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/spec-kit/outbox/gitops"
)

const hooks = "docs/specs/SPEC-KIT-065/webhooks"

func main() {
	runs := flag.Int("runs", 15, "commits to time per repository and method")
	sizes := flag.String("sizes", "1000,100000", "tracked files per repository")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the gitops.Commit runs")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "commitbench:", err)
			os.Exit(1)
		}
		defer f.Close()
		profile = f
	}
	if err := run(*runs, strings.Split(*sizes, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "commitbench:", err)
		os.Exit(1)
	}
}

type result struct {
	files         int
	outbox, gitCL time.Duration
}

func run(runs int, sizes []string) error {
	if _, err := exec.LookPath("git"); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "commitbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var results []result
	for _, s := range sizes {
		var n int
		if _, err := fmt.Sscan(s, &n); err != nil || n <= 0 {
			return fmt.Errorf("bad size %q", s)
		}
		repo := filepath.Join(tmp, fmt.Sprintf("repo-%d", n))
		t0 := time.Now()
		if err := build(repo, n); err != nil {
			return err
		}
		fmt.Printf("built repository of %d files in %v\n", n, time.Since(t0).Round(time.Millisecond))
		r := result{files: n}
		if r.outbox, err = timeOutbox(repo, runs); err != nil {
			return err
		}
		if r.gitCL, err = timeGit(repo, runs); err != nil {
			return err
		}
		results = append(results, r)
	}
	fmt.Printf("\ncommit of 3 new spool files + ledger append, median of %d\n", runs)
	fmt.Printf("%12s %14s %22s\n", "tracked", "gitops.Commit", "git add && git commit")
	for _, r := range results {
		fmt.Printf("%12d %14v %22v\n", r.files, r.outbox.Round(10*time.Microsecond), r.gitCL.Round(10*time.Microsecond))
	}
	if len(results) >= 2 {
		a, b := results[0], results[len(results)-1]
		ratio := float64(b.outbox) / float64(a.outbox)
		verdict := "ok"
		if ratio > 2 {
			verdict = "ABOVE TARGET"
		}
		fmt.Printf("outbox %d/%d ratio: %.2fx (target <= 2x: %s); git: %.2fx\n",
			b.files, a.files, ratio, verdict, float64(b.gitCL)/float64(a.gitCL))
	}
	return nil
}

func gitCmd(dir string, args ...string) *exec.Cmd {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=bench", "GIT_AUTHOR_EMAIL=bench@localhost",
		"GIT_COMMITTER_NAME=bench", "GIT_COMMITTER_EMAIL=bench@localhost")
	return cmd
}

func gitRun(dir string, args ...string) error {
	out, err := gitCmd(dir, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// build makes a repository of n tracked files with git fast-import (100
// files a directory, a SPEC's webhooks directory among them) and checks
// them out so the index holds real stat data.
func build(repo string, n int) error {
	if err := os.MkdirAll(repo, 0o755); err != nil {
		return err
	}
	if err := gitRun(repo, "init", "-q", "-b", "main"); err != nil {
		return err
	}
	cmd := gitCmd(repo, "fast-import", "--quiet")
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	w := bufio.NewWriterSize(in, 1<<20)
	fmt.Fprintf(w, "commit refs/heads/main\ncommitter bench <bench@localhost> 1700000000 +0000\ndata 4\ninit\n")
	for i := 0; i < n-1; i++ {
		body := fmt.Sprintf("file %d\n", i)
		fmt.Fprintf(w, "M 100644 inline src/d%04d/f%06d.txt\ndata %d\n%s\n", i/100, i, len(body), body)
	}
	ledger := "{}\n"
	fmt.Fprintf(w, "M 100644 inline %s/ledger.jsonl\ndata %d\n%s\n", hooks, len(ledger), ledger)
	if err := w.Flush(); err != nil {
		return err
	}
	in.Close()
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("fast-import: %v", err)
	}
	return gitRun(repo, "reset", "-q", "--hard")
}

// change makes the outbox-like change of round i.
func change(repo string, round int) error {
	dir := filepath.Join(repo, filepath.FromSlash(hooks))
	for k := 0; k < 3; k++ {
		p := filepath.Join(dir, "spool", fmt.Sprintf("%06d-%d.json", round, k))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(fmt.Sprintf(`{"round":%d,"n":%d}`+"\n", round, k)), 0o644); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(filepath.Join(dir, "ledger.jsonl"), os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(f, `{"round":%d}`+"\n", round)
	return f.Close()
}

var (
	round   int
	profile *os.File
)

func timeOutbox(repo string, runs int) (time.Duration, error) {
	var ds []time.Duration
	if profile != nil {
		pprof.StartCPUProfile(profile)
		defer pprof.StopCPUProfile()
	}
	for i := -1; i < runs; i++ { // one warm-up round
		round++
		if err := change(repo, round); err != nil {
			return 0, err
		}
		t0 := time.Now()
		res, err := gitops.Commit(repo, gitops.CommitOptions{
			Paths: []string{hooks}, Exclude: gitops.ExcludeScratch,
			Message: "outbox(SPEC-KIT-065): 3 emitted",
		})
		d := time.Since(t0)
		if err != nil {
			return 0, err
		}
		if res.NoChange || res.Files != 4 {
			return 0, fmt.Errorf("unexpected result %+v", res)
		}
		if i >= 0 {
			ds = append(ds, d)
		}
	}
	return median(ds), nil
}

func timeGit(repo string, runs int) (time.Duration, error) {
	var ds []time.Duration
	for i := -1; i < runs; i++ {
		round++
		if err := change(repo, round); err != nil {
			return 0, err
		}
		t0 := time.Now()
		if err := gitRun(repo, "add", "--", hooks); err != nil {
			return 0, err
		}
		if err := gitRun(repo, "commit", "-q", "-m", "x"); err != nil {
			return 0, err
		}
		d := time.Since(t0)
		if i >= 0 {
			ds = append(ds, d)
		}
	}
	return median(ds), nil
}

func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}
