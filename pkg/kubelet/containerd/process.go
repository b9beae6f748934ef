package containerd

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// process is one run of containerd.
type process struct {
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error // how it ended; set before exited is closed
}

// startProcess starts containerd with its output appended to logFile.
func startProcess(binary, configFile string, logFile *os.File) (*process, error) {
	cmd := exec.Command(binary, "--config", configFile)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = withSbinPath(os.Environ())
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// Its own process group: a Ctrl-C at the agent's terminal must not reach
		// it before the agent has stopped it in order.
		Setpgid: true,
		// Stopped if the agent dies without stopping it.
		Pdeathsig: syscall.SIGTERM,
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		// Pdeathsig fires when the thread that forked the child ends, not the
		// process; holding this thread for the child's whole life means only the
		// agent's death signals it.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			close(p.exited)
			return
		}
		started <- nil
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start %s: %w", binary, err)
	}
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// stop asks containerd to exit and kills it after grace. Its shims, and so the
// containers, keep running.
func (p *process) stop(grace time.Duration) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return
	case <-time.After(grace):
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// withSbinPath makes sure runc (/usr/sbin on Debian) and the shims are found
// even when the agent was started with a user's PATH.
func withSbinPath(env []string) []string {
	const std = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	out := make([]string, 0, len(env)+1)
	path := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
			continue
		}
		out = append(out, kv)
	}
	have := map[string]bool{}
	for _, d := range filepath.SplitList(path) {
		have[d] = true
	}
	for _, d := range filepath.SplitList(std) {
		if !have[d] {
			if path != "" {
				path += ":"
			}
			path += d
		}
	}
	return append(out, "PATH="+path)
}

// stopStale stops a containerd an earlier agent left running with this
// configuration (the pid file names it, its command line confirms it), so two
// never share one root.
func stopStale(pidFile, configFile string, grace time.Duration) (int, error) {
	data, err := os.ReadFile(pidFile)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", pidFile, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, os.Remove(pidFile)
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !bytes.Contains(cmdline, []byte(configFile)) {
		return 0, os.Remove(pidFile) // gone, or the pid was reused
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	for deadline := time.Now().Add(grace); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if syscall.Kill(pid, 0) != nil {
			return pid, os.Remove(pidFile)
		}
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	for deadline := time.Now().Add(grace); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if syscall.Kill(pid, 0) != nil {
			return pid, os.Remove(pidFile)
		}
	}
	return pid, fmt.Errorf("containerd %d left by an earlier agent does not die", pid)
}

// openLog opens the log for appending, first moving aside one that grew past
// limit, so a crash-looping containerd cannot fill the disk.
func openLog(file string, limit int64) (*os.File, error) {
	if fi, err := os.Stat(file); err == nil && fi.Size() > limit {
		_ = os.Rename(file, file+".1")
	}
	f, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open containerd log: %w", err)
	}
	return f, nil
}

// logTail returns the last lines of the log, for error messages.
func logTail(file string, lines int) string {
	f, err := os.Open(file)
	if err != nil {
		return ""
	}
	defer f.Close()
	const window = 4096
	if fi, err := f.Stat(); err == nil && fi.Size() > window {
		_, _ = f.Seek(-window, io.SeekEnd)
	}
	data, _ := io.ReadAll(f)
	all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}
