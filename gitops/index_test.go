package gitops

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// lsFilesOutside returns `git ls-files --debug` for the entries outside
// hookDir: their names, modes, hashes, stages, stat data and flags.
func lsFilesOutside(t *testing.T, root string) string {
	t.Helper()
	out := gitT(t, root, "ls-files", "-s", "--debug")
	var keep []string
	skip := false
	for _, l := range strings.Split(out, "\n") {
		if !strings.HasPrefix(l, " ") {
			f := strings.SplitN(l, "\t", 2)
			skip = len(f) == 2 && strings.HasPrefix(f[1], hookDir+"/")
		}
		if !skip {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// lsFilesUnder returns `git ls-files -s` for hookDir.
func lsFilesUnder(t *testing.T, root string) []string {
	return lines(gitT(t, root, "ls-files", "-s", "--", hookDir))
}

// lsTreeAsIndex returns HEAD's files under hookDir as `ls-files -s` lines.
func lsTreeAsIndex(t *testing.T, root string) []string {
	var out []string
	for _, l := range lines(gitT(t, root, "ls-tree", "-r", "HEAD", "--", hookDir)) {
		f := strings.Fields(l) // mode type hash\tpath
		path := l[strings.IndexByte(l, '\t')+1:]
		out = append(out, fmt.Sprintf("%s %s 0\t%s", f[0], f[2], path))
	}
	return out
}

func checkChecksum(t *testing.T, root string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, ".git", "index"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum(raw[:len(raw)-20])
	if !bytes.Equal(sum[:], raw[len(raw)-20:]) {
		t.Fatal("index checksum wrong")
	}
}

// TestIndexSpliceRoundTrip commits into an index of every version, full of
// names that sort around the committed directory, an entry with a name
// longer than the 12-bit length field, and entries with assume-unchanged,
// skip-worktree and intent-to-add (extended) flags, and checks git's own
// view of the result: the entries under the directory are HEAD's, every
// other entry is unchanged, the cache tree is right, status is clean.
func TestIndexSpliceRoundTrip(t *testing.T) {
	// Names longer than the 12-bit length field (and than PATH_MAX: index
	// entries only, with no file).
	long := strings.Repeat("d123456789/", 400) + "long.txt"
	for _, v := range []string{"2", "3", "4"} {
		t.Run("v"+v, func(t *testing.T) {
			root := newRepo(t)
			for _, n := range []string{
				"a.txt", "docs/specs/SPEC-KIT-065/spec.md",
				"docs/specs/SPEC-KIT-065/webhooks-x/f", "docs/specs/SPEC-KIT-065/webhooks.y",
				"docs/specs/SPEC-KIT-065/webhooks0/f", "docs/specs/SPEC-KIT-066/webhooks/ledger.jsonl",
				"zz.txt", hookDir + "-other/x", hookDir + "/sent/s1.json", hookDir + "/sent/s2.json",
				hookDir + "/ledger.jsonl", hookDir + "/spool/keep.json",
			} {
				write(t, root, n, "x "+n+"\n")
			}
			blob := strings.TrimSpace(gitT(t, root, "hash-object", "-w", filepath.Join(root, "a.txt")))
			for _, n := range []string{"docs/" + long, "docs/specs/SPEC-KIT-065/webhooks-x/" + long,
				"docs/specs/SPEC-KIT-065/webhooksz/" + long, "z/" + long} {
				gitT(t, root, "update-index", "--add", "--cacheinfo", "100644,"+blob+","+n)
			}
			gitT(t, root, "add", "-A")
			gitT(t, root, "commit", "-q", "-m", "init")
			gitT(t, root, "update-index", "--index-version", v)
			gitT(t, root, "update-index", "--assume-unchanged", "a.txt")
			if v != "2" {
				gitT(t, root, "update-index", "--skip-worktree", "zz.txt")
				write(t, root, "itat.txt", "intent\n")
				gitT(t, root, "add", "-N", "itat.txt")
			}
			gitT(t, root, "status", "--porcelain") // cache tree, untracked cache
			before := lsFilesOutside(t, root)

			os.Remove(filepath.Join(root, hookDir, "sent", "s1.json"))
			write(t, root, hookDir+"/sent/s3.json", "new\n")
			write(t, root, hookDir+"/ledger.jsonl", "changed\n")
			write(t, root, hookDir+"/aaa/first.json", "first\n")
			write(t, root, hookDir+"/zzz/last.json", "last\n")
			res, err := Commit(root, opts("c"))
			if err != nil {
				t.Fatal(err)
			}
			if res.Files != 5 {
				t.Fatalf("files %d", res.Files)
			}
			if got := lsFilesOutside(t, root); got != before {
				t.Fatalf("entries outside the committed path changed:\n%s\nwant\n%s", got, before)
			}
			if got, want := lsFilesUnder(t, root), lsTreeAsIndex(t, root); !slices.Equal(got, want) {
				t.Fatalf("index under the path:\n%q\nwant\n%q", got, want)
			}
			if s := statusFor(t, root, hookDir); s != "" {
				t.Fatalf("status: %s", s)
			}
			raw, _ := os.ReadFile(filepath.Join(root, ".git", "index"))
			if got := fmt.Sprint(raw[7]); got != v && !(v == "2" && got == "3") {
				t.Fatalf("index version %s", got)
			}
			checkChecksum(t, root)
			if v == "2" {
				// The cache tree left valid is right: git trusts it.
				if got, want := strings.TrimSpace(gitT(t, root, "write-tree")), strings.TrimSpace(gitT(t, root, "rev-parse", "HEAD^{tree}")); got != want {
					t.Fatalf("write-tree %s, HEAD tree %s", got, want)
				}
			}
			// Everything removed: the span empties.
			os.RemoveAll(filepath.Join(root, hookDir))
			if _, err := Commit(root, opts("gone")); err != nil {
				t.Fatal(err)
			}
			if got := lsFilesUnder(t, root); len(got) != 0 {
				t.Fatalf("entries left: %q", got)
			}
			if got := lsFilesOutside(t, root); got != before {
				t.Fatalf("entries outside the committed path changed:\n%s\nwant\n%s", got, before)
			}
			fsck(t, root)
		})
	}
}

// TestIndexFileAtCommittedPath: the index has a file where the committed
// directory now is; the commit replaces it, in HEAD and in the index.
func TestIndexFileAtCommittedPath(t *testing.T) {
	for _, v := range []string{"2", "4"} {
		t.Run("v"+v, func(t *testing.T) {
			root := newRepo(t)
			write(t, root, hookDir, "a file\n")
			write(t, root, hookDir+"-after", "after\n")
			write(t, root, hookDir+".x", "x\n")
			gitT(t, root, "add", "-A")
			gitT(t, root, "commit", "-q", "-m", "init")
			gitT(t, root, "update-index", "--index-version", v)
			os.Remove(filepath.Join(root, hookDir))
			write(t, root, hookDir+"/ledger.jsonl", "l\n")
			res, err := Commit(root, opts("dir"))
			if err != nil {
				t.Fatal(err)
			}
			if res.Files != 2 {
				t.Fatalf("files %d", res.Files)
			}
			got := lines(gitT(t, root, "ls-files"))
			want := []string{hookDir + "-after", hookDir + ".x", hookDir + "/ledger.jsonl"}
			if !slices.Equal(got, want) {
				t.Fatalf("ls-files %q, want %q", got, want)
			}
			if s := statusFor(t, root, "."); s != "" {
				t.Fatalf("status: %s", s)
			}
			checkChecksum(t, root)
			fsck(t, root)
		})
	}
}

// TestIndexSkipHash: with index.skipHash set and an index already written
// without checksum, the index is written without one too; otherwise it
// gets a checksum.
func TestIndexSkipHash(t *testing.T) {
	root := newRepo(t)
	write(t, root, "a.txt", "a\n")
	gitT(t, root, "add", "-A")
	gitT(t, root, "commit", "-q", "-m", "init")
	ip := filepath.Join(root, ".git", "index")

	// Configured, but the index has a checksum (a git that ignores the
	// setting wrote it): keep writing one.
	gitT(t, root, "config", "index.skipHash", "true")
	write(t, root, hookDir+"/a", "1\n")
	if _, err := Commit(root, opts("1")); err != nil {
		t.Fatal(err)
	}
	checkChecksum(t, root)

	// An index without checksum, as git 2.40 and later write with the
	// setting: it stays so.
	raw, _ := os.ReadFile(ip)
	copy(raw[len(raw)-20:], make([]byte, 20))
	os.WriteFile(ip, raw, 0o644)
	write(t, root, hookDir+"/a", "2\n")
	if _, err := Commit(root, opts("2")); err != nil {
		t.Fatal(err)
	}
	raw, _ = os.ReadFile(ip)
	if !bytes.Equal(raw[len(raw)-20:], make([]byte, 20)) {
		t.Fatal("checksum written despite index.skipHash")
	}
	if got := lines(gitT(t, root, "ls-files")); !slices.Equal(got, []string{"a.txt", hookDir + "/a"}) {
		t.Fatalf("ls-files %q", got)
	}

	// Not configured: a checksum again.
	gitT(t, root, "config", "index.skipHash", "false")
	write(t, root, hookDir+"/a", "3\n")
	if _, err := Commit(root, opts("3")); err != nil {
		t.Fatal(err)
	}
	checkChecksum(t, root)
	if s := statusFor(t, root, "."); s != "" {
		t.Fatalf("status: %s", s)
	}
}

func TestIndexRejectsCorruption(t *testing.T) {
	root := newRepo(t)
	for i := 0; i < 5; i++ {
		write(t, root, fmt.Sprintf("f%d", i), "x\n")
	}
	write(t, root, hookDir+"/l", "x\n")
	gitT(t, root, "add", "-A")
	gitT(t, root, "commit", "-q", "-m", "init")
	ip := filepath.Join(root, ".git", "index")
	good, _ := os.ReadFile(ip)
	for n := 0; n < len(good)-20; n++ {
		// Every truncation, and a few corrupted name lengths: an error,
		// never a panic or a wrong splice.
		bad := append(append([]byte{}, good[:n]...), good[len(good)-20:]...)
		os.WriteFile(ip, bad, 0o644)
		ix, err := readIndex(ip, []string{hookDir})
		if err == nil {
			plan, _ := ix.splice(nil)
			plan.each(func([]byte) error { return nil })
			ix.close()
		}
	}
	for off := idxHeaderLen; off < len(good)-20; off++ {
		bad := append([]byte{}, good...)
		bad[off] ^= 0xff
		os.WriteFile(ip, bad, 0o644)
		ix, err := readIndex(ip, []string{hookDir})
		if err == nil {
			plan, _ := ix.splice(nil)
			plan.each(func([]byte) error { return nil })
			ix.close()
		}
	}
	os.WriteFile(ip, good, 0o644)
}

func TestFsyncComponents(t *testing.T) {
	for _, c := range []struct {
		values       []string
		loose, index bool
	}{
		{nil, false, false},
		{[]string{"loose-object"}, true, false},
		{[]string{"committed"}, true, false},
		{[]string{"added"}, true, true},
		{[]string{"index,-loose-object"}, false, true},
		{[]string{"all,-loose-object"}, true, true}, // as git: (default &^ negative) | positive
		{[]string{"none,index"}, false, true},
		{[]string{"all", "reference"}, false, false}, // the last value counts
	} {
		loose, index := fsyncComponents(c.values)
		if loose != c.loose || index != c.index {
			t.Errorf("fsyncComponents(%q) = %v, %v", c.values, loose, index)
		}
	}
}

func TestInvalidateTreeCopiesOtherNodes(t *testing.T) {
	root := newRepo(t)
	for _, n := range []string{"a/x", "a/b/y", hookDir + "/l", "docs/other/z", "zz/w"} {
		write(t, root, n, n)
	}
	gitT(t, root, "add", "-A")
	gitT(t, root, "commit", "-q", "-m", "init")
	gitT(t, root, "status", "--porcelain")
	raw, _ := os.ReadFile(filepath.Join(root, ".git", "index"))
	at := bytes.Index(raw, []byte("TREE"))
	if at < 0 {
		t.Fatal("no cache tree")
	}
	tree := raw[at+8 : at+8+int(binary.BigEndian.Uint32(raw[at+4:]))]
	got, ok := invalidateTree(tree, []string{hookDir})
	if !ok {
		t.Fatal("cache tree not parsed")
	}
	// Root, docs, docs/specs, docs/specs/SPEC-KIT-065 and the path itself
	// lose their hashes; a, a/b, docs/other and zz keep theirs.
	if want := len(tree) - 5*20 + 5; len(got) != want { // "-1" is one byte longer than a count of one digit
		t.Fatalf("cache tree of %d bytes, want %d", len(got), want)
	}
	for _, n := range []string{"a", "b", "other", "zz"} {
		if !bytes.Contains(got, []byte(n+"\x00")) {
			t.Fatalf("node %s lost", n)
		}
	}
}
