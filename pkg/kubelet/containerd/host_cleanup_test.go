package containerd_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minik8s/minik8s/pkg/kubelet/cni"
)

// needNode skips a test that needs root and the node's packages, unless CI=true,
// where everything must run.
func needNode(t *testing.T, binaries ...string) {
	t.Helper()
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	for _, b := range binaries {
		if _, err := exec.LookPath(b); err != nil {
			missing = append(missing, b)
		}
	}
	for _, p := range cni.Plugins {
		if _, err := os.Stat(filepath.Join(cni.DefaultBinDir(), p)); err != nil {
			missing = append(missing, "CNI plugin "+p)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := fmt.Sprintf("needs %s (hack/install-deps.sh installs the packages)", strings.Join(missing, ", "))
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// hostState is what the test may change on the host outside its temp dir,
// recorded before, so cleanup can put it back.
type hostState struct {
	rules   *cni.HostRules
	existed map[string]bool // host dirs containerd and the plugins create on demand
	sysctls map[string]string
}

// hostDirs are created by containerd (netns mounts, shim sockets) and libcni
// (result cache) at fixed paths whatever their configuration says.
var hostDirs = []string{"/run/netns", "/var/lib/cni", "/run/containerd"}

var watchedSysctls = []string{"net/ipv4/ip_forward", "net/bridge/bridge-nf-call-iptables"}

func recordHost(t *testing.T) *hostState {
	t.Helper()
	rules, err := cni.SnapshotRules(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	h := &hostState{rules: rules, existed: map[string]bool{}, sysctls: map[string]string{}}
	for _, d := range hostDirs {
		_, err := os.Stat(d)
		h.existed[d] = err == nil
	}
	for _, k := range watchedSysctls {
		h.sysctls[k] = readSysctl(k)
	}
	return h
}

func readSysctl(key string) string {
	b, _ := os.ReadFile(filepath.Join("/proc/sys", key))
	return strings.TrimSpace(string(b))
}

// restore removes what the test left: shims of its containerd, mounts under
// its dir, the pod netns, the plugins' iptables chains, its cgroups, and host
// dirs that were not there before. Errors are reported, not fatal, so every
// step runs.
func (h *hostState) restore(t *testing.T, dir, socket, cgroupParent string, netns []string) {
	t.Helper()
	for _, pid := range shimsOf(socket) {
		t.Errorf("containerd shim %d outlived its containers; killing it", pid)
		syscall.Kill(pid, syscall.SIGKILL)
	}
	unmountUnder(dir)
	for _, ns := range netns {
		if _, err := os.Stat(ns); err == nil {
			t.Errorf("pod netns %s left behind; removing it", ns)
			syscall.Unmount(ns, syscall.MNT_DETACH)
			os.Remove(ns)
		}
	}
	removed, err := h.rules.RemoveAdded(context.Background())
	if err != nil {
		t.Errorf("remove iptables rules: %v", err)
	}
	t.Logf("removed what the CNI plugins left: %v", removed)
	removeCgroup(t, cgroupParent)
	for _, d := range hostDirs {
		if h.existed[d] {
			continue
		}
		if d == "/var/lib/cni" {
			// libcni's cache of results, one file per attachment, removed on DEL.
			os.Remove("/var/lib/cni/results")
		}
		if d == "/run/containerd" {
			os.Remove("/run/containerd/s")
			os.Remove("/run/containerd/fifo")
		}
		if entries, _ := os.ReadDir(d); len(entries) > 0 {
			t.Errorf("%s, created by this test, is not empty: %v", d, entries)
			continue
		}
		// containerd bind-mounts /run/netns onto itself to share it.
		for syscall.Unmount(d, syscall.MNT_DETACH) == nil {
		}
		if err := os.Remove(d); err != nil {
			t.Errorf("remove %s: %v", d, err)
		}
	}
	for k, v := range h.sysctls {
		if got := readSysctl(k); got != v {
			t.Errorf("sysctl %s is %s, was %s before the test; restoring", k, got, v)
			os.WriteFile(filepath.Join("/proc/sys", k), []byte(v), 0o644)
		}
	}
}

// shimsOf lists containerd-shim processes serving the containerd at socket.
func shimsOf(socket string) []int {
	var pids []int
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		if strings.Contains(filepath.Base(args[0]), "containerd-shim") && strings.Contains(string(cmdline), socket) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// unmountUnder detaches every mount at or below dir, deepest first.
func unmountUnder(dir string) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	var points []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && (f[4] == dir || strings.HasPrefix(f[4], dir+"/")) {
			points = append(points, f[4])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(points)))
	for _, p := range points {
		syscall.Unmount(p, syscall.MNT_DETACH)
	}
}

// removeCgroup removes the pods' cgroup parent from every cgroup hierarchy.
func removeCgroup(t *testing.T, parent string) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		sep := -1
		for i, x := range f {
			if x == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+1 >= len(f) || (f[sep+1] != "cgroup" && f[sep+1] != "cgroup2") {
			continue
		}
		root := filepath.Join(f[4], parent)
		var dirs []string
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			if err := os.Remove(dirs[i]); err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("remove cgroup %s: %v", dirs[i], err)
			}
		}
	}
}

// ping sends one ICMP echo to ip and waits for the reply.
func ping(ip string, timeout time.Duration) error {
	conn, err := net.ListenPacket("ip4:icmp", "0.0.0.0")
	if err != nil {
		return err
	}
	defer conn.Close()
	id := uint16(os.Getpid())
	msg := []byte{8, 0, 0, 0, byte(id >> 8), byte(id), 0, 1, 'm', 'k', '8', 's'}
	binary.BigEndian.PutUint16(msg[2:], icmpChecksum(msg))
	if _, err := conn.WriteTo(msg, &net.IPAddr{IP: net.ParseIP(ip)}); err != nil {
		return err
	}
	conn.SetReadDeadline(time.Now().Add(timeout))
	buf := make([]byte, 1500)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			return fmt.Errorf("no echo reply from %s: %w", ip, err)
		}
		// An echo reply (type 0) from the pod carrying our id.
		if from.String() == ip && n >= 8 && buf[0] == 0 && binary.BigEndian.Uint16(buf[4:]) == id {
			return nil
		}
	}
}

func icmpChecksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
