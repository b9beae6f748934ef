// Command apiserver benchmarks the minik8s API server against upstream's, side by side
// in one run, and prints the figures issue #3 asks for: time to ready, idle RSS,
// CRUD throughput and latency of 10,000 ConfigMaps with 50 protobuf workers, list of
// all of them, and watch delivery latency with 1,000 watchers.
//
//	go run ./bench/apiserver -binary bin/minik8s -upstream ../shared/anchor/upstream.sh
//
// -webhook-configs N registers N admission webhook configurations that match no
// request of the benchmark, to measure what matching costs a request.
//
// -as-serviceaccount runs the CRUD phases as a service account bound to the edit
// role instead of the cluster admin, so that every request goes through RBAC.
//
// -authz-cost R measures only what authorization costs minik8s: R rounds of the
// CRUD phases as that service account against a server with every request
// allowed and one with its default authorizers, alternately, and the throughput
// lost to authorization.
package main

import (
	"bufio"
	"crypto/tls"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	binary := flag.String("binary", "bin/minik8s", "minik8s binary")
	upstream := flag.String("upstream", "", "path of ../shared/anchor/upstream.sh (empty: minik8s only)")
	anchor := flag.String("anchor", "/var/tmp/minik8s-anchor", "upstream.sh's ANCHOR directory")
	n := flag.Int("n", 10000, "ConfigMaps per phase")
	workers := flag.Int("workers", 50, "concurrent client-go workers")
	watchers := flag.Int("watchers", 1000, "concurrent watches")
	events := flag.Int("events", 100, "events delivered to every watcher")
	starts := flag.Int("starts", 5, "start-ups to take the median of")
	idle := flag.Duration("idle", 30*time.Second, "idle time before reading RSS")
	hooks := flag.Int("webhook-configs", 0, "admission webhook configurations (half mutating, half validating) to register first, matching none of the benchmark's requests")
	asSA := flag.Bool("as-serviceaccount", false, "run the CRUD phases as a service account bound to edit (every request through RBAC) instead of the cluster admin")
	authzRounds := flag.Int("authz-cost", 0, "only measure what authorization costs: this many rounds of the CRUD phases as a service account, against minik8s with --authorization-mode=AlwaysAllow and with its default Node,RBAC, alternately")
	flag.Parse()
	webhookConfigs = *hooks
	if *authzRounds > 0 {
		if err := authzCost(os.Stdout, *binary, *authzRounds, *n, *workers); err != nil {
			fatal(err)
		}
		return
	}

	var results []*target
	m, err := benchMinik8s(*binary, *starts, *idle, *n, *workers, *watchers, *events, *asSA)
	if err != nil {
		fatal(err)
	}
	results = append(results, m)
	if *upstream != "" {
		u, err := benchUpstream(*upstream, *anchor, *starts, *idle, *n, *workers, *watchers, *events, *asSA)
		if err != nil {
			fatal(err)
		}
		results = append(results, u)
	}
	report(results, *n, *workers, *watchers)
}

// target is everything measured of one API server.
type target struct {
	name          string
	readyFresh    time.Duration
	readyExisting time.Duration
	rssKiB        int64
	phases        []phase
}

func benchMinik8s(binary string, starts int, idle time.Duration, n, workers, watchers, events int, asSA bool) (*target, error) {
	t := &target{name: "minik8s"}
	dir, err := os.MkdirTemp("", "minik8s-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	port := 16600
	var fresh, existing []time.Duration
	for i := 0; i < starts; i++ {
		os.RemoveAll(filepath.Join(dir, "data"))
		d, p, err := startMinik8s(binary, dir, port)
		if err != nil {
			return nil, err
		}
		fresh = append(fresh, d)
		stop(p)
		d, p, err = startMinik8s(binary, dir, port)
		if err != nil {
			return nil, err
		}
		existing = append(existing, d)
		stop(p)
	}
	t.readyFresh, t.readyExisting = median(fresh), median(existing)
	os.RemoveAll(filepath.Join(dir, "data"))
	_, p, err := startMinik8s(binary, dir, port)
	if err != nil {
		return nil, err
	}
	defer stop(p)
	time.Sleep(idle)
	t.rssKiB = rss(p.Process.Pid)
	kc := filepath.Join(dir, "data", "kubeconfig.yaml")
	if t.phases, err = crud(kc, n, workers, asSA); err != nil {
		return nil, err
	}
	w, err := watchLatency(kc, watchers, events, 50*time.Millisecond)
	if err != nil {
		return nil, err
	}
	t.phases = append(t.phases, w)
	return t, nil
}

// startMinik8s starts the server and times process start to /readyz ok.
func startMinik8s(binary, dir string, port int, extra ...string) (time.Duration, *exec.Cmd, error) {
	log, err := os.OpenFile(filepath.Join(dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, nil, err
	}
	args := append([]string{"server", "--disable-agent", "--data-dir", filepath.Join(dir, "data"), "--https-listen-port", strconv.Itoa(port)}, extra...)
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, nil, err
	}
	if err := waitReady(fmt.Sprintf("https://127.0.0.1:%d/readyz", port), 30*time.Second); err != nil {
		stop(cmd)
		return 0, nil, err
	}
	return time.Since(t0), cmd, nil
}

func waitReady(url string, timeout time.Duration) error {
	c := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if resp, err := c.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after %s", url, timeout)
}

func stop(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func benchUpstream(script, anchor string, starts int, idle time.Duration, n, workers, watchers, events int, asSA bool) (*target, error) {
	t := &target{name: "upstream"}
	// Leave no upstream control plane behind to eat the machine's CPU.
	defer exec.Command(script, "stop").Run()
	var fresh []time.Duration
	re := regexp.MustCompile(`ready in ([0-9.]+) s`)
	for i := 0; i < starts; i++ {
		_ = exec.Command(script, "stop").Run()
		cmd := exec.Command(script, "start")
		cmd.Env = append(os.Environ(), "WITH_CONTROLLERS=0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("upstream start: %v\n%s", err, out)
		}
		m := re.FindSubmatch(out)
		if m == nil {
			return nil, fmt.Errorf("upstream start printed no ready time:\n%s", out)
		}
		f, _ := strconv.ParseFloat(string(m[1]), 64)
		fresh = append(fresh, time.Duration(f*float64(time.Second)))
	}
	t.readyFresh = median(fresh)
	time.Sleep(idle)
	for _, name := range []string{"kube-apiserver", "etcd"} {
		data, err := os.ReadFile(filepath.Join(anchor, "run", name+".pid"))
		if err != nil {
			return nil, err
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
		t.rssKiB += rss(pid)
	}
	kc := filepath.Join(anchor, "kubeconfig")
	var err error
	if t.phases, err = crud(kc, n, workers, asSA); err != nil {
		return nil, err
	}
	w, err := watchLatency(kc, watchers, events, 50*time.Millisecond)
	if err != nil {
		return nil, err
	}
	t.phases = append(t.phases, w)
	return t, nil
}

// rss reads a process's resident set in KiB.
func rss(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "VmRSS:") {
			v, _ := strconv.ParseInt(strings.Fields(sc.Text())[1], 10, 64)
			return v
		}
	}
	return 0
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func report(ts []*target, n, workers, watchers int) {
	fmt.Printf("\nAPI server benchmark: %d ConfigMaps, %d protobuf workers, %d watchers (%s)\n\n", n, workers, watchers, time.Now().Format(time.RFC3339))
	row := func(metric string, vals []string, ratio string) {
		fmt.Printf("%-34s", metric)
		for _, v := range vals {
			fmt.Printf("%18s", v)
		}
		fmt.Printf("%12s\n", ratio)
	}
	var names []string
	for _, t := range ts {
		names = append(names, t.name)
	}
	row("metric", names, "ratio")
	cmp := func(metric string, f func(*target) float64, format func(float64) string, better string) {
		var vals []string
		for _, t := range ts {
			vals = append(vals, format(f(t)))
		}
		ratio := ""
		if len(ts) == 2 && f(ts[1]) != 0 {
			ratio = fmt.Sprintf("%.2fx", f(ts[0])/f(ts[1]))
			if better != "" {
				ratio += " " + better
			}
		}
		row(metric, vals, ratio)
	}
	ms := func(v float64) string { return fmt.Sprintf("%.1f ms", v) }
	cmp("ready after start (fresh)", func(t *target) float64 { return float64(t.readyFresh.Microseconds()) / 1000 }, ms, "")
	// upstream.sh starts on a fresh etcd every time: that figure is minik8s' alone.
	cmp("ready after start (existing data)", func(t *target) float64 { return float64(t.readyExisting.Microseconds()) / 1000 }, func(v float64) string {
		if v == 0 {
			return "not measured"
		}
		return ms(v)
	}, "")
	cmp("idle RSS (etcd included)", func(t *target) float64 { return float64(t.rssKiB) / 1024 }, func(v float64) string { return fmt.Sprintf("%.1f MiB", v) }, "")
	for i := range ts[0].phases {
		name := ts[0].phases[i].name
		get := func(t *target) phase {
			if i < len(t.phases) {
				return t.phases[i]
			}
			return phase{}
		}
		if !strings.HasPrefix(name, "list") && !strings.HasPrefix(name, "watch") {
			cmp(name+" req/s", func(t *target) float64 { return get(t).rate() }, func(v float64) string { return fmt.Sprintf("%.0f/s", v) }, "")
		}
		cmp(name+" p50", func(t *target) float64 { return float64(get(t).pct(0.5).Microseconds()) / 1000 }, ms, "")
		cmp(name+" p99", func(t *target) float64 { return float64(get(t).pct(0.99).Microseconds()) / 1000 }, ms, "")
		cmp(name+" errors", func(t *target) float64 { return float64(get(t).errors) }, func(v float64) string { return fmt.Sprintf("%.0f", v) }, "")
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}
