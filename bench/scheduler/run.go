package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/minik8s/minik8s/bench/internal/proc"
)

type plan struct {
	nodes, pods []int
	scenarios   []string
	timeout     time.Duration
	binary      string
	profiles    profiler
}

// result is one run: a target, a cluster size, a scenario.
type result struct {
	target          string
	nodes, pods     int
	scenario        string
	podsPerSecond   float64
	p50, p99        time.Duration
	cpuPerPod       time.Duration
	rssMiB, peakMiB float64
	anonMiB         float64
	unbound         int
}

func (p plan) run(ctx context.Context, t *target, maxPods int) ([]result, error) {
	cs, err := client(t.kubeconfig)
	if err != nil {
		return nil, err
	}
	var out []result
	for _, n := range p.nodes {
		fmt.Fprintf(os.Stderr, "%s: %d simulated nodes\n", t.name, n)
		if err := t.simNodes(n); err != nil {
			return out, err
		}
		if err := waitNodesSchedulable(ctx, cs, n, 3*time.Minute); err != nil {
			return out, err
		}
		for _, pods := range p.pods {
			if maxPods > 0 && pods > maxPods {
				continue
			}
			for _, sc := range p.scenarios {
				fmt.Fprintf(os.Stderr, "%s: %d nodes, %d pods, %s\n", t.name, n, pods, sc)
				// Time only the pods: not the scheduler catching up with node or
				// pod changes (the last run's deletions) from before.
				waitIdle(t.schedulerPID())
				done := p.profiles.start(t, fmt.Sprintf("%d-%d-%s", n, pods, sc))
				r, err := runOnce(ctx, cs, t, n, pods, sc, p.timeout, done)
				if err != nil {
					return out, fmt.Errorf("%s %d nodes %d pods %s: %w", t.name, n, pods, sc, err)
				}
				fmt.Fprintf(os.Stderr, "  %.0f pods/s, p50 %v, p99 %v, %v CPU/pod, RSS %.0f MiB\n", r.podsPerSecond, r.p50, r.p99, r.cpuPerPod, r.rssMiB)
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// runOnce creates the pods with 32 workers, waits until all are bound and
// measures; then deletes them.
func runOnce(ctx context.Context, cs kubernetes.Interface, t *target, nodes, pods int, scenario string, timeout time.Duration, measured func()) (result, error) {
	res := result{target: t.name, nodes: nodes, pods: pods, scenario: scenario}
	ns := fmt.Sprintf("bench-%s-%d-%d", scenario, nodes, pods)
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return res, err
	}
	// Upstream's ServiceAccount admission refuses pods until the namespace's default
	// service account exists, and no controller manager runs there to make it.
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
	if _, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return res, err
	}
	// A retrying watch: a plain one that the server ends (or that reports an
	// error) midway would leave the run waiting for bindings it never hears of.
	l, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		return res, err
	}
	w, err := watchtools.NewRetryWatcherWithContext(ctx, l.ResourceVersion, &cache.ListWatch{
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			return cs.CoreV1().Pods(ns).Watch(ctx, o)
		},
	})
	if err != nil {
		return res, err
	}
	defer w.Stop()
	created := make([]time.Time, pods)
	bound := make([]time.Time, pods)
	var boundCount atomic.Int64
	allBound := make(chan struct{})
	go func() {
		for ev := range w.ResultChan() {
			if ev.Type != watch.Modified && ev.Type != watch.Added {
				continue
			}
			pod, ok := ev.Object.(*corev1.Pod)
			if !ok || pod.Spec.NodeName == "" {
				continue
			}
			var i int
			if _, err := fmt.Sscanf(pod.Name, "p-%d", &i); err != nil || i < 0 || i >= pods || !bound[i].IsZero() {
				continue
			}
			bound[i] = time.Now()
			if boundCount.Add(1) == int64(pods) {
				close(allBound)
				return
			}
		}
	}()
	pid := t.schedulerPID()
	cpu0 := proc.CPU(pid)
	start := time.Now()
	work := make(chan int)
	var wg sync.WaitGroup
	var createErr atomic.Value
	tmpl := podTemplates[scenario]
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				pod := tmpl(i, pods, nodes)
				created[i] = time.Now()
				if _, err := cs.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
					createErr.Store(err)
				}
			}
		}()
	}
	for i := 0; i < pods; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	if err, ok := createErr.Load().(error); ok {
		return res, fmt.Errorf("create pods: %w", err)
	}
	select {
	case <-allBound:
	case <-time.After(timeout):
		res.unbound = pods - int(boundCount.Load())
	}
	end := time.Now()
	res.cpuPerPod = (proc.CPU(pid) - cpu0) / time.Duration(pods)
	rss, peak, anon := proc.Memory(pid)
	res.rssMiB, res.peakMiB, res.anonMiB = float64(rss)/1024, float64(peak)/1024, float64(anon)/1024
	measured()
	var lat []time.Duration
	last := start
	for i := range bound {
		if bound[i].IsZero() {
			continue
		}
		lat = append(lat, bound[i].Sub(created[i]))
		if bound[i].After(last) {
			last = bound[i]
		}
	}
	_ = end
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) > 0 {
		res.p50, res.p99 = lat[len(lat)/2], lat[(len(lat)*99)/100]
		res.podsPerSecond = float64(len(lat)) / last.Sub(start).Seconds()
	}
	if err := deletePods(ctx, cs, ns); err != nil {
		return res, err
	}
	return res, nil
}

// deletePods removes a run's pods at once and waits until they are gone.
func deletePods(ctx context.Context, cs kubernetes.Interface, ns string) error {
	zero := int64(0)
	if err := cs.CoreV1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &zero}, metav1.ListOptions{}); err != nil {
		// Upstream's API server can time out deleting a thousand pods in one
		// request on a busy machine: delete what is left one by one.
		fmt.Fprintf(os.Stderr, "  delete collection in %s: %v; deleting one by one\n", ns, err)
		if err := deleteEach(ctx, cs, ns); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		l, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{Limit: 1})
		if err == nil && len(l.Items) == 0 {
			return nil
		}
		time.Sleep(500 * time.Millisecond)
	}
	return fmt.Errorf("pods of %s still there after 5 minutes", ns)
}

// deleteEach deletes the namespace's pods one at a time, 16 at once.
func deleteEach(ctx context.Context, cs kubernetes.Interface, ns string) error {
	l, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list pods of %s: %w", ns, err)
	}
	zero := int64(0)
	work := make(chan string)
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range work {
				_ = cs.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
			}
		}()
	}
	for _, p := range l.Items {
		work <- p.Name
	}
	close(work)
	wg.Wait()
	return nil
}

func client(kubeconfig string) (kubernetes.Interface, error) {
	rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	rc.QPS, rc.Burst = 100000, 100000
	rc.ContentType = "application/vnd.kubernetes.protobuf"
	rc.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	return kubernetes.NewForConfig(rc)
}

func waitAPI(kubeconfig string, timeout time.Duration) error {
	cs, err := client(kubeconfig)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if _, err := cs.Discovery().ServerVersion(); err == nil {
			if _, err := cs.CoreV1().Namespaces().Get(context.Background(), "default", metav1.GetOptions{}); err == nil {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("API server of %s not ready after %s", kubeconfig, timeout)
}

// waitNodesSchedulable waits until n simulated nodes are Ready and carry no
// not-ready or unreachable taint. The TaintNodesByCondition admission plugin
// gives every new Node the not-ready taint and the node lifecycle controller
// takes it off once the node is Ready; upstream's side runs without a
// controller manager, so the benchmark takes it off itself there, as that
// controller would.
func waitNodesSchedulable(ctx context.Context, cs kubernetes.Interface, n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		l, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: "node.minik8s.io/simulated=true", ResourceVersion: "0"})
		if err == nil {
			ok := 0
			for i := range l.Items {
				node := &l.Items[i]
				if !nodeReady(node) {
					continue
				}
				if kept := withoutConditionTaints(node.Spec.Taints); len(kept) != len(node.Spec.Taints) {
					node.Spec.Taints = kept
					// A conflict means someone else changed it: the next round sees it again.
					_, _ = cs.CoreV1().Nodes().Update(ctx, node, metav1.UpdateOptions{})
					continue
				}
				ok++
			}
			if ok >= n {
				return nil
			}
		}
		time.Sleep(time.Second)
	}
	return fmt.Errorf("fewer than %d simulated nodes Ready and untainted after %s", n, timeout)
}

func nodeReady(node *corev1.Node) bool {
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func withoutConditionTaints(taints []corev1.Taint) []corev1.Taint {
	var out []corev1.Taint
	for _, t := range taints {
		if t.Key != corev1.TaintNodeNotReady && t.Key != corev1.TaintNodeUnreachable {
			out = append(out, t)
		}
	}
	return out
}

// waitIdle waits until the process has used under 2 % of a core for a whole
// second (its informers have caught up with the node changes), or 60 s.
func waitIdle(pid int) {
	deadline := time.Now().Add(60 * time.Second)
	prev := proc.CPU(pid)
	for time.Now().Before(deadline) {
		time.Sleep(time.Second)
		cur := proc.CPU(pid)
		if cur-prev < 20*time.Millisecond {
			return
		}
		prev = cur
	}
}
