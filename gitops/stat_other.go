//go:build !linux

package gitops

import "os"

// fillStat copies the stat data git keeps in the index that is portable;
// git re-hashes the file once when the rest does not match.
func fillStat(fi os.FileInfo, e *ientry) {
	e.mtimeS, e.mtimeNs = uint32(fi.ModTime().Unix()), uint32(fi.ModTime().Nanosecond())
	e.ctimeS, e.ctimeNs = e.mtimeS, e.mtimeNs
	e.size = uint32(fi.Size())
}
