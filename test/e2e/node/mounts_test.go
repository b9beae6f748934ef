package node

import (
	"os"
	"os/exec"
	"sort"
	"strings"
	"syscall"
)

// unmountUnder lazily unmounts every mount below dir, deepest first.
func unmountUnder(dir string) {
	data, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return
	}
	var targets []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 1 && strings.HasPrefix(f[1], dir) {
			targets = append(targets, f[1])
		}
	}
	sort.Slice(targets, func(i, j int) bool { return len(targets[i]) > len(targets[j]) })
	for _, t := range targets {
		_ = syscall.Unmount(t, syscall.MNT_DETACH)
	}
}

// hostportChainsExist reports whether the portmap plugin's nat chains are there.
func hostportChainsExist(iptables string) bool {
	return exec.Command(iptables, "-t", "nat", "-S", "CNI-HOSTPORT-DNAT").Run() == nil
}

// removeHostportChains deletes the nat rules and chains the portmap plugin adds
// on first use and never removes, so the tests leave the tables as they found them.
func removeHostportChains(iptables string) {
	out, err := exec.Command(iptables, "-t", "nat", "-S").Output()
	if err != nil {
		return
	}
	var chains []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) > 2 && f[0] == "-A" && !strings.HasPrefix(f[1], "CNI-HOSTPORT") && strings.Contains(line, "CNI-HOSTPORT"):
			// Through the shell: the rules carry quoted comments.
			_ = exec.Command("sh", "-c", iptables+" -t nat -D"+strings.TrimPrefix(line, "-A")).Run()
		case len(f) == 2 && f[0] == "-N" && strings.HasPrefix(f[1], "CNI-HOSTPORT"):
			chains = append(chains, f[1])
		}
	}
	for _, c := range chains {
		_ = exec.Command(iptables, "-t", "nat", "-F", c).Run()
	}
	for _, c := range chains {
		_ = exec.Command(iptables, "-t", "nat", "-X", c).Run()
	}
}
