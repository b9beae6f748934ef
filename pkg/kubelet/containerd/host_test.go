package containerd

import (
	"bufio"
	"strings"
	"testing"
)

func TestCgroupDriverFollowsSystemdNotTheCgroupVersion(t *testing.T) {
	for _, tc := range []struct {
		name string
		host Cgroups
		want CgroupDriver
	}{
		{"a cgroup v2 host run by systemd asks systemd", Cgroups{Unified: true, SystemdPID1: true}, CgroupDriverSystemd},
		{"a cgroup v1 host run by systemd asks systemd", Cgroups{Unified: false, SystemdPID1: true}, CgroupDriverSystemd},
		{"a cgroup v2 container without systemd writes cgroupfs", Cgroups{Unified: true}, CgroupDriverCgroupfs},
		{"a hybrid v1 VM with another init writes cgroupfs", Cgroups{}, CgroupDriverCgroupfs},
	} {
		if got := tc.host.Driver(); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestEffectiveCapsAreReadFromProcStatus(t *testing.T) {
	status := "Name:\tx\nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t000001fffeffffff\nCapBnd:\t000001ffffffffff\n"
	caps, ok := effectiveCaps(bufio.NewScanner(strings.NewReader(status)))
	if !ok {
		t.Fatal("CapEff not found")
	}
	if caps&(1<<capSysResource) != 0 {
		t.Error("CAP_SYS_RESOURCE reported although bit 24 is clear")
	}
	if _, ok := effectiveCaps(bufio.NewScanner(strings.NewReader("Name:\tx\n"))); ok {
		t.Error("found CapEff in a status without one")
	}
}
