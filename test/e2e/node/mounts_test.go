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

// natFamily is the nftables family of an iptables tool's nat table.
func natFamily(iptables string) string {
	if iptables == "ip6tables" {
		return "ip6"
	}
	return "ip"
}

// natTableExists reports whether the tool's nat table is there; nft, unlike
// iptables-nft, looks without creating it.
func natTableExists(iptables string) bool {
	return exec.Command("nft", "list", "table", natFamily(iptables), "nat").Run() == nil
}

// hostportChainsExist reports, without creating anything, whether the portmap
// plugin's chains are there.
func hostportChainsExist(iptables string) bool {
	return exec.Command("nft", "list", "chain", natFamily(iptables), "nat", "CNI-HOSTPORT-DNAT").Run() == nil
}

// removeHostportChains deletes the nat rules and chains the portmap plugin adds
// on first use and never removes, and the nat table when dropTable says the
// tests brought it, so the tests leave the tables as they found them.
func removeHostportChains(iptables string, dropTable bool) {
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
	// The table itself came with the tests: drop it once nothing is left in it.
	if !dropTable {
		return
	}
	if out, err := exec.Command("nft", "list", "table", natFamily(iptables), "nat").Output(); err == nil &&
		!strings.Contains(string(out), "jump") && !strings.Contains(string(out), "counter") {
		_ = exec.Command("nft", "delete", "table", natFamily(iptables), "nat").Run()
	}
}
