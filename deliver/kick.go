package deliver

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// maxKickLog bounds the log of kicked runs: past it, the log starts over.
const maxKickLog = 1 << 20

// Kick starts `exe args...` detached, so that the caller returns at once:
// in its own process group (a signal to the caller's group does not reach
// it), stdin from /dev/null, stdout and stderr appended to logPath. It does
// not wait for the process; cron remains the safety net if it fails.
func Kick(exe string, args []string, logPath string) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_APPEND
	if st, err := os.Stat(logPath); err == nil && st.Size() > maxKickLog {
		flags |= os.O_TRUNC
	}
	log, err := os.OpenFile(logPath, flags, 0o644)
	if err != nil {
		return fmt.Errorf("kick: %w", err)
	}
	defer log.Close()
	null, err := os.Open(os.DevNull)
	if err != nil {
		return fmt.Errorf("kick: %w", err)
	}
	defer null.Close()
	cmd := exec.Command(exe, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = null, log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("kick: %w", err)
	}
	return cmd.Process.Release()
}

// Self returns the path of the running outbox binary, as the shell found
// it: os.Args[0] looked up in PATH when it has no slash, else made absolute.
func Self() (string, error) {
	arg0 := os.Args[0]
	if !strings.ContainsRune(arg0, filepath.Separator) {
		if p, err := exec.LookPath(arg0); err == nil {
			return filepath.Abs(p)
		}
		return os.Executable()
	}
	return filepath.Abs(arg0)
}
