// Package podgc deletes pods nobody else will, as upstream's pod garbage
// collector does, every CheckPeriod: terminated pods beyond
// --terminated-pod-gc-threshold (evicted and oldest first), pods bound to
// nodes that no longer exist (after a quarantine and a live check), pods being
// deleted that never got a node, and pods being deleted on out-of-service
// nodes. A pod that has not finished is first marked Failed (orphans with the
// DisruptionTarget condition, reason DeletionByPodGC), then force-deleted.
package podgc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// Upstream's defaults.
const (
	// Name is the controller's name, as upstream's.
	Name = "pod-garbage-collector-controller"
	// DefaultTerminatedPodThreshold is --terminated-pod-gc-threshold's default.
	DefaultTerminatedPodThreshold = 12500
	// DefaultCheckPeriod is how often the collector looks.
	DefaultCheckPeriod = 20 * time.Second
	// DefaultQuarantine is how long a node must be missing before its pods go.
	DefaultQuarantine = 40 * time.Second
)

// key is the one item in the queue: a collection pass.
const key = "gc"

// Config wires the collector.
type Config struct {
	Client kubernetes.Interface
	Pods   coreinformers.PodInformer
	Nodes  coreinformers.NodeInformer
	// TerminatedPodThreshold is how many terminated pods may exist before the
	// oldest are deleted; 0 turns that collection off.
	TerminatedPodThreshold int
	// CheckPeriod and Quarantine: 0 means upstream's 20s and 40s.
	CheckPeriod, Quarantine time.Duration
	// Clock is the collector's time; nil means the real one.
	Clock clock.PassiveClock
	Log   *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil || c.Pods == nil || c.Nodes == nil:
		return errors.New("pod garbage collector: a client and pod and node informers are required")
	case c.TerminatedPodThreshold < 0:
		return fmt.Errorf("pod garbage collector: terminated pod threshold must not be negative, not %d", c.TerminatedPodThreshold)
	case c.CheckPeriod < 0 || c.Quarantine < 0:
		return errors.New("pod garbage collector: periods must not be negative")
	}
	return nil
}

// Controller collects pods.
type Controller struct {
	cfg        Config
	pods       cache.Indexer
	nodes      cache.Indexer
	synced     []cache.InformerSynced
	queue      workqueue.TypedRateLimitingInterface[string]
	quarantine quarantine
	clock      clock.PassiveClock
	log        *slog.Logger
}

// New wires the collector to its informers.
func New(cfg Config) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.CheckPeriod == 0 {
		cfg.CheckPeriod = DefaultCheckPeriod
	}
	if cfg.Quarantine == 0 {
		cfg.Quarantine = DefaultQuarantine
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	podInf, nodeInf := cfg.Pods.Informer(), cfg.Nodes.Informer()
	c := &Controller{cfg: cfg, pods: podInf.GetIndexer(), nodes: nodeInf.GetIndexer(), queue: worker.NewQueue("pod_gc"),
		quarantine: quarantine{since: map[string]time.Time{}}, clock: cfg.Clock, log: log}
	// The collector polls; registering handlers is what lets it wait for the caches.
	podReg, err := podInf.AddEventHandler(cache.ResourceEventHandlerFuncs{})
	if err != nil {
		return nil, err
	}
	nodeReg, err := nodeInf.AddEventHandler(cache.ResourceEventHandlerFuncs{})
	if err != nil {
		return nil, err
	}
	c.synced = []cache.InformerSynced{podReg.HasSynced, nodeReg.HasSynced}
	return c, nil
}

// Run collects every CheckPeriod until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	c.queue.Add(key)
	return worker.Run(ctx, worker.Config[string]{Name: Name, Queue: c.queue, Synced: c.synced, Workers: 1, Sync: c.sync, Log: c.log})
}

// Collect runs one collection pass.
func (c *Controller) Collect(ctx context.Context) error { return c.collect(ctx) }

func (c *Controller) sync(ctx context.Context, _ string) error {
	if err := c.collect(ctx); err != nil {
		c.log.Info("pod garbage collection", "err", err)
	}
	return worker.RequeueAfter(c.cfg.CheckPeriod)
}

// collect is one pass over every pod.
func (c *Controller) collect(ctx context.Context) error {
	var pods []*corev1.Pod
	for _, o := range c.pods.List() {
		if p, ok := o.(*corev1.Pod); ok {
			pods = append(pods, p)
		}
	}
	nodes := map[string]*corev1.Node{}
	for _, o := range c.nodes.List() {
		if n, ok := o.(*corev1.Node); ok {
			nodes[n.Name] = n
		}
	}
	var errs []error
	errs = append(errs, c.deleteAll(ctx, terminatedOverThreshold(pods, c.cfg.TerminatedPodThreshold), nil))
	errs = append(errs, c.deleteAll(ctx, terminatingOutOfService(pods, nodes), nil))
	errs = append(errs, c.collectOrphans(ctx, pods, nodes))
	errs = append(errs, c.deleteAll(ctx, unscheduledTerminating(pods), nil))
	return errors.Join(errs...)
}

// collectOrphans deletes the pods of nodes that stayed missing through the
// quarantine and are confirmed gone by the API.
func (c *Controller) collectOrphans(ctx context.Context, pods []*corev1.Pod, nodes map[string]*corev1.Node) error {
	now := c.clock.Now()
	c.quarantine.observe(pods, sets.KeySet(nodes), now)
	gone := sets.New[string]()
	var errs []error
	for _, name := range c.quarantine.due(now, c.cfg.Quarantine) {
		_, err := c.cfg.Client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			gone.Insert(name)
		case err != nil:
			errs = append(errs, fmt.Errorf("get node %s: %w", name, err))
		}
	}
	var orphans []*corev1.Pod
	for _, p := range pods {
		if gone.Has(p.Spec.NodeName) {
			orphans = append(orphans, p)
		}
	}
	cond := &corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
		Reason: "DeletionByPodGC", Message: "PodGC: node no longer exists"}
	errs = append(errs, c.deleteAll(ctx, orphans, cond))
	return errors.Join(errs...)
}

// deleteAll marks pods failed and deletes them, in parallel.
func (c *Controller) deleteAll(ctx context.Context, pods []*corev1.Pod, cond *corev1.PodCondition) error {
	errs := make(chan error, len(pods))
	var wg sync.WaitGroup
	for _, p := range pods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.failAndDelete(ctx, p, cond); err != nil && !apierrors.IsNotFound(err) {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

// failAndDelete gives a pod that has not finished the Failed phase (and cond),
// so its controller counts it, then deletes it without grace.
func (c *Controller) failAndDelete(ctx context.Context, p *corev1.Pod, cond *corev1.PodCondition) error {
	c.log.Info("PodGC is force deleting Pod", "pod", p.Namespace+"/"+p.Name)
	if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
		patch, err := failedStatusPatch(p, cond, c.clock.Now())
		if err != nil {
			return err
		}
		if _, err := c.cfg.Client.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status"); err != nil {
			return fmt.Errorf("mark pod %s/%s failed: %w", p.Namespace, p.Name, err)
		}
	}
	zero := int64(0)
	if err := c.cfg.Client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		return fmt.Errorf("delete pod %s/%s: %w", p.Namespace, p.Name, err)
	}
	return nil
}

// failedStatusPatch sets phase Failed and observedGeneration, and cond (its
// transition time kept if it was already so), on the pod with p's UID only.
func failedStatusPatch(p *corev1.Pod, cond *corev1.PodCondition, now time.Time) ([]byte, error) {
	status := map[string]interface{}{"phase": corev1.PodFailed, "observedGeneration": p.Generation}
	if cond != nil {
		c := cond.DeepCopy()
		c.ObservedGeneration = p.Generation
		c.LastTransitionTime = metav1.NewTime(now)
		for _, old := range p.Status.Conditions {
			if old.Type == c.Type && old.Status == c.Status {
				c.LastTransitionTime = old.LastTransitionTime
			}
		}
		status["conditions"] = []corev1.PodCondition{*c}
	}
	return json.Marshal(map[string]interface{}{"metadata": map[string]interface{}{"uid": p.UID}, "status": status})
}
