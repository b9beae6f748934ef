// Package node drives a one-node minik8s cluster — server and agent in one process,
// real containerd, real containers — with the real kubectl. It needs root.
package node

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/minik8s/minik8s/pkg/netpol"
	"github.com/minik8s/minik8s/pkg/proxy"
	"github.com/minik8s/minik8s/test/e2e/framework"
	"github.com/minik8s/minik8s/test/images/testimages"
)

// Settings that keep the test node apart from a cluster the machine may run.
const (
	bridge      = "mke2e"
	clusterCIDR = "10.250.0.0/16"
	kubeletPort = "10350"
	nodeName    = "e2e-node"
)

var cluster *framework.Cluster

func TestMain(m *testing.M) {
	if reason := missing(); reason != "" {
		if framework.InCI() {
			fmt.Fprintln(os.Stderr, "node e2e: prerequisite missing in CI:", reason)
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "node e2e: skipping:", reason)
		os.Exit(0)
	}
	type natState struct{ table, chains bool }
	before := map[string]natState{}
	for _, tool := range []string{"iptables", "ip6tables"} {
		before[tool] = natState{table: natTableExists(tool), chains: hostportChainsExist(tool)}
	}
	dir, err := os.MkdirTemp("", "minik8s-node-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	_, err = testimages.Build(ctx, testimages.Options{OutDir: filepath.Join(dir, "agent", "images"), Only: []string{"busybox", "testserver", "nginx"}})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "node e2e: build test images:", err)
		os.Exit(1)
	}
	c, err := framework.Start(framework.Options{DataDir: dir, Args: []string{"--cluster-cidr", clusterCIDR,
		"--cni-bridge", bridge, "--kubelet-port", kubeletPort, "--node-name", nodeName,
		// Small enough for the log rotation test to pass it in a few seconds.
		"--container-log-max-size", "256Ki"}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "node e2e: start cluster:", err)
		os.Exit(1)
	}
	cluster = c
	code := m.Run()
	// Pods first, so the agent stops their containers; then the server.
	ctx, cancel = context.WithTimeout(context.Background(), 2*time.Minute)
	c.Kubectl(ctx, "/usr/bin/kubectl", "", "delete", "pods", "--all", "-A", "--grace-period=0", "--force", "--wait=true")
	cancel()
	waitRuntimeEmpty(dir, time.Minute)
	if err := c.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "node e2e: server did not stop cleanly:", err)
		if code == 0 {
			code = 1
		}
	}
	cleanupHost(dir, bridge)
	for tool, had := range before {
		if !had.chains {
			removeHostportChains(tool, !had.table)
		}
	}
	if code == 0 {
		os.RemoveAll(dir)
	} else {
		fmt.Fprintln(os.Stderr, "node e2e: data kept at", dir)
	}
	os.Exit(code)
}

func missing() string {
	if os.Geteuid() != 0 {
		return "needs root"
	}
	for _, bin := range []string{"containerd", "runc", "ctr"} {
		if _, err := exec.LookPath(bin); err != nil {
			return bin + " not installed (hack/install-deps.sh installs it)"
		}
	}
	return ""
}

// cleanupHost removes what the node left on the machine: containers (stopped with
// their pods), the containerd it ran, the bridge and the sandboxes' mounts.
func cleanupHost(dir, bridge string) {
	sock := filepath.Join(dir, "agent", "containerd", "containerd.sock")
	if _, err := os.Stat(sock); err == nil {
		out, _ := exec.Command("ctr", "-a", sock, "-n", "k8s.io", "tasks", "ls", "-q").Output()
		for _, id := range splitLines(string(out)) {
			_ = exec.Command("ctr", "-a", sock, "-n", "k8s.io", "tasks", "kill", "-s", "SIGKILL", id).Run()
		}
	}
	_ = exec.Command("pkill", "-f", "containerd --config "+filepath.Join(dir, "agent")).Run()
	time.Sleep(time.Second)
	framework.KillShims(sock)
	_ = exec.Command("ip", "link", "del", bridge).Run()
	_ = exec.Command("nft", "delete", "table", "ip", "minik8s-"+bridge).Run()
	// The service proxy's and network policies' tables outlive the node on
	// purpose (a restart keeps Services answering, pods isolated); the test
	// removes them.
	for _, family := range []string{"ip", "ip6"} {
		_ = exec.Command("nft", "delete", "table", family, proxy.TableFor(bridge)).Run()
		_ = exec.Command("nft", "delete", "table", family, netpol.TableFor(bridge)).Run()
	}
	unmountUnder(dir)
}

// waitRuntimeEmpty waits until the agent has removed every container and sandbox.
func waitRuntimeEmpty(dir string, timeout time.Duration) {
	sock := filepath.Join(dir, "agent", "containerd", "containerd.sock")
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		out, err := exec.Command("ctr", "-a", sock, "-n", "k8s.io", "containers", "ls", "-q").Output()
		if err != nil || len(splitLines(string(out))) == 0 {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '\n' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}
