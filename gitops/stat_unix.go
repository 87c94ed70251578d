//go:build linux

package gitops

import (
	"os"
	"syscall"
)

// fillStat copies the stat data git keeps in the index.
func fillStat(fi os.FileInfo, e *ientry) {
	e.mtimeS, e.mtimeNs = uint32(fi.ModTime().Unix()), uint32(fi.ModTime().Nanosecond())
	e.size = uint32(fi.Size())
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		e.ctimeS, e.ctimeNs = uint32(st.Ctim.Sec), uint32(st.Ctim.Nsec)
		e.dev, e.ino = uint32(st.Dev), uint32(st.Ino)
		e.uid, e.gid = st.Uid, st.Gid
	}
}
