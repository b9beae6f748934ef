package containerd

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Cgroups is what the host's cgroup setup looks like.
type Cgroups struct {
	// Unified is true when /sys/fs/cgroup is cgroup v2; a v1 or hybrid host
	// (v2 only at /sys/fs/cgroup/unified) is false.
	Unified bool
	// SystemdPID1 is true when systemd manages the host.
	SystemdPID1 bool
}

// DetectCgroups looks at this host.
func DetectCgroups() Cgroups {
	var c Cgroups
	var st unix.Statfs_t
	if unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		c.Unified = true
	}
	// sd_booted(3): systemd creates this directory when it is PID 1.
	if fi, err := os.Stat("/run/systemd/system"); err == nil && fi.IsDir() {
		c.SystemdPID1 = true
	}
	return c
}

// Driver is the cgroup driver for this host. Where systemd is PID 1 it owns the
// cgroup tree and must be asked (on v1 and v2 alike), or it will undo what
// cgroupfs writes behind its back; elsewhere (containers, VMs with another
// init) there is no systemd to ask.
func (c Cgroups) Driver() CgroupDriver {
	if c.SystemdPID1 {
		return CgroupDriverSystemd
	}
	return CgroupDriverCgroupfs
}

// Version is 1 or 2, for log lines.
func (c Cgroups) Version() int {
	if c.Unified {
		return 2
	}
	return 1
}

// capSysResource is CAP_SYS_RESOURCE's bit number.
const capSysResource = 24

// CanLowerOOMScoreAdj reports whether this process may set a negative
// oom_score_adj, which needs CAP_SYS_RESOURCE in the effective set.
func CanLowerOOMScoreAdj() bool {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return false
	}
	defer f.Close()
	caps, ok := effectiveCaps(bufio.NewScanner(f))
	return ok && caps&(1<<capSysResource) != 0
}

// effectiveCaps reads the CapEff line of /proc/PID/status.
func effectiveCaps(s *bufio.Scanner) (uint64, bool) {
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return caps, err == nil
		}
	}
	return 0, false
}
