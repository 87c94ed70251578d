package gitops

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	deltaOnce     sync.Once
	deltaTemplate string
	deltaErr      error
)

// TestMain removes the template repository deltaRepo builds.
func TestMain(m *testing.M) {
	code := m.Run()
	if deltaTemplate != "" {
		os.RemoveAll(filepath.Dir(deltaTemplate))
	}
	os.Exit(code)
}

// deltaRepo returns a copy of a repository whose history deltifies well:
// a file that grows a line per commit, a large file whose deltas copy more
// than 64 KiB at once, and directories whose trees change a little each
// time, packed with `git gc --aggressive`, with a loose commit on top. It
// is built once per test binary.
func deltaRepo(t *testing.T) string {
	t.Helper()
	root := newRepo(t)
	deltaOnce.Do(func() {
		var dir string
		if dir, deltaErr = os.MkdirTemp("", "gitops-delta-"); deltaErr != nil {
			return
		}
		deltaTemplate = filepath.Join(dir, "repo")
		deltaErr = buildDeltaRepo(deltaTemplate)
	})
	if deltaErr != nil {
		t.Fatal(deltaErr)
	}
	os.RemoveAll(root)
	if out, err := exec.Command("cp", "-a", deltaTemplate, root).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	return root
}

func buildDeltaRepo(root string) error {
	git := func(args ...string) error {
		if out, err := runGit(root, args...); err != nil {
			return fmt.Errorf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	put := func(rel, content string) error {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, []byte(content), 0o644)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	if err := git("init", "-q", "-b", "main"); err != nil {
		return err
	}
	var log strings.Builder
	for i := 0; i < 30; i++ {
		fmt.Fprintf(&log, "line %d: %s\n", i, strings.Repeat("x", i%7))
		for _, f := range [][2]string{
			{"big.txt", log.String()},
			{fmt.Sprintf("dir/sub%d/f.txt", i%5), strconv.Itoa(i)},
			{fmt.Sprintf("flat/f%03d.txt", i), "same\n"},
			{"bin.dat", strings.Repeat(string(rune('a'+i%26)), 70000+i)},
		} {
			if err := put(f[0], f[1]); err != nil {
				return err
			}
		}
		if err := git("add", "-A"); err != nil {
			return err
		}
		if err := git("commit", "-q", "-m", "c"+strconv.Itoa(i)); err != nil {
			return err
		}
	}
	if err := git("gc", "-q", "--aggressive"); err != nil {
		return err
	}
	if err := put("loose.txt", "loose\n"); err != nil {
		return err
	}
	if err := git("add", "-A"); err != nil {
		return err
	}
	return git("commit", "-q", "-m", "loose")
}

// catAll returns every object of the repository as `git cat-file --batch`
// shows it.
func catAll(t *testing.T, root string) map[oid]struct {
	typ  string
	data []byte
} {
	t.Helper()
	cmd := exec.Command("git", "cat-file", "--batch-all-objects", "--batch")
	cmd.Dir = root
	cmd.Env = gitEnv()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git cat-file: %v", err)
	}
	objs := map[oid]struct {
		typ  string
		data []byte
	}{}
	r := bufio.NewReader(bytes.NewReader(out))
	for {
		line, err := r.ReadString('\n')
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		f := strings.Fields(line)
		h, ok := parseOID(f[0])
		n, err := strconv.Atoi(f[2])
		if !ok || err != nil {
			t.Fatalf("cat-file line %q", line)
		}
		data := make([]byte, n+1)
		if _, err := io.ReadFull(r, data); err != nil {
			t.Fatal(err)
		}
		objs[h] = struct {
			typ  string
			data []byte
		}{f[1], data[:n]}
	}
	return objs
}

// checkStore reads every object through objectStore and compares it with
// git's view, and returns how many pack entries of each type the packs
// hold.
func checkStore(t *testing.T, root string) map[objType]int {
	t.Helper()
	want := catAll(t, root)
	if len(want) < 100 {
		t.Fatalf("only %d objects", len(want))
	}
	st := openObjectStore(filepath.Join(root, ".git", "objects"))
	defer st.Close()
	for h, w := range want {
		typ, data, err := st.read(h)
		if err != nil {
			t.Fatalf("read %s: %v", h, err)
		}
		if typ.String() != w.typ || !bytes.Equal(data, w.data) {
			t.Fatalf("object %s: got %s of %d bytes, git has %s of %d bytes", h, typ, len(data), w.typ, len(w.data))
		}
		if !st.has(h) {
			t.Fatalf("has(%s) = false", h)
		}
	}
	var missing oid
	missing[0] = 0xab
	if st.has(missing) {
		t.Fatal("has(missing) = true")
	}
	if _, _, err := st.read(missing); err == nil {
		t.Fatal("read(missing) succeeded")
	}
	kinds := map[objType]int{}
	for _, d := range st.dirs {
		for _, p := range d.packs {
			if err := p.open(); err != nil {
				continue // counted where the pack is
			}
			for i := 0; i < p.n; i++ {
				var h oid
				copy(h[:], p.name(i))
				off, ok := p.find(h)
				if !ok || off != p.offset(i) {
					t.Fatalf("find(%s) = %d, %v", h, off, ok)
				}
				e, err := p.readHeader(off)
				if err != nil {
					t.Fatal(err)
				}
				kinds[e.typ]++
			}
		}
	}
	return kinds
}

func packFiles(t *testing.T, root string) []string {
	t.Helper()
	packs, _ := filepath.Glob(filepath.Join(root, ".git", "objects", "pack", "pack-*.pack"))
	if len(packs) == 0 {
		t.Fatal("no pack")
	}
	return packs
}

func TestPackReadOfsDeltas(t *testing.T) {
	root := deltaRepo(t)
	kinds := checkStore(t, root)
	if kinds[objOfsDelta] < 20 {
		t.Fatalf("too few OFS_DELTA entries to test: %v", kinds)
	}
	// Deltified trees among them.
	out := gitT(t, root, "verify-pack", "-v", packFiles(t, root)[0])
	deltaTrees := 0
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) == 7 && f[1] == "tree" {
			deltaTrees++
		}
	}
	if deltaTrees == 0 {
		t.Fatal("no deltified tree in the pack")
	}
}

func TestPackReadRefDeltas(t *testing.T) {
	root := deltaRepo(t)
	gitT(t, root, "-c", "repack.useDeltaBaseOffset=false", "repack", "-q", "-a", "-d", "-f")
	kinds := checkStore(t, root)
	if kinds[objRefDelta] < 20 || kinds[objOfsDelta] != 0 {
		t.Fatalf("want REF_DELTA entries only: %v", kinds)
	}
}

func TestPackIndexVersions(t *testing.T) {
	root := deltaRepo(t)
	pack := packFiles(t, root)[0]
	idx := strings.TrimSuffix(pack, ".pack") + ".idx"
	for _, v := range []string{"1", "2,0x100"} { // 2,0x100: 64-bit offsets past 256 bytes
		os.Chmod(idx, 0o644)
		if err := os.Remove(idx); err != nil {
			t.Fatal(err)
		}
		gitT(t, root, "index-pack", "--index-version="+v, pack)
		checkStore(t, root)
		st := openObjectStore(filepath.Join(root, ".git", "objects"))
		st.loadPacks()
		p := st.dirs[0].packs[0]
		if want := map[string]int{"1": 1, "2,0x100": 2}[v]; p.version != want {
			t.Fatalf("index version %d, want %d", p.version, want)
		}
		if v != "1" && len(p.idx) == idxV2Header+idxFanoutLen+p.n*28+40 {
			t.Fatal("no 64-bit offsets in the index")
		}
		st.Close()
	}
}

func TestObjectStoreAlternates(t *testing.T) {
	base := deltaRepo(t)
	root := newRepo(t)
	objs := filepath.Join(root, ".git", "objects")
	// A relative path, as `git clone --shared` would not write but git reads.
	rel, err := filepath.Rel(objs, filepath.Join(base, ".git", "objects"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(objs, "info", "alternates"), []byte(rel+"\n"), 0o644)
	head := strings.TrimSpace(gitT(t, base, "rev-parse", "HEAD"))
	gitT(t, root, "update-ref", "refs/heads/main", head)
	gitT(t, root, "reset", "-q", "--hard")
	write(t, root, hookDir+"/a", "a\n")
	res, err := Commit(root, opts("on alternates"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(gitT(t, root, "rev-parse", "HEAD~1")); got != head {
		t.Fatalf("parent %s, want %s", got, head)
	}
	// The new objects are written here, none of the old ones is copied.
	n := 0
	filepath.Walk(objs, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && len(filepath.Base(filepath.Dir(p))) == 2 {
			n++
		}
		return nil
	})
	if n != 7 { // blob, 5 trees, commit
		t.Fatalf("%d loose objects written, want 7", n)
	}
	if s := statusFor(t, root, "."); s != "" {
		t.Fatalf("status: %s", s)
	}
	fsck(t, root)
	_ = res
}

func TestObjectStoreWrite(t *testing.T) {
	root := newRepo(t)
	gitT(t, root, "commit", "-q", "--allow-empty", "-m", "init")
	st := openObjectStore(filepath.Join(root, ".git", "objects"))
	defer st.Close()
	for i, data := range [][]byte{nil, []byte("hello\n"), bytes.Repeat([]byte("0123456789"), 100000)} {
		h, err := st.write(objBlob, data)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(gitT(t, root, "cat-file", "-t", h.String())); got != "blob" {
			t.Fatalf("%d: type %s", i, got)
		}
		cmd := exec.Command("git", "cat-file", "blob", h.String())
		cmd.Dir = root
		out, err := cmd.Output()
		if err != nil || !bytes.Equal(out, data) {
			t.Fatalf("%d: content differs (%v)", i, err)
		}
		fi, err := os.Stat(loosePath(filepath.Join(root, ".git", "objects"), h))
		if err != nil || fi.Mode().Perm() != 0o444 {
			t.Fatalf("%d: loose object %v %v", i, fi, err)
		}
		// Writing it again only freshens it.
		old := fi.ModTime().Add(-24 * time.Hour)
		os.Chtimes(loosePath(filepath.Join(root, ".git", "objects"), h), old, old)
		if _, err := st.write(objBlob, data); err != nil {
			t.Fatal(err)
		}
		fi2, _ := os.Stat(loosePath(filepath.Join(root, ".git", "objects"), h))
		if !fi2.ModTime().After(old) {
			t.Fatalf("%d: not freshened", i)
		}
		if typ, got, err := st.read(h); err != nil || typ != objBlob || !bytes.Equal(got, data) {
			t.Fatalf("%d: read back %v %v", i, typ, err)
		}
	}
	if tmps, _ := filepath.Glob(filepath.Join(root, ".git", "objects", "*", "tmp_obj_*")); len(tmps) != 0 {
		t.Fatalf("temporary files left: %v", tmps)
	}
	fsck(t, root)
}

func TestApplyDeltaRejectsCorruption(t *testing.T) {
	base := []byte("0123456789")
	good := []byte{10, 4, 0x91, 2, 3, 1, 'x'} // copy 3 bytes from offset 2, insert "x"
	got, err := applyDelta(base, good)
	if err != nil || string(got) != "234x" {
		t.Fatalf("applyDelta = %q, %v", got, err)
	}
	for _, d := range [][]byte{
		{11, 4, 0x91, 2, 3, 1, 'x'}, // wrong base size
		{10, 5, 0x91, 2, 3, 1, 'x'}, // wrong result size
		{10, 4, 0x91, 9, 3, 1, 'x'}, // copy past the base
		{10, 4, 0x91, 2, 3, 2, 'x'}, // insert past the delta
		{10, 4, 0},                  // reserved instruction
		{10},                        // truncated header
	} {
		if _, err := applyDelta(base, d); err == nil {
			t.Fatalf("applyDelta(%v) succeeded", d)
		}
	}
}

// TestObjectStoreSkipsBrokenPack: an index whose pack is gone (a repack
// removed it after the index was listed) does not hide the objects that
// are also elsewhere.
func TestObjectStoreSkipsBrokenPack(t *testing.T) {
	root := deltaRepo(t)
	pack := packFiles(t, root)[0]
	idx := strings.TrimSuffix(pack, ".pack") + ".idx"
	data, err := os.ReadFile(idx)
	if err != nil {
		t.Fatal(err)
	}
	// Sorted first in the pack directory, so looked in first.
	orphan := filepath.Join(filepath.Dir(idx), "pack-0000000000000000000000000000000000000000.idx")
	if err := os.WriteFile(orphan, data, 0o444); err != nil {
		t.Fatal(err)
	}
	checkStore(t, root)
	write(t, root, hookDir+"/a", "a\n")
	if _, err := Commit(root, opts("broken pack")); err != nil {
		t.Fatal(err)
	}
	os.Remove(orphan)
	fsck(t, root)
}
