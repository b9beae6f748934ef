package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/minik8s/minik8s/bench/internal/proc"
	"github.com/minik8s/minik8s/pkg/controller/manager"
)

// target is one control plane whose controllers are measured.
type target struct {
	name       string
	kubeconfig string
	binary     string
	dir        string
	// controllers is the process the controllers run in.
	controllers *exec.Cmd
	// rest are the other control-plane processes (API server, etcd, scheduler),
	// measured together as "the rest of the control plane".
	rest   []int
	others []*exec.Cmd
	stopFn func()
}

func (t *target) controllersPID() int { return t.controllers.Process.Pid }

func (t *target) stop() {
	proc.Stop(t.controllers)
	for i := len(t.others) - 1; i >= 0; i-- {
		proc.Stop(t.others[i])
	}
	if t.stopFn != nil {
		t.stopFn()
	}
	os.RemoveAll(t.dir)
}

// newMinik8s starts `minik8s server --disable-agent` with every controller
// turned off (its scheduler and simulated-node controller run inside) and
// `minik8s controller-manager` beside it, from its own copy of the binary so
// its memory is its own.
func newMinik8s(binary string, pprofPort int) (*target, error) {
	dir, err := os.MkdirTemp("", "minik8s-bench-controllers-")
	if err != nil {
		return nil, err
	}
	t := &target{name: "minik8s", dir: dir, binary: binary, kubeconfig: filepath.Join(dir, "data", "kubeconfig.yaml")}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	var all []string
	for _, d := range manager.Descriptors() {
		all = append(all, d.Name)
	}
	srv, err := proc.Start(filepath.Join(dir, "server.log"), binary, "server", "--disable-agent",
		"--disable-controllers", strings.Join(all, ","),
		"--data-dir", filepath.Join(dir, "data"), "--https-listen-port", strconv.Itoa(port))
	if err != nil {
		return nil, err
	}
	t.others = append(t.others, srv)
	t.rest = []int{srv.Process.Pid}
	if err := waitFile(t.kubeconfig, 60*time.Second); err != nil {
		t.stop()
		return nil, fmt.Errorf("minik8s server: %w (log in %s)", err, dir)
	}
	if err := waitAPI(t.kubeconfig, 60*time.Second); err != nil {
		t.stop()
		return nil, err
	}
	own := filepath.Join(dir, "minik8s-controller-manager")
	if err := proc.CopyExecutable(binary, own); err != nil {
		t.stop()
		return nil, err
	}
	args := []string{"controller-manager", "--kubeconfig", t.kubeconfig}
	if pprofPort > 0 {
		args = append(args, "--pprof-port", strconv.Itoa(pprofPort))
	}
	if t.controllers, err = proc.Start(filepath.Join(dir, "controller-manager.log"), own, args...); err != nil {
		t.stop()
		return nil, err
	}
	return t, nil
}

// newUpstream runs upstream.sh start (etcd, kube-apiserver, kube-scheduler,
// kube-controller-manager) in an ANCHOR directory of its own, on free ports, with
// the binaries of the shared anchor, and `minik8s sim run` for the simulated nodes.
func newUpstream(binary, script, anchorBin string) (*target, error) {
	dir, err := os.MkdirTemp("", "minik8s-bench-controllers-upstream-")
	if err != nil {
		return nil, err
	}
	anchor := filepath.Join(dir, "anchor")
	if err := os.MkdirAll(anchor, 0o755); err != nil {
		return nil, err
	}
	if err := os.Symlink(anchorBin, filepath.Join(anchor, "bin")); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	etcdPort, err := freePortPair()
	if err != nil {
		return nil, err
	}
	t := &target{name: "upstream", dir: dir, binary: binary, kubeconfig: filepath.Join(anchor, "kubeconfig")}
	env := append(os.Environ(), "ANCHOR="+anchor, "PORT="+strconv.Itoa(port), "ETCD_PORT="+strconv.Itoa(etcdPort), "WITH_CONTROLLERS=1")
	start := exec.Command("bash", script, "start")
	start.Env = env
	if out, err := start.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("upstream.sh start: %v\n%s", err, out)
	}
	t.stopFn = func() {
		stop := exec.Command("bash", script, "stop")
		stop.Env = env
		_ = stop.Run()
	}
	pids := map[string]int{}
	for _, n := range []string{"etcd", "kube-apiserver", "kube-scheduler", "kube-controller-manager"} {
		data, err := os.ReadFile(filepath.Join(anchor, "run", n+".pid"))
		if err != nil {
			t.stop()
			return nil, fmt.Errorf("upstream %s: %w", n, err)
		}
		pids[n], _ = strconv.Atoi(strings.TrimSpace(string(data)))
	}
	t.rest = []int{pids["kube-apiserver"], pids["etcd"], pids["kube-scheduler"]}
	// The controller manager was started by the script; adopt its process so
	// it is measured (and stopped by the script).
	p, err := os.FindProcess(pids["kube-controller-manager"])
	if err != nil {
		t.stop()
		return nil, err
	}
	t.controllers = &exec.Cmd{Process: p}
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
	return t, nil
}

// simNodes makes sure n simulated nodes exist.
func (t *target) simNodes(n int) error {
	cmd := exec.Command(t.binary, "sim", "nodes", "--count", strconv.Itoa(n), "--zones", "3", "--kubeconfig", t.kubeconfig)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("sim nodes --count %d: %v\n%s", n, err, out)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// freePortPair finds a port whose successor is free too (etcd's client and peer ports).
func freePortPair() (int, error) {
	for i := 0; i < 20; i++ {
		p, err := freePort()
		if err != nil {
			return 0, err
		}
		if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p+1))); err == nil {
			l.Close()
			return p, nil
		}
	}
	return 0, fmt.Errorf("no two consecutive free ports")
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
