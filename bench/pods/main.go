// Command pods benchmarks the node agent: pod start-up latency (create → Running
// seen on a watch, image present) for 1, 10 and 100 pods created at once, and the
// idle RSS of a separate `minik8s agent` process (containerd excluded); then the
// same pods started straight through CRI, as the floor the runtime sets. Run as root.
//
//	go run ./bench/pods -binary bin/minik8s
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/minik8s/minik8s/test/e2e/framework"
	"github.com/minik8s/minik8s/test/images/testimages"
)

func main() {
	binary := flag.String("binary", "bin/minik8s", "minik8s binary")
	counts := flag.String("counts", "1,10,100", "pods created at once, per round")
	rounds := flag.Int("rounds", 3, "rounds per count (latencies are pooled)")
	idle := flag.Duration("idle", 30*time.Second, "idle time before reading the agent's RSS")
	floor := flag.Int("floor", 10, "pods per round of the runtime-alone measurement (0: skip it)")
	flag.Parse()
	if err := run(*binary, *counts, *rounds, *idle, *floor); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// run measures; floorPods is how many pods each round of the runtime-alone
// measurement starts (0: none).
func run(binary, counts string, rounds int, idle time.Duration, floorPods int) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "minik8s-podbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	imgDir := filepath.Join(dir, "images")
	if _, err := testimages.Build(ctx, testimages.Options{OutDir: imgDir, Only: []string{"busybox"}}); err != nil {
		return fmt.Errorf("build images: %w", err)
	}
	serverDir := filepath.Join(dir, "server")
	agentDir := filepath.Join(dir, "node")
	if err := os.MkdirAll(filepath.Join(agentDir, "agent", "images"), 0o755); err != nil {
		return err
	}
	if err := copyFile(filepath.Join(imgDir, "busybox.tar"), filepath.Join(agentDir, "agent", "images", "busybox.tar")); err != nil {
		return err
	}
	port := 16700
	server := exec.Command(binary, "server", "--disable-agent", "--data-dir", serverDir, "--https-listen-port", strconv.Itoa(port))
	if err := start(server, filepath.Join(dir, "server.log")); err != nil {
		return err
	}
	defer stop(server)
	kc := filepath.Join(serverDir, "kubeconfig.yaml")
	cs, err := waitClient(kc)
	if err != nil {
		return err
	}
	token, err := os.ReadFile(filepath.Join(serverDir, "server", "node-token"))
	if err != nil {
		return err
	}
	// The agent runs from its own copy of the binary, as on another machine: pages of
	// one file mapped by two processes count in both RSS figures and are never
	// released by either.
	agentBinary := filepath.Join(dir, "minik8s-agent")
	if err := copyFile(binary, agentBinary); err != nil {
		return err
	}
	if err := os.Chmod(agentBinary, 0o755); err != nil {
		return err
	}
	agent := exec.Command(agentBinary, "agent", "--server", fmt.Sprintf("https://127.0.0.1:%d", port), "--token", strings.TrimSpace(string(token)),
		"--data-dir", agentDir, "--node-name", "bench", "--cni-bridge", "mkbench", "--kubelet-port", "10290")
	if err := start(agent, filepath.Join(dir, "agent.log")); err != nil {
		return err
	}
	defer func() {
		// Let the agent remove the last round's containers before it stops.
		waitRuntimeEmpty(filepath.Join(agentDir, "agent", "containerd", "containerd.sock"), time.Minute)
		stop(agent)
		framework.KillShims(filepath.Join(agentDir, "agent", "containerd", "containerd.sock"))
		_ = exec.Command("ip", "link", "del", "mkbench").Run()
		_ = exec.Command("nft", "delete", "table", "ip", "minik8s-mkbench").Run()
	}()
	if err := waitNodeReady(ctx, cs, "bench"); err != nil {
		return err
	}
	sock := filepath.Join(agentDir, "agent", "containerd", "containerd.sock")
	time.Sleep(idle)
	idleRSS := rss(agent.Process.Pid)
	// Warm up: the busybox image is imported and one pod has run.
	if _, _, err := round(ctx, cs, 1, sock); err != nil {
		return err
	}
	fmt.Printf("\nPod start-up latency (create → Running seen on a watch), %s\n\n", time.Now().Format(time.RFC3339))
	fmt.Printf("%-10s %8s %10s %10s %10s %14s\n", "pods", "samples", "p50", "p99", "max", "CPU per pod")
	for _, c := range strings.Split(counts, ",") {
		n, _ := strconv.Atoi(c)
		var lat []time.Duration
		var ticks int64
		for r := 0; r < rounds; r++ {
			l, t, err := round(ctx, cs, n, sock)
			if err != nil {
				return err
			}
			lat = append(lat, l...)
			ticks += t
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		fmt.Printf("%-10d %8d %10s %10s %10s %14s\n", n, len(lat), pct(lat, 0.5), pct(lat, 0.99), lat[len(lat)-1].Round(time.Millisecond),
			perPod(ticks, len(lat)).Round(time.Millisecond))
	}
	agentRSS := rss(agent.Process.Pid)
	fmt.Printf("\nagent RSS (separate process, containerd excluded): %.1f MiB idle %s after start; %.1f MiB just after the pod rounds\n",
		float64(idleRSS)/1024, idle, float64(agentRSS)/1024)
	if floorPods <= 0 {
		return nil
	}
	// The runtime floor needs the node's containerd to itself: the agent would
	// remove sandboxes of pods it does not know.
	waitRuntimeEmpty(sock, time.Minute)
	stop(agent)
	framework.KillShims(sock)
	f, err := runtimeFloor(ctx, agentDir, filepath.Join(dir, "containerd-floor.log"), floorPods, rounds)
	if err != nil {
		return fmt.Errorf("runtime floor: %w", err)
	}
	fmt.Printf("\nRuntime alone (CRI straight to the node's containerd: sandbox, then create and start one container; no API server, no agent)\n\n")
	fmt.Printf("%-10s %8s %10s %10s %10s %14s %22s\n", "pods", "samples", "p50", "p99", "max", "CPU per pod", "containerd's own CPU")
	fmt.Printf("%-10d %8d %10s %10s %10s %14s %22s\n", floorPods, len(f.lat), pct(f.lat, 0.5), pct(f.lat, 0.99), f.lat[len(f.lat)-1].Round(time.Millisecond),
		f.cpuPerPod.Round(time.Millisecond), f.containerd.Round(time.Millisecond))
	return nil
}

// round creates n pods at once and returns each one's time to Running, and the
// machine's busy CPU ticks until the last one ran.
func round(ctx context.Context, cs kubernetes.Interface, n int, sock string) ([]time.Duration, int64, error) {
	ns := "default"
	pods := cs.CoreV1().Pods(ns)
	prefix := fmt.Sprintf("b%d-", time.Now().UnixNano()%1000000)
	w, err := pods.Watch(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, 0, err
	}
	defer w.Stop()
	busy0 := cpuTicks()
	var mu sync.Mutex
	sent := map[string]time.Time{}
	var wg sync.WaitGroup
	zero := int64(0)
	f := false
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			name := prefix + strconv.Itoa(i)
			p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"bench": strings.TrimSuffix(prefix, "-")}},
				Spec: corev1.PodSpec{NodeName: "bench", TerminationGracePeriodSeconds: &zero, AutomountServiceAccountToken: &f,
					Containers: []corev1.Container{{Name: "c", Image: "busybox:1.36", ImagePullPolicy: corev1.PullIfNotPresent,
						Command: []string{"sleep", "3600"}}}}}
			mu.Lock()
			sent[name] = time.Now()
			mu.Unlock()
			if _, err := pods.Create(ctx, p, metav1.CreateOptions{}); err != nil {
				fmt.Fprintln(os.Stderr, "create:", err)
			}
		}(i)
	}
	var lat []time.Duration
	seen := map[string]bool{}
	deadline := time.After(5 * time.Minute)
	for len(seen) < n {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				return nil, 0, fmt.Errorf("watch closed")
			}
			p, ok := ev.Object.(*corev1.Pod)
			if !ok || ev.Type == watch.Deleted || !strings.HasPrefix(p.Name, prefix) || seen[p.Name] || p.Status.Phase != corev1.PodRunning {
				continue
			}
			now := time.Now()
			mu.Lock()
			t := sent[p.Name]
			mu.Unlock()
			seen[p.Name] = true
			lat = append(lat, now.Sub(t))
		case <-deadline:
			return nil, 0, fmt.Errorf("only %d of %d pods running after 5 minutes", len(seen), n)
		}
	}
	busy := cpuTicks() - busy0
	wg.Wait()
	if err := pods.DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &zero}, metav1.ListOptions{LabelSelector: "bench=" + strings.TrimSuffix(prefix, "-")}); err != nil {
		return nil, 0, err
	}
	for {
		l, err := pods.List(ctx, metav1.ListOptions{LabelSelector: "bench=" + strings.TrimSuffix(prefix, "-")})
		if err != nil {
			return nil, 0, err
		}
		if len(l.Items) == 0 {
			// Start the next round on a quiet node: the agent removes the last
			// round's containers and sandboxes after the API forgot the pods.
			waitRuntimeEmpty(sock, time.Minute)
			return lat, busy, nil
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func waitRuntimeEmpty(sock string, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		out, err := exec.Command("ctr", "-a", sock, "-n", "k8s.io", "containers", "ls", "-q").Output()
		if err != nil || strings.TrimSpace(string(out)) == "" {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func pct(s []time.Duration, q float64) time.Duration {
	return s[int(q*float64(len(s)-1))].Round(time.Millisecond)
}

func start(cmd *exec.Cmd, logFile string) error {
	f, err := os.Create(logFile)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	return cmd.Start()
}

func stop(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
	}
}

func waitClient(kubeconfig string) (kubernetes.Interface, error) {
	for i := 0; i < 300; i++ {
		if cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig); err == nil {
			cfg.QPS, cfg.Burst = -1, 1000
			cs, err := kubernetes.NewForConfig(cfg)
			if err == nil {
				if _, err := cs.Discovery().ServerVersion(); err == nil {
					return cs, nil
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil, fmt.Errorf("server not ready")
}

func waitNodeReady(ctx context.Context, cs kubernetes.Interface, name string) error {
	for i := 0; i < 600; i++ {
		n, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			for _, c := range n.Status.Conditions {
				if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
					return nil
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("node %s not ready", name)
}

func rss(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			v, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return v
		}
	}
	return 0
}

// copyFile copies and syncs: a binary installed on a node sits clean on disk, and
// pages of a file still dirty in the page cache cannot be dropped, which would
// count against the process that maps them.
func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
