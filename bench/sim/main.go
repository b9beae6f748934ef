// Command sim measures simulated nodes on a running cluster: how long N nodes take
// to create and to all hold a lease, the CPU and RSS of chosen processes while they
// idle, how fast a burst of P bound pods reaches Running, and how fast their
// graceful deletion completes.
//
//	go run ./bench/sim -kubeconfig K -nodes 5000 -pods 10000 -pids PID[,PID] [-pause PID]
//
// With -pause, that process (a `minik8s sim run`) is stopped while the pods are
// created and continued after, so the Running rate is the controller's alone
// rather than the pace of creation.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/minik8s/minik8s/pkg/sim"
)

func main() {
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "cluster to measure")
	nodes := flag.Int("nodes", 5000, "simulated nodes")
	pods := flag.Int("pods", 10000, "pods in the burst")
	workers := flag.Int("workers", 64, "requests in flight while creating")
	idle := flag.Duration("idle", 60*time.Second, "idle window for CPU and RSS")
	pids := flag.String("pids", "", "processes whose CPU and RSS to report, comma-separated")
	pause := flag.Int("pause", 0, "process to stop while the pods are created (the controller)")
	keep := flag.Bool("keep", false, "leave the nodes and pods")
	ns := flag.String("namespace", "sim-bench", "namespace of the pods (created)")
	flag.Parse()
	if err := run(*kubeconfig, *ns, *nodes, *pods, *workers, *idle, parsePids(*pids), *pause, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(kubeconfig, ns string, nodes, pods, workers int, idle time.Duration, pids []int, pause int, keep bool) error {
	ctx := context.Background()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(sim.ClientConfig(cfg, "minik8s-bench-sim"))
	if err != nil {
		return err
	}
	m := sim.Nodes{Client: client, Parallel: workers}
	t := sim.NodeTemplate{Prefix: "bench-", CPU: resource.MustParse("32"), Memory: resource.MustParse("256Gi"),
		Pods: resource.MustParse("110"), EphemeralStorage: resource.MustParse("1Ti"), Zones: 3, KubeletVersion: "bench"}

	start := time.Now()
	res, err := m.Create(ctx, t, nodes)
	if err != nil {
		return err
	}
	created := time.Since(start)
	fmt.Printf("nodes: %d created (%d existed) in %s: %.0f nodes/s\n", res.Created, res.Existed, created.Round(time.Millisecond), float64(res.Created)/created.Seconds())
	for {
		l, err := client.CoordinationV1().Leases(corev1.NamespaceNodeLease).List(ctx, metav1.ListOptions{LabelSelector: sim.LabelSimulated + "=true"})
		if err != nil {
			return err
		}
		if len(l.Items) >= nodes {
			break
		}
		if time.Since(start) > 5*time.Minute {
			return fmt.Errorf("only %d of %d leases after 5m", len(l.Items), nodes)
		}
		time.Sleep(200 * time.Millisecond)
	}
	fmt.Printf("nodes: every lease exists %s after the first create\n", time.Since(start).Round(time.Millisecond))

	if len(pids) > 0 {
		time.Sleep(10 * time.Second) // let the creation burst settle
		before := sample(pids)
		time.Sleep(idle)
		after := sample(pids)
		for i, p := range pids {
			fmt.Printf("idle with %d nodes, pid %d: %.1f%% of a core over %s, RSS %d MiB\n",
				nodes, p, 100*(after[i].cpu-before[i].cpu)/idle.Seconds(), idle, after[i].rssKiB/1024)
		}
	}

	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	// A control plane without controllers (upstream.sh with WITH_CONTROLLERS=0)
	// creates no default service account, which pod admission wants.
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: ns}}
	if _, err := client.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	running := make(chan time.Time, pods)
	gone := make(chan time.Time, pods)
	stopWatch, err := observe(client, ns, running, gone)
	if err != nil {
		return err
	}
	defer stopWatch()

	if pause > 0 {
		if err := syscall.Kill(pause, syscall.SIGSTOP); err != nil {
			return fmt.Errorf("stop %d: %w", pause, err)
		}
		defer syscall.Kill(pause, syscall.SIGCONT) // also when the burst fails
	}
	before := sample(pids)
	burst := time.Now()
	err = each(pods, workers, func(i int) error {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p-%d", i)},
			Spec: corev1.PodSpec{NodeName: t.Name(i % nodes), Containers: []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10"}}}}
		_, err := client.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
		return err
	})
	if err != nil {
		return err
	}
	createdIn := time.Since(burst)
	fmt.Printf("pods: %d created in %s: %.0f pods/s\n", pods, createdIn.Round(time.Millisecond), float64(pods)/createdIn.Seconds())
	from := burst
	if pause > 0 {
		// Only the controller's work from here on is counted, not the creation.
		before = sample(pids)
		from = time.Now()
		if err := syscall.Kill(pause, syscall.SIGCONT); err != nil {
			return fmt.Errorf("continue %d: %w", pause, err)
		}
	}
	times, err := collect(running, pods, 5*time.Minute)
	if err != nil {
		return err
	}
	after := sample(pids)
	report("Running", from, times)
	for i, p := range pids {
		fmt.Printf("  pid %d used %.1fs of CPU (%.0f µs per pod), RSS %d MiB\n", p, after[i].cpu-before[i].cpu, 1e6*(after[i].cpu-before[i].cpu)/float64(pods), after[i].rssKiB/1024)
	}

	del := time.Now()
	err = each(pods, workers, func(i int) error {
		err := client.CoreV1().Pods(ns).Delete(ctx, fmt.Sprintf("p-%d", i), metav1.DeleteOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	})
	if err != nil {
		return err
	}
	times, err = collect(gone, pods, 5*time.Minute)
	if err != nil {
		return err
	}
	report("deleted (graceful, completed by the node)", del, times)

	if keep {
		return nil
	}
	start = time.Now()
	dres, err := m.Delete(ctx, func(n corev1.Node) bool { return strings.HasPrefix(n.Name, t.Prefix) })
	fmt.Printf("nodes: %d deleted with their leases in %s\n", dres.Nodes, time.Since(start).Round(time.Millisecond))
	_ = client.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
	return err
}

// observe reports the first time each pod is seen Running, and each deletion,
// through an informer so that a dropped watch loses nothing.
func observe(client kubernetes.Interface, ns string, running, gone chan<- time.Time) (stop func(), err error) {
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(ns))
	inf := factory.Core().V1().Pods().Informer()
	var mu sync.Mutex
	seen := map[string]bool{}
	saw := func(obj interface{}) {
		p := obj.(*corev1.Pod)
		mu.Lock()
		defer mu.Unlock()
		if p.Status.Phase == corev1.PodRunning && !seen[p.Name] {
			seen[p.Name] = true
			running <- time.Now()
		}
	}
	_, err = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    saw,
		UpdateFunc: func(_, obj interface{}) { saw(obj) },
		DeleteFunc: func(interface{}) { gone <- time.Now() },
	})
	if err != nil {
		return nil, err
	}
	done := make(chan struct{})
	factory.Start(done)
	if !cache.WaitForCacheSync(done, inf.HasSynced) {
		return nil, errors.New("pod informer did not sync")
	}
	return func() { close(done); factory.Shutdown() }, nil
}

func collect(ch <-chan time.Time, n int, timeout time.Duration) ([]time.Time, error) {
	out := make([]time.Time, 0, n)
	deadline := time.After(timeout)
	for len(out) < n {
		select {
		case t := <-ch:
			out = append(out, t)
		case <-deadline:
			return nil, fmt.Errorf("only %d of %d after %s", len(out), n, timeout)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out, nil
}

func report(what string, from time.Time, times []time.Time) {
	n := len(times)
	last := times[n-1].Sub(from)
	p10, p90 := times[n/10], times[n*9/10]
	fmt.Printf("pods: all %d %s %s after %s: %.0f pods/s overall, %.0f pods/s between the 10th and 90th percentile\n",
		n, what, last.Round(time.Millisecond), "the start", float64(n)/last.Seconds(), float64(n*8/10)/p90.Sub(p10).Seconds())
}

type usage struct {
	cpu    float64 // seconds
	rssKiB int64
}

func sample(pids []int) []usage {
	out := make([]usage, len(pids))
	tick := 100.0 // USER_HZ on Linux
	for i, p := range pids {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p)); err == nil {
			f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
			ut, _ := strconv.ParseFloat(f[11], 64)
			st, _ := strconv.ParseFloat(f[12], 64)
			out[i].cpu = (ut + st) / tick
		}
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p)); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
					out[i].rssKiB, _ = strconv.ParseInt(strings.Fields(v)[0], 10, 64)
				}
			}
		}
	}
	return out
}

func parsePids(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// each runs f(0..n-1) on w workers and returns the first error.
func each(n, w int, f func(i int) error) error {
	next := make(chan int)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for k := 0; k < w; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("%d of %d failed, the first: %w", len(errs), n, errors.Join(errs[0]))
	}
	return nil
}
