package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/minik8s/minik8s/bench/internal/proc"
)

// proxyImpl is one service proxy: how to start it in a sandbox, the
// nftables table (family ip) it programs, and how its log tells the time its
// own first full sync took.
type proxyImpl struct {
	name  string
	table string
	start func(c *cluster, sb *sandbox, kubeconfig, logFile string) (*exec.Cmd, error)
	// syncLine finds the first full sync's duration in the log.
	syncLine *regexp.Regexp
	prof     profiler // off for programs without profiles
}

// minik8sProxy is `minik8s proxy`, from a copy of the binary of its own so
// that its pages are not shared with the server's.
func minik8sProxy(binary string, prof profiler) proxyImpl {
	return proxyImpl{name: "minik8s", table: "minik8s-proxy", prof: prof,
		start: func(c *cluster, sb *sandbox, kubeconfig, logFile string) (*exec.Cmd, error) {
			own := filepath.Join(c.dir, "minik8s-proxy")
			if _, err := os.Stat(own); err != nil {
				if err := proc.CopyExecutable(binary, own); err != nil {
					return nil, err
				}
			}
			args := []string{"proxy", "--kubeconfig", kubeconfig, "--node-name", benchNode}
			if prof.on() {
				args = append(args, "--profile-port", fmt.Sprint(prof.port))
			}
			name, args := sb.command(own, args...)
			return proc.Start(logFile, name, args...)
		},
		syncLine: regexp.MustCompile(`msg="service rules installed" .*family=ip .*took=(\S+)`),
	}
}

// kubeProxy is upstream's kube-proxy in nftables mode, configured as a
// kubeadm node runs it except that conntrack sysctls are left alone (they
// are not per namespace) and local traffic is told by the node's pod range,
// as minik8s's proxy tells it.
func kubeProxy(path string) proxyImpl {
	return proxyImpl{name: "kube-proxy", table: "kube-proxy",
		start: func(c *cluster, sb *sandbox, kubeconfig, logFile string) (*exec.Cmd, error) {
			cfg := filepath.Join(c.dir, "kube-proxy-"+sb.name+".yaml")
			text := fmt.Sprintf(`apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: %s}
hostnameOverride: %s
mode: nftables
detectLocalMode: NodeCIDR
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
oomScoreAdj: 0
`, kubeconfig, benchNode)
			if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
				return nil, err
			}
			name, args := sb.command(path, "--config", cfg, "--v=2")
			return proc.Start(logFile, name, args...)
		},
		syncLine: regexp.MustCompile(`"SyncProxyRules complete".*ipFamily="IPv4".*elapsed="([^"]+)"`),
	}
}

type proxyResult struct {
	target             string
	services           int
	startLive, ownSync time.Duration
	installed          int
	startCPU           time.Duration
	changes, timeouts  int
	endpoint, service  latencySummary
	latencies          []time.Duration // of the kind of change being timed
	changeCPU          time.Duration
	rssMiB, peakMiB    float64
	overflows          int64
}

type proxyPlan struct {
	changes        int // endpoint changes
	serviceChanges int // Service port changes
	gap            time.Duration
	startTimeout   time.Duration
	liveTimeout    time.Duration
}

// measureProxy starts the proxy in a fresh sandbox with n Services in the
// API, times it until the last Service is in the kernel, then moves one
// endpoint of a Service at a time and times each move until the kernel has
// the new address, then likewise moves Service ports (80 ↔ 81) until the
// kernel has the new ClusterIP . port key.
func measureProxy(ctx context.Context, c *cluster, impl proxyImpl, slot, n int, plan proxyPlan) (proxyResult, error) {
	r := proxyResult{target: impl.name, services: n}
	sb, err := newSandbox(slot)
	if err != nil {
		return r, err
	}
	defer sb.remove()
	kubeconfig, err := c.kubeconfigVia(sb.hostIP)
	if err != nil {
		return r, err
	}
	p, err := newProbe(sb.path)
	if err != nil {
		return r, err
	}
	defer p.close()
	logFile := filepath.Join(c.dir, fmt.Sprintf("%s-%d.log", impl.name, n))
	last := c.services[n-1]

	start := time.Now()
	cmd, err := impl.start(c, sb, kubeconfig, logFile)
	if err != nil {
		return r, err
	}
	defer proc.Stop(cmd)
	pid := cmd.Process.Pid
	if impl.prof.on() {
		// From the start: the informers' lists and the first full sync.
		defer func(done <-chan struct{}) { <-done }(impl.prof.fetch(sb.path, fmt.Sprintf("proxy-start-%d", n), impl.prof.seconds))
	}
	for {
		ok, err := p.hasService(impl.table, last.clusterIP, last.port)
		if err != nil {
			return r, err
		}
		if ok {
			break
		}
		if exited(pid) {
			return r, fmt.Errorf("%s exited (log %s)", impl.name, logFile)
		}
		if time.Since(start) > plan.startTimeout {
			return r, fmt.Errorf("%s: Service %d not in the kernel after %s (log %s)", impl.name, n-1, plan.startTimeout, logFile)
		}
		time.Sleep(2 * time.Millisecond)
	}
	r.startLive = time.Since(start)
	r.startCPU = proc.CPUWithChildren(pid)
	for i := 0; i < n; i++ {
		if ok, err := p.hasService(impl.table, c.services[i].clusterIP, c.services[i].port); err == nil && ok {
			r.installed++
		}
	}
	fmt.Fprintf(os.Stderr, "  %s, %d services: all in the kernel %v after start, %d of %d found, %v CPU\n",
		impl.name, n, r.startLive.Round(time.Millisecond), r.installed, n, r.startCPU)

	mon, err := newMonitor(sb.path)
	if err != nil {
		return r, err
	}
	defer mon.close()
	time.Sleep(plan.gap)
	// Each change waits until live, then a gap: one change at a time.
	timeChange := func(pattern []byte, change func() error) error {
		seen := mon.watch(pattern)
		t0 := time.Now()
		if err := change(); err != nil {
			return err
		}
		select {
		case t := <-seen:
			r.latencies = append(r.latencies, t.Sub(t0))
		case <-time.After(plan.liveTimeout):
			r.timeouts++
		}
		time.Sleep(plan.gap)
		return nil
	}
	cpu0 := proc.CPUWithChildren(pid)
	for k := 0; k < plan.changes; k++ {
		i := (k*7919 + 13) % n
		addr := c.newEndpointAddr()
		a := addr.As4()
		if err := timeChange(a[:], func() error { return c.moveEndpoint(ctx, i, addr) }); err != nil {
			return r, err
		}
	}
	r.endpoint = summarize(r.latencies)
	r.latencies = nil
	for k := 0; k < plan.serviceChanges; k++ {
		i := (k*104729 + 7) % n
		port := uint16(servicePort + 1)
		if c.services[i].port != servicePort {
			port = servicePort
		}
		if err := timeChange(serviceKey(c.services[i].clusterIP, port)[:10], func() error {
			_, err := c.movePort(ctx, i)
			return err
		}); err != nil {
			return r, err
		}
	}
	r.service = summarize(r.latencies)
	r.latencies = nil
	r.changes = plan.changes + plan.serviceChanges
	r.changeCPU = (proc.CPUWithChildren(pid) - cpu0) / time.Duration(max(r.changes, 1))
	rss, peak, _ := proc.Memory(pid)
	r.rssMiB, r.peakMiB = float64(rss)/1024, float64(peak)/1024
	if impl.prof.on() {
		impl.prof.heap(sb.path, fmt.Sprintf("proxy-heap-%d", n))
	}
	r.overflows = mon.overflows.Load()
	// Read late: the program logs its sync after the kernel has it.
	r.ownSync = firstSync(logFile, impl.syncLine)
	fmt.Fprintf(os.Stderr, "  %s, %d services: endpoint changes p50 %v p99 %v (%d), service changes p50 %v p99 %v (%d), %d timed out, %v CPU each, RSS %.0f MiB (peak %.0f)\n",
		impl.name, n, r.endpoint.p50, r.endpoint.p99, r.endpoint.n, r.service.p50, r.service.p99, r.service.n, r.timeouts, r.changeCPU, r.rssMiB, r.peakMiB)
	return r, nil
}

// latencySummary is the median and 99th percentile of n timed changes.
type latencySummary struct {
	n        int
	p50, p99 time.Duration
}

func summarize(lat []time.Duration) latencySummary {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	s := latencySummary{n: len(lat)}
	if len(lat) > 0 {
		s.p50, s.p99 = lat[len(lat)/2], lat[(len(lat)*99)/100]
	}
	return s
}

// firstSync is the duration on the first log line matching re (0 if none).
func firstSync(logFile string, re *regexp.Regexp) time.Duration {
	f, err := os.Open(logFile)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			d, _ := time.ParseDuration(strings.Trim(m[1], `"`))
			return d
		}
	}
	return 0
}

// exited reports whether the process is gone or a zombie.
func exited(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return true
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] == 'Z'
}
