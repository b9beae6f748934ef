package containerd_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minik8s/minik8s/pkg/images"
	"github.com/minik8s/minik8s/pkg/kubelet/cni"
	"github.com/minik8s/minik8s/pkg/kubelet/containerd"
	"github.com/minik8s/minik8s/pkg/kubelet/cri"
	"github.com/minik8s/minik8s/pkg/kubelet/imageimport"
	"github.com/minik8s/minik8s/test/images/testimages"
)

// TestANodeRunsAPodThroughItsOwnContainerd is a node's life on this host: the
// pod network set up, containerd started under supervision, the pause and
// busybox images imported, a pod with a container that logs, containerd
// restarted under the running pod, and everything removed again, leaving the
// host as it was.
func TestANodeRunsAPodThroughItsOwnContainerd(t *testing.T) {
	needNode(t, "containerd", "ctr", "runc", "containerd-shim-runc-v2", "iptables", "nft")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(testLog{t}, nil))
	pid := os.Getpid()

	// A short temp path: containerd's sockets live under it.
	tmp, err := os.MkdirTemp("", "mk8s-it-")
	if err != nil {
		t.Fatal(err)
	}
	agentDir := filepath.Join(tmp, "agent")
	cdCfg := containerd.DefaultConfig(agentDir)
	t.Logf("cgroups v%d, driver %s, restrict_oom_score_adj %v", containerd.DetectCgroups().Version(), cdCfg.CgroupDriver, cdCfg.RestrictOOMScoreAdj)
	cgroupParent := fmt.Sprintf("/minik8s-it-%d", pid)
	if cdCfg.CgroupDriver == containerd.CgroupDriverSystemd {
		cgroupParent = fmt.Sprintf("minik8s_it%d.slice", pid)
	}
	host := recordHost(t)
	var netns []string
	defer func() {
		if t.Failed() {
			t.Logf("containerd log:\n%s", tail(cdCfg.LogFile(), 40))
		}
		host.restore(t, tmp, cdCfg.Socket(), cgroupParent, netns)
		os.RemoveAll(tmp)
	}()

	// A bridge and subnet of the test's own, so a node running on this host
	// (cni0, 10.244.0.0/24) is not disturbed.
	netCfg := cni.DefaultConfig(agentDir, fmt.Sprintf("10.250.%d.0/24", pid%250))
	netCfg.NetworkName = fmt.Sprintf("mk8s-it-%d", pid)
	netCfg.BridgeName = fmt.Sprintf("mk8sit%d", pid%100000)
	network, err := cni.New(netCfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := network.Setup(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := network.Teardown(); err != nil {
			t.Error(err)
		}
		if _, err := net.InterfaceByName(netCfg.BridgeName); err == nil {
			t.Errorf("bridge %s still exists after teardown", netCfg.BridgeName)
		}
	}()
	gw, _ := netCfg.Gateway()
	if !hasAddress(t, netCfg.BridgeName, gw.IP) {
		t.Fatalf("bridge %s does not hold the node IP %s", netCfg.BridgeName, gw.IP)
	}
	if got := readSysctl("net/ipv4/ip_forward"); got != "1" {
		t.Errorf("ip_forward = %s after setup", got)
	}

	cdCfg.CNIBinDir = netCfg.BinDir
	cdCfg.CNIConfDir = netCfg.ConfDir()
	stopContainerd := startContainerd(ctx, t, cdCfg, log)
	defer func() { stopContainerd() }()

	client, err := cri.Dial(cdCfg.Endpoint(), cri.Options{Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	v, err := client.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("runtime %s %s, CRI %s", v.RuntimeName, v.RuntimeVersion, v.RuntimeApiVersion)

	// Images: the pause image from memory, busybox from the airgap folder.
	importer, err := imageimport.New(imageimport.Config{Socket: cdCfg.Socket()}, client, log)
	if err != nil {
		t.Fatal(err)
	}
	pause, _ := images.PauseImage()
	if _, _, err := importer.ImportBytes(ctx, pause, "pause"); err != nil {
		t.Fatal(err)
	}
	imageDir := filepath.Join(agentDir, "images")
	if _, err := testimages.Build(ctx, testimages.Options{OutDir: imageDir, Only: []string{"busybox"}}); err != nil {
		t.Fatal(err)
	}
	if res, err := importer.ImportDir(ctx, imageDir); err != nil || res.Imported != 1 {
		t.Fatalf("import %s: %+v, %v", imageDir, res, err)
	}
	if res, _ := importer.ImportDir(ctx, imageDir); res.Skipped != 1 {
		t.Errorf("second import of %s: %+v, want it skipped", imageDir, res)
	}

	// The pod.
	sandbox := &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: "it-pod", Namespace: "default", Uid: fmt.Sprintf("it-%d", pid)},
		Hostname:     "it-pod",
		LogDirectory: filepath.Join(tmp, "pods", "it-pod"),
		PortMappings: []*runtimeapi.PortMapping{{Protocol: runtimeapi.Protocol_TCP, ContainerPort: 8080, HostPort: int32(31000 + pid%1000)}},
		Linux:        &runtimeapi.LinuxPodSandboxConfig{CgroupParent: cgroupParent},
	}
	if err := os.MkdirAll(sandbox.LogDirectory, 0o755); err != nil {
		t.Fatal(err)
	}
	podID, err := client.RunPodSandbox(ctx, sandbox, "")
	if err != nil {
		t.Fatal(err)
	}
	removed := false
	defer func() {
		if !removed {
			client.StopPodSandbox(context.Background(), podID)
			client.RemovePodSandbox(context.Background(), podID)
		}
	}()
	st, err := client.PodSandboxStatus(ctx, podID, true)
	if err != nil {
		t.Fatal(err)
	}
	netns = append(netns, sandboxNetns(st))
	podIP := st.GetStatus().GetNetwork().GetIp()
	if _, subnet, _ := net.ParseCIDR(netCfg.PodCIDR); !subnet.Contains(net.ParseIP(podIP)) {
		t.Fatalf("pod IP %q is not in the node's pod CIDR %s", podIP, netCfg.PodCIDR)
	}
	if err := ping(podIP, 3*time.Second); err != nil {
		t.Errorf("ping the pod from the host: %v", err)
	}

	// A container that logs, then waits to be stopped.
	container := &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: "app"},
		Image:    &runtimeapi.ImageSpec{Image: "docker.io/library/busybox:1.36"},
		Command:  []string{"sh", "-c", "echo hello from minik8s; trap 'exit 0' TERM; while :; do sleep 1; done"},
		LogPath:  "app_0.log",
		Linux:    &runtimeapi.LinuxContainerConfig{},
	}
	ctrID, err := client.CreateContainer(ctx, podID, container, sandbox)
	if err != nil {
		t.Fatal(err)
	}
	if err := client.StartContainer(ctx, ctrID); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(sandbox.LogDirectory, container.LogPath)
	waitFor(t, 10*time.Second, "the container's log line", func() bool {
		b, _ := os.ReadFile(logFile)
		// CRI log format: TIMESTAMP STREAM TAG MESSAGE.
		return strings.Contains(string(b), " stdout F hello from minik8s\n")
	})
	out, err := client.ExecSync(ctx, ctrID, []string{"cat", "/etc/hostname"}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out.Stdout)); out.ExitCode != 0 || got != "it-pod" {
		t.Errorf("exec cat /etc/hostname: exit %d, %q", out.ExitCode, got)
	}
	execURL, err := client.Exec(ctx, &runtimeapi.ExecRequest{ContainerId: ctrID, Cmd: []string{"true"}, Stdout: true})
	if err != nil {
		t.Fatal(err)
	}
	if u, err := url.Parse(execURL); err != nil || u.Port() == "" || u.Port() == "0" {
		t.Errorf("exec stream URL %q has no real port", execURL)
	}

	// containerd restarts under a running pod: the container lives on.
	ctrPid := containerPid(ctx, t, client, ctrID)
	stopContainerd()
	if err := syscall.Kill(ctrPid, 0); err != nil {
		t.Fatalf("container process %d died with containerd: %v", ctrPid, err)
	}
	stopContainerd = startContainerd(ctx, t, cdCfg, log)
	cs, err := client.ContainerStatus(ctx, ctrID, false)
	if err != nil {
		t.Fatal(err)
	}
	if cs.Status.State != runtimeapi.ContainerState_CONTAINER_RUNNING {
		t.Errorf("after containerd's restart the container is %s", cs.Status.State)
	}
	if err := ping(podIP, 3*time.Second); err != nil {
		t.Errorf("ping the pod after containerd's restart: %v", err)
	}

	// Everything goes.
	if err := client.StopContainer(ctx, ctrID, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if cs, err := client.ContainerStatus(ctx, ctrID, false); err != nil || cs.Status.ExitCode != 0 {
		t.Errorf("stopped container: %v, exit code %d (want 0: it traps TERM)", err, cs.GetStatus().GetExitCode())
	}
	if err := client.RemoveContainer(ctx, ctrID); err != nil {
		t.Fatal(err)
	}
	if err := client.StopPodSandbox(ctx, podID); err != nil {
		t.Fatal(err)
	}
	if err := client.RemovePodSandbox(ctx, podID); err != nil {
		t.Fatal(err)
	}
	removed = true
	if pods, err := client.ListPodSandbox(ctx, nil); err != nil || len(pods) != 0 {
		t.Errorf("sandboxes left: %v, %v", pods, err)
	}
	waitFor(t, 10*time.Second, "the shims to exit", func() bool { return len(shimsOf(cdCfg.Socket())) == 0 })
}

// startContainerd runs a supervisor until the returned function is called.
func startContainerd(ctx context.Context, t *testing.T, cfg containerd.Config, log *slog.Logger) func() {
	t.Helper()
	sup, err := containerd.New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- sup.Run(runCtx) }()
	stop := func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("supervisor: %v", err)
		}
		done <- nil // a second stop returns at once
	}
	wctx, wcancel := context.WithTimeout(ctx, 60*time.Second)
	defer wcancel()
	if err := sup.WaitReady(wctx); err != nil {
		stop()
		t.Fatal(err)
	}
	return stop
}

func waitFor(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !ok(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
	}
}

func hasAddress(t *testing.T, ifname string, ip net.IP) bool {
	t.Helper()
	iface, err := net.InterfaceByName(ifname)
	if err != nil {
		t.Fatal(err)
	}
	addrs, _ := iface.Addrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}

// sandboxNetns reads the pod's network namespace path from containerd's
// verbose sandbox info.
func sandboxNetns(st *runtimeapi.PodSandboxStatusResponse) string {
	var info struct {
		RuntimeSpec struct {
			Linux struct {
				Namespaces []struct{ Type, Path string }
			}
		}
	}
	json.Unmarshal([]byte(st.Info["info"]), &info)
	for _, ns := range info.RuntimeSpec.Linux.Namespaces {
		if ns.Type == "network" {
			return ns.Path
		}
	}
	return ""
}

// containerPid reads a container's host pid from containerd's verbose info.
func containerPid(ctx context.Context, t *testing.T, client *cri.Client, id string) int {
	t.Helper()
	st, err := client.ContainerStatus(ctx, id, true)
	if err != nil {
		t.Fatal(err)
	}
	var info struct{ Pid int }
	if err := json.Unmarshal([]byte(st.Info["info"]), &info); err != nil || info.Pid == 0 {
		t.Fatalf("no pid in container info: %v", err)
	}
	return info.Pid
}

// testLog sends log lines to the test's log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// tail returns the last lines of a file.
func tail(file string, lines int) string {
	b, _ := os.ReadFile(file)
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}
