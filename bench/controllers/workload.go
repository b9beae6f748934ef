package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/minik8s/minik8s/bench/internal/proc"
)

const (
	benchNamespace = "bench-controllers"
	deploymentName = "web"
	imageV1        = "registry.k8s.io/pause:3.10.1"
	imageV2        = "registry.k8s.io/pause:3.10"
)

// phase is one measured step: its wall time and the CPU the controllers and the
// rest of the control plane spent on it.
type phase struct {
	wall           time.Duration
	controllersCPU time.Duration
	restCPU        time.Duration
	created, bound time.Duration // scale-up only: when every pod existed, and was bound
	// writes counts the updates of the Deployment and its ReplicaSets (spec and
	// status) during the step, as their watch saw them.
	writes int64
}

// result is one target's run.
type result struct {
	target                      string
	nodes, replicas             int
	scaleUp, rollout, nsDelete  phase
	idleRSS, idleAnon           float64 // MiB, controllers, before the workload
	loadedRSS, loadedAnon, peak float64 // MiB, controllers, with the pods running
}

// run measures one target: scale a Deployment from 0 to replicas, roll it to a
// new image, delete its namespace.
func run(ctx context.Context, t *target, nodes, replicas int, timeout time.Duration, prof profiler) (result, error) {
	res := result{target: t.name, nodes: nodes, replicas: replicas}
	cs, err := client(t.kubeconfig)
	if err != nil {
		return res, err
	}
	fmt.Fprintf(os.Stderr, "%s: %d simulated nodes\n", t.name, nodes)
	if err := t.simNodes(nodes); err != nil {
		return res, err
	}
	if err := waitNodesReady(ctx, cs, nodes, 2*time.Minute); err != nil {
		return res, err
	}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: benchNamespace}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return res, err
	}
	// The service account controller makes the default account pods need; its
	// arrival also says the controllers are up.
	if err := until(ctx, time.Minute, func() (bool, error) {
		_, err := cs.CoreV1().ServiceAccounts(benchNamespace).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	}); err != nil {
		return res, fmt.Errorf("no default service account in %s: %w", benchNamespace, err)
	}
	d := deployment()
	if d, err = cs.AppsV1().Deployments(benchNamespace).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		return res, err
	}
	if err := waitRollout(ctx, cs, d.Generation, 0, time.Minute); err != nil {
		return res, err
	}
	// Let start-up settle before the idle figure.
	time.Sleep(5 * time.Second)
	pid := t.controllersPID()
	rss, _, anon := proc.Memory(pid)
	res.idleRSS, res.idleAnon = mib(rss), mib(anon)

	counter, err := watchPods(ctx, cs)
	if err != nil {
		return res, err
	}
	defer counter.stop()
	writes, err := countWrites(ctx, cs)
	if err != nil {
		return res, err
	}
	defer writes.stop()

	fmt.Fprintf(os.Stderr, "%s: scale 0 → %d\n", t.name, replicas)
	stopProfiles := prof.cpu(ctx, t, cs, "scale-up")
	m := t.meter()
	w0 := writes.n.Load()
	start := time.Now()
	scale := &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: deploymentName, Namespace: benchNamespace}, Spec: autoscalingv1.ScaleSpec{Replicas: int32(replicas)}}
	if _, err := cs.AppsV1().Deployments(benchNamespace).UpdateScale(ctx, deploymentName, scale, metav1.UpdateOptions{}); err != nil {
		return res, err
	}
	if err := counter.waitRunning(imageV1, replicas, timeout); err != nil {
		return res, fmt.Errorf("scale up: %w", err)
	}
	res.scaleUp = m.done(start)
	res.scaleUp.writes = writes.n.Load() - w0
	stopProfiles()
	prof.heap(t, "with-pods")
	res.scaleUp.created, res.scaleUp.bound = counter.createdAll.Sub(start), counter.boundAll.Sub(start)
	rss, peak, anon := proc.Memory(pid)
	res.loadedRSS, res.loadedAnon, res.peak = mib(rss), mib(anon), mib(peak)
	fmt.Fprintf(os.Stderr, "  %v, controllers %v CPU\n", res.scaleUp.wall.Round(time.Millisecond), res.scaleUp.controllersCPU)

	fmt.Fprintf(os.Stderr, "%s: rolling update of %d\n", t.name, replicas)
	m = t.meter()
	w0 = writes.n.Load()
	start = time.Now()
	// As `kubectl set image` does it: a patch, which no status write conflicts with.
	patch := fmt.Sprintf(`{"spec":{"template":{"spec":{"containers":[{"name":"app","image":%q}]}}}}`, imageV2)
	cur, err := cs.AppsV1().Deployments(benchNamespace).Patch(ctx, deploymentName, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{})
	if err != nil {
		return res, err
	}
	stopProfiles = prof.cpu(ctx, t, cs, "rollout")
	if err := waitRollout(ctx, cs, cur.Generation, replicas, timeout); err != nil {
		return res, fmt.Errorf("rolling update: %w", err)
	}
	if err := counter.waitRunning(imageV2, replicas, timeout); err != nil {
		return res, fmt.Errorf("rolling update: %w", err)
	}
	res.rollout = m.done(start)
	res.rollout.writes = writes.n.Load() - w0
	stopProfiles()
	if _, p, _ := proc.Memory(pid); mib(p) > res.peak {
		res.peak = mib(p)
	}
	fmt.Fprintf(os.Stderr, "  %v, controllers %v CPU\n", res.rollout.wall.Round(time.Millisecond), res.rollout.controllersCPU)

	fmt.Fprintf(os.Stderr, "%s: delete namespace of %d pods\n", t.name, replicas)
	counter.stop()
	stopProfiles = prof.cpu(ctx, t, cs, "delete")
	m = t.meter()
	start = time.Now()
	if err := cs.CoreV1().Namespaces().Delete(ctx, benchNamespace, metav1.DeleteOptions{}); err != nil {
		return res, err
	}
	if err := until(ctx, timeout, func() (bool, error) {
		_, err := cs.CoreV1().Namespaces().Get(ctx, benchNamespace, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	}); err != nil {
		return res, fmt.Errorf("namespace deletion: %w", err)
	}
	res.nsDelete = m.done(start)
	stopProfiles()
	if _, p, _ := proc.Memory(pid); mib(p) > res.peak {
		res.peak = mib(p)
	}
	fmt.Fprintf(os.Stderr, "  %v, controllers %v CPU\n", res.nsDelete.wall.Round(time.Millisecond), res.nsDelete.controllersCPU)
	return res, nil
}

func deployment() *appsv1.Deployment {
	labels := map[string]string{"app": deploymentName}
	zero := int32(0)
	grace := int64(0)
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: deploymentName, Namespace: benchNamespace},
		Spec: appsv1.DeploymentSpec{
			Replicas: &zero,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					TerminationGracePeriodSeconds: &grace,
					Containers: []corev1.Container{{Name: "app", Image: imageV1,
						Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{}}}},
				},
			},
		},
	}
}

// meter snapshots the CPU time of the controllers and of the rest.
type meter struct {
	t                 *target
	controllers, rest time.Duration
}

func (t *target) meter() meter {
	m := meter{t: t, controllers: proc.CPU(t.controllersPID())}
	for _, p := range t.rest {
		m.rest += proc.CPU(p)
	}
	return m
}

func (m meter) done(start time.Time) phase {
	ph := phase{wall: time.Since(start), controllersCPU: proc.CPU(m.t.controllersPID()) - m.controllers}
	for _, p := range m.t.rest {
		ph.restCPU += proc.CPU(p)
	}
	ph.restCPU -= m.rest
	return ph
}

// waitRollout waits until the Deployment is rolled out as `kubectl rollout
// status` judges it: generation observed, every replica updated and available,
// no old replica left.
func waitRollout(ctx context.Context, cs kubernetes.Interface, generation int64, replicas int, timeout time.Duration) error {
	return until(ctx, timeout, func() (bool, error) {
		d, err := cs.AppsV1().Deployments(benchNamespace).Get(ctx, deploymentName, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		s := d.Status
		r := int32(replicas)
		return s.ObservedGeneration >= generation && s.UpdatedReplicas == r && s.Replicas == r && s.AvailableReplicas == r, nil
	})
}

// podCounter follows the namespace's pods: which exist, which are bound, which
// run which image.
type podCounter struct {
	mu         sync.Mutex
	pods       map[string]podState
	createdAll time.Time
	boundAll   time.Time
	target     int
	w          watch.Interface
	changed    chan struct{}
}

type podState struct {
	image          string
	bound, running bool
}

func watchPods(ctx context.Context, cs kubernetes.Interface) (*podCounter, error) {
	w, err := cs.CoreV1().Pods(benchNamespace).Watch(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	c := &podCounter{pods: map[string]podState{}, w: w, changed: make(chan struct{}, 1)}
	go c.follow()
	return c, nil
}

func (c *podCounter) stop() { c.w.Stop() }

func (c *podCounter) follow() {
	for ev := range c.w.ResultChan() {
		pod, ok := ev.Object.(*corev1.Pod)
		if !ok {
			continue
		}
		c.mu.Lock()
		if ev.Type == watch.Deleted || pod.DeletionTimestamp != nil {
			delete(c.pods, pod.Name)
		} else {
			st := podState{image: pod.Spec.Containers[0].Image, bound: pod.Spec.NodeName != "", running: pod.Status.Phase == corev1.PodRunning}
			c.pods[pod.Name] = st
			if c.target > 0 && c.createdAll.IsZero() && len(c.pods) >= c.target {
				c.createdAll = time.Now()
			}
			if c.target > 0 && c.boundAll.IsZero() && c.countLocked(func(s podState) bool { return s.bound }) >= c.target {
				c.boundAll = time.Now()
			}
		}
		c.mu.Unlock()
		select {
		case c.changed <- struct{}{}:
		default:
		}
	}
}

func (c *podCounter) countLocked(f func(podState) bool) int {
	n := 0
	for _, s := range c.pods {
		if f(s) {
			n++
		}
	}
	return n
}

// waitRunning waits until n pods of image run and no other pod is left.
func (c *podCounter) waitRunning(image string, n int, timeout time.Duration) error {
	c.mu.Lock()
	c.target = n
	c.mu.Unlock()
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		running := c.countLocked(func(s podState) bool { return s.running && s.image == image })
		total := len(c.pods)
		c.mu.Unlock()
		if running == n && total == n {
			return nil
		}
		select {
		case <-c.changed:
		case <-time.After(time.Second):
		case <-deadline:
			return fmt.Errorf("%d of %d pods running %s (%d pods) after %s", running, n, image, total, timeout)
		}
	}
}

// writeCounter counts the modifications of Deployments and ReplicaSets in the
// namespace.
type writeCounter struct {
	n  atomic.Int64
	ws []watch.Interface
}

func countWrites(ctx context.Context, cs kubernetes.Interface) (*writeCounter, error) {
	c := &writeCounter{}
	dw, err := cs.AppsV1().Deployments(benchNamespace).Watch(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	rw, err := cs.AppsV1().ReplicaSets(benchNamespace).Watch(ctx, metav1.ListOptions{})
	if err != nil {
		dw.Stop()
		return nil, err
	}
	c.ws = []watch.Interface{dw, rw}
	for _, w := range c.ws {
		go func() {
			for ev := range w.ResultChan() {
				if ev.Type == watch.Modified || ev.Type == watch.Added {
					c.n.Add(1)
				}
			}
		}()
	}
	return c, nil
}

func (c *writeCounter) stop() {
	for _, w := range c.ws {
		w.Stop()
	}
}

func until(ctx context.Context, timeout time.Duration, f func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		ok, err := f()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("not done after %s", timeout)
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
	ctx := context.Background()
	return until(ctx, timeout, func() (bool, error) {
		_, err := cs.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})
}

func waitNodesReady(ctx context.Context, cs kubernetes.Interface, n int, timeout time.Duration) error {
	return until(ctx, timeout, func() (bool, error) {
		l, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: "node.minik8s.io/simulated=true"})
		if err != nil {
			return false, nil
		}
		ready := 0
		for _, node := range l.Items {
			for _, c := range node.Status.Conditions {
				if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
					ready++
				}
			}
		}
		return ready >= n, nil
	})
}

func mib(kib int64) float64 { return float64(kib) / 1024 }
