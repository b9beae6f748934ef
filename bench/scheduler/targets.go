package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/minik8s/minik8s/bench/internal/proc"
)

// target is one control plane with a scheduler to measure.
type target struct {
	name       string
	kubeconfig string
	binary     string
	dir        string
	scheduler  *exec.Cmd
	others     []*exec.Cmd
	stopFn     func()
}

func (t *target) schedulerPID() int { return t.scheduler.Process.Pid }

func (t *target) stop() {
	proc.Stop(t.scheduler)
	for i := len(t.others) - 1; i >= 0; i-- {
		proc.Stop(t.others[i])
	}
	if t.stopFn != nil {
		t.stopFn()
	}
	os.RemoveAll(t.dir)
}

// newMinik8s starts a minik8s server without its scheduler (its simulated-node
// controller runs inside) and `minik8s scheduler` beside it.
func newMinik8s(binary string, pprofPort int) (*target, error) {
	dir, err := os.MkdirTemp("", "minik8s-bench-scheduler-")
	if err != nil {
		return nil, err
	}
	t := &target{name: "minik8s", dir: dir, binary: binary, kubeconfig: filepath.Join(dir, "data", "kubeconfig.yaml")}
	srv, err := proc.Start(filepath.Join(dir, "server.log"), binary, "server", "--disable-agent", "--disable-scheduler",
		"--data-dir", filepath.Join(dir, "data"), "--https-listen-port", "16700")
	if err != nil {
		return nil, err
	}
	t.others = append(t.others, srv)
	if err := waitFile(t.kubeconfig, 60*time.Second); err != nil {
		t.stop()
		return nil, fmt.Errorf("minik8s server: %w (log in %s)", err, dir)
	}
	if err := waitAPI(t.kubeconfig, 60*time.Second); err != nil {
		t.stop()
		return nil, err
	}
	// The scheduler runs from its own synced copy of the binary, as it would on a
	// machine of its own: pages of an executable shared with the server cannot be
	// handed back to the kernel, and would be counted in both.
	own := filepath.Join(dir, "minik8s-scheduler")
	if err := proc.CopyExecutable(binary, own); err != nil {
		t.stop()
		return nil, err
	}
	args := []string{"scheduler", "--kubeconfig", t.kubeconfig}
	if pprofPort > 0 {
		args = append(args, "--metrics-port", strconv.Itoa(pprofPort))
	}
	if t.scheduler, err = proc.Start(filepath.Join(dir, "scheduler.log"), own, args...); err != nil {
		t.stop()
		return nil, err
	}
	return t, nil
}

// newUpstream starts etcd and kube-apiserver with upstream.sh, kube-scheduler as
// upstream.sh would, and `minik8s sim run` for the simulated nodes.
func newUpstream(binary, script, anchor string) (*target, error) {
	dir, err := os.MkdirTemp("", "minik8s-bench-upstream-")
	if err != nil {
		return nil, err
	}
	t := &target{name: "upstream", dir: dir, binary: binary, kubeconfig: filepath.Join(anchor, "kubeconfig")}
	start := exec.Command("bash", script, "start")
	start.Env = append(os.Environ(), "WITH_CONTROLLERS=0", "ANCHOR="+anchor)
	if out, err := start.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("upstream.sh start: %v\n%s", err, out)
	}
	t.stopFn = func() {
		stop := exec.Command("bash", script, "stop")
		stop.Env = append(os.Environ(), "ANCHOR="+anchor)
		_ = stop.Run()
	}
	if err := waitAPI(t.kubeconfig, 60*time.Second); err != nil {
		t.stop()
		return nil, err
	}
	sim, err := proc.Start(filepath.Join(dir, "sim.log"), binary, "sim", "run", "--kubeconfig", t.kubeconfig)
	if err != nil {
		t.stop()
		return nil, err
	}
	t.others = append(t.others, sim)
	if t.scheduler, err = proc.Start(filepath.Join(dir, "scheduler.log"), filepath.Join(anchor, "bin", "kube-scheduler"),
		"--kubeconfig", filepath.Join(anchor, "scheduler.kubeconfig"), "--bind-address", "127.0.0.1", "--secure-port", "0"); err != nil {
		t.stop()
		return nil, err
	}
	return t, nil
}

// simNodes makes sure n simulated nodes exist, in three zones.
func (t *target) simNodes(n int) error {
	cmd := exec.Command(t.binary, "sim", "nodes", "--count", strconv.Itoa(n), "--zones", "3", "--kubeconfig", t.kubeconfig)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("sim nodes --count %d: %v\n%s", n, err, out)
	}
	return nil
}

func waitFile(path string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not written after %s", path, timeout)
}
