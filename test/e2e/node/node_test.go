package node

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// cgroupScript prints a container's memory limit, CPU quota and CPU weight from
// inside it, on cgroup v1 or v2, into its termination message.
const cgroupScript = `{ cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes; ` +
	`cat /sys/fs/cgroup/cpu.max 2>/dev/null || cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us; ` +
	`cat /sys/fs/cgroup/cpu.weight 2>/dev/null || cat /sys/fs/cgroup/cpu/cpu.shares; } > /dev/termination-log`

// Requests and limits reach the container's cgroup, and the pod gets its QoS class.
func TestResourcesAndQoS(t *testing.T) {
	s := session(t)
	burstable := withSpec(container("c", "busybox:1.36", "sh", "-c", cgroupScript), `    resources:
      requests: {cpu: 100m, memory: 32Mi}
      limits: {cpu: 250m, memory: 64Mi}
`)
	guaranteed := withSpec(container("c", "busybox:1.36", "sleep", "600"), `    resources:
      limits: {cpu: 100m, memory: 32Mi}
`)
	s.Apply(pod("burstable", "Never", burstable))
	s.Apply(pod("guaranteed", "Always", guaranteed))
	s.Apply(pod("besteffort", "Always", container("c", "busybox:1.36", "sleep", "600")))
	waitField(t, s, "burstable", "{.status.phase}", "Succeeded")
	msg := s.Run("get", "pod", "burstable", "-o", "jsonpath={.status.containerStatuses[0].state.terminated.message}")
	lines := strings.Fields(msg)
	if len(lines) < 3 || lines[0] != "67108864" || !strings.HasPrefix(strings.Join(lines[1:], " "), "25000") {
		t.Fatalf("cgroup limits seen in the container: %q, want memory 67108864 and a CPU quota of 25000", msg)
	}
	// cpu.shares 102 on cgroup v1; the same weight converted on v2.
	if w := lines[len(lines)-1]; w != "102" && w != "4" {
		t.Fatalf("CPU weight %q for a 100m request", w)
	}
	framework.Contains(t, s.Run("get", "pod", "burstable", "-o", "jsonpath={.status.qosClass}"), "Burstable")
	framework.Contains(t, s.Run("get", "pod", "guaranteed", "-o", "jsonpath={.status.qosClass}"), "Guaranteed")
	framework.Contains(t, s.Run("get", "pod", "besteffort", "-o", "jsonpath={.status.qosClass}"), "BestEffort")
	framework.Contains(t, s.Run("describe", "pod", "guaranteed"), "QoS Class:", "Guaranteed")
}

// httpGetText fetches a URL, retrying for a while.
func httpGetText(t *testing.T, url string) string {
	t.Helper()
	var body string
	framework.Eventually(t, 30*time.Second, func() error {
		c := &http.Client{Timeout: 2 * time.Second}
		resp, err := c.Get(url)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = strings.TrimSpace(string(b))
		return nil
	})
	return body
}

// Running pods survive a restart of the server and its agent, and of containerd.
func TestPodsSurviveRestarts(t *testing.T) {
	s := session(t)
	s.Apply(pod("survivor", "Always", container("web", "minik8s.io/testserver:latest")))
	s.Run("wait", "--for=condition=Ready", "pod/survivor", "--timeout=60s")
	id := s.Run("get", "pod", "survivor", "-o", "jsonpath={.status.containerStatuses[0].containerID}")
	ip := s.Run("get", "pod", "survivor", "-o", "jsonpath={.status.podIP}")

	if err := cluster.Restart(); err != nil {
		t.Fatalf("restart the server: %v", err)
	}
	if got := httpGetText(t, "http://"+ip+":8080/hostname"); got != "survivor" {
		t.Fatalf("after the restart the pod answered %q", got)
	}
	framework.Eventually(t, 60*time.Second, func() error {
		out := s.Do("get", "pod", "survivor", "-o", "jsonpath={.status.containerStatuses[0].containerID} {.status.containerStatuses[0].restartCount} {.status.conditions[?(@.type==\"Ready\")].status}").Stdout
		if out != id+" 0 True" {
			return fmt.Errorf("after the restart: %q, want %q", out, id+" 0 True")
		}
		return nil
	})

	// The agent notices its containerd died, starts it again, and carries on.
	killContainerd(t, cluster.DataDir)
	if got := httpGetText(t, "http://"+ip+":8080/hostname"); got != "survivor" {
		t.Fatalf("after containerd died the pod answered %q", got)
	}
	s.Apply(pod("after-containerd", "Always", container("c", "busybox:1.36", "sleep", "600")))
	s.Run("wait", "--for=condition=Ready", "pod/after-containerd", "--timeout=90s")
	framework.Contains(t, s.Run("get", "pod", "survivor", "-o", "jsonpath={.status.containerStatuses[0].restartCount}"), "0")
}

// killContainerd SIGKILLs the containerd the agent of dataDir runs.
func killContainerd(t *testing.T, dataDir string) {
	t.Helper()
	out, _ := exec.Command("pgrep", "-f", "containerd --config "+filepath.Join(dataDir, "agent")).Output()
	pids := splitLines(string(out))
	if len(pids) == 0 {
		t.Fatal("no containerd of the agent is running")
	}
	for _, p := range pids {
		var pid int
		if _, err := fmt.Sscan(p, &pid); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// A second agent joins with the server's token, as from another machine, and runs pods.
func TestSecondNodeJoins(t *testing.T) {
	const (
		name   = "e2e-node2"
		bridge = "mke2e2"
	)
	s := session(t)
	token, err := os.ReadFile(filepath.Join(cluster.DataDir, "server", "node-token"))
	if err != nil {
		t.Fatalf("read the join token: %v", err)
	}
	dir := t.TempDir()
	// The new node imports the same test images at start.
	if err := os.MkdirAll(filepath.Join(dir, "agent"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(cluster.DataDir, "agent", "images"), filepath.Join(dir, "agent", "images")); err != nil {
		t.Fatal(err)
	}
	// The agent stops in the cleanup, after its pods: a deferred cancel would stop
	// it first and leave their sandboxes behind.
	ctx, cancel := context.WithCancel(context.Background())
	logf, err := os.Create(filepath.Join(dir, "agent.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, cluster.Binary, "agent", "--server", fmt.Sprintf("https://127.0.0.1:%d", cluster.Port),
		"--token", strings.TrimSpace(string(token)), "--data-dir", dir, "--node-name", name,
		"--cni-bridge", bridge, "--kubelet-port", "10351")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		logf.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(context.Background(), time.Minute)
		defer ccancel()
		cluster.Kubectl(cctx, "/usr/bin/kubectl", "", "delete", "pods", "-n", s.Namespace, "--all", "--grace-period=0", "--force", "--wait=true")
		waitRuntimeEmpty(dir, time.Minute)
		cancel()
		_ = cmd.Wait()
		logf.Close()
		cleanupHost(dir, bridge)
		cluster.Kubectl(cctx, "/usr/bin/kubectl", "", "delete", "node", name, "--wait=false")
		if t.Failed() || os.Getenv("E2E_AGENT_LOG") != "" {
			if b, err := os.ReadFile(filepath.Join(dir, "agent.log")); err == nil {
				t.Logf("agent log:\n%s", b)
			}
		}
	})
	framework.Eventually(t, 90*time.Second, func() error {
		out := s.Do("get", "node", name, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`).Stdout
		if out != "True" {
			return fmt.Errorf("node %s Ready=%q", name, out)
		}
		return nil
	})
	framework.Matches(t, s.Run("get", "nodes"), name+`\s+Ready\s+<none>\s+\S+\s+v1\.`)
	m := strings.Replace(pod("elsewhere", "Always", container("web", "minik8s.io/testserver:latest")), "nodeName: "+nodeName, "nodeName: "+name, 1)
	s.Apply(m)
	s.Run("wait", "--for=condition=Ready", "pod/elsewhere", "--timeout=90s")
	ip := s.Run("get", "pod", "elsewhere", "-o", "jsonpath={.status.podIP}")
	if got := httpGetText(t, "http://"+ip+":8080/hostname"); got != "elsewhere" {
		t.Fatalf("the pod on the second node answered %q", got)
	}
	framework.Contains(t, s.Run("get", "pod", "elsewhere", "-o", "wide"), name)
}
