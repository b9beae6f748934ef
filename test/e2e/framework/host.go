package framework

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// KillShims kills the containerd shims serving a socket and every process they
// started, for tests that must leave no container behind even when a node did not
// clean up after itself.
func KillShims(socket string) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	var shims []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		if len(args) > 0 && strings.HasSuffix(args[0], "containerd-shim-runc-v2") && containsArg(args, socket) {
			shims = append(shims, pid)
		}
	}
	for _, pid := range shims {
		_ = exec.Command("pkill", "-KILL", "-P", strconv.Itoa(pid)).Run()
		if p, err := os.FindProcess(pid); err == nil {
			_ = p.Kill()
		}
	}
}

func containsArg(args []string, want string) bool {
	for _, a := range args {
		if a == want {
			return true
		}
	}
	return false
}
