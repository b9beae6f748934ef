// Package proc starts, measures and stops the processes benchmarks run: CPU time
// and memory read from /proc, so figures are the process's own whatever else the
// machine is doing.
package proc

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/PID/stat times (100 on Linux).
const clockTicks = 100

// CPU is a process's user+system time so far (children not included).
func CPU(pid int) time.Duration { return cpuTicks(pid, 2) }

// CPUWithChildren is a process's user+system time so far plus that of the
// children it has waited for (kube-proxy's nft runs, for instance).
func CPUWithChildren(pid int) time.Duration { return cpuTicks(pid, 4) }

// cpuTicks sums n of the time fields of /proc/PID/stat from utime on
// (utime, stime, cutime, cstime).
func cpuTicks(pid, n int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(data)
	// Fields after the command name, which may hold spaces, in parentheses.
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 15 {
		return 0
	}
	var ticks int64
	for _, v := range f[11 : 11+n] {
		t, _ := strconv.ParseInt(v, 10, 64)
		ticks += t
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

// Memory is a process's resident set now and at its peak, and its anonymous
// (heap and stacks) part now, in KiB.
func Memory(pid int) (rssKiB, peakKiB, anonKiB int64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(fields[1], 10, 64)
		switch fields[0] {
		case "VmRSS:":
			rssKiB = v
		case "VmHWM:":
			peakKiB = v
		case "RssAnon:":
			anonKiB = v
		}
	}
	return rssKiB, peakKiB, anonKiB
}

// Start runs a command with its output in logFile; it dies with the benchmark.
func Start(logFile string, name string, args ...string) (*exec.Cmd, error) {
	log, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() { _ = cmd.Wait(); log.Close() }()
	return cmd, nil
}

// Stop sends SIGTERM and, after 15 s, SIGKILL.
func Stop(cmd *exec.Cmd) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if err := cmd.Process.Signal(syscall.Signal(0)); err != nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
}

// CopyExecutable copies an executable and syncs the copy to disk: a process run
// from it has pages of its own (clean, so the kernel can drop them).
func CopyExecutable(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
