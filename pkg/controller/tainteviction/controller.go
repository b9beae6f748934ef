// Package tainteviction evicts pods from nodes with NoExecute taints, as
// upstream's taint-eviction-controller does: a pod without a toleration for
// one of its node's NoExecute taints is deleted at once, a pod whose
// tolerations carry tolerationSeconds when the shortest runs out, and a pod
// that tolerates them all forever stays. Evictions are cancelled when the
// taints go. A deleted pod first gets the DisruptionTarget condition
// (DeletionByTaintManager), and both the deletion and its cancellation are
// reported as TaintManagerEviction events.
package tainteviction

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/minik8s/minik8s/pkg/controller/podcontrol"
	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// Name is the controller's name, as upstream's.
const Name = "taint-eviction-controller"

// Config wires the controller.
type Config struct {
	Client   kubernetes.Interface
	Nodes    coreinformers.NodeInformer
	Pods     coreinformers.PodInformer
	Recorder events.EventRecorder
	Workers  int
	// Clock is injectable for tests; nil is the real clock.
	Clock clock.WithTicker
	Log   *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil || c.Nodes == nil || c.Pods == nil || c.Recorder == nil:
		return errors.New("taint eviction controller: a client, node and pod informers and an event recorder are required")
	case c.Workers < 1:
		return fmt.Errorf("taint eviction controller: workers must be at least 1, not %d", c.Workers)
	}
	return nil
}

// change is a node or a pod to look at again.
type change struct {
	node string // a node name, or
	pod  string // a pod's namespace/name
}

// scheduled is an eviction waiting for its time.
type scheduled struct {
	created, at time.Time
}

// Controller evicts pods from nodes with NoExecute taints.
type Controller struct {
	cfg       Config
	clock     clock.WithTicker
	nodes     corelisters.NodeLister
	pods      corelisters.PodLister
	podIndex  cache.Indexer
	synced    []cache.InformerSynced
	changes   workqueue.TypedRateLimitingInterface[change]
	evictions workqueue.TypedRateLimitingInterface[string]
	log       *slog.Logger

	mu sync.Mutex
	// tainted holds each node's NoExecute taints, as last seen.
	tainted map[string][]corev1.Taint
	// pending holds the evictions waiting for their time, by pod key.
	pending map[string]scheduled
}

// New wires the controller to its informers.
func New(cfg Config) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	podInf := cfg.Pods.Informer()
	if err := podcontrol.AddNodeNameIndex(podInf); err != nil {
		return nil, err
	}
	c := &Controller{cfg: cfg, clock: cfg.Clock, nodes: cfg.Nodes.Lister(), pods: cfg.Pods.Lister(), podIndex: podInf.GetIndexer(),
		changes: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[change](),
			workqueue.TypedRateLimitingQueueConfig[change]{Name: "noexec_taint", Clock: cfg.Clock}),
		evictions: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "taint_eviction", Clock: cfg.Clock}),
		log: log, tainted: map[string][]corev1.Taint{}, pending: map[string]scheduled{}}
	nodeReg, err := cfg.Nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj interface{}) { c.nodeChanged(nil, obj) },
		UpdateFunc: c.nodeChanged,
		DeleteFunc: func(obj interface{}) {
			if n, ok := worker.Object[*corev1.Node](obj); ok {
				c.changes.Add(change{node: n.Name})
			}
		},
	})
	if err != nil {
		return nil, err
	}
	podReg, err := podInf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj interface{}) { c.podChanged(nil, obj) },
		UpdateFunc: c.podChanged,
		DeleteFunc: func(obj interface{}) {
			if key, ok := worker.Key(obj); ok {
				c.changes.Add(change{pod: key})
			}
		},
	})
	if err != nil {
		return nil, err
	}
	c.synced = []cache.InformerSynced{nodeReg.HasSynced, podReg.HasSynced}
	return c, nil
}

// nodeChanged queues a node whose NoExecute taints changed.
func (c *Controller) nodeChanged(oldObj, obj interface{}) {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return
	}
	if old, ok := oldObj.(*corev1.Node); ok && apiequality.Semantic.DeepEqual(noExecuteTaints(old.Spec.Taints), noExecuteTaints(n.Spec.Taints)) {
		return
	}
	c.changes.Add(change{node: n.Name})
}

// podChanged queues a pod that was placed, moved or changed its tolerations.
func (c *Controller) podChanged(oldObj, obj interface{}) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if old, ok := oldObj.(*corev1.Pod); ok && old.Spec.NodeName == p.Spec.NodeName &&
		apiequality.Semantic.DeepEqual(old.Spec.Tolerations, p.Spec.Tolerations) {
		return
	}
	if key, ok := worker.Key(p); ok {
		c.changes.Add(change{pod: key})
	}
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, 2)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		errs <- worker.Run(ctx, worker.Config[change]{Name: Name, Queue: c.changes, Synced: c.synced, Workers: c.cfg.Workers, Sync: c.sync, Log: c.log})
	}()
	go func() {
		defer wg.Done()
		errs <- worker.Run(ctx, worker.Config[string]{Name: Name + "-evictions", Queue: c.evictions, Synced: c.synced, Workers: c.cfg.Workers,
			Sync: c.evict, MaxRetries: 5, Log: c.log})
	}()
	err := <-errs
	cancel()
	wg.Wait()
	return err
}

func (c *Controller) sync(ctx context.Context, ch change) error {
	if ch.node != "" {
		return c.syncNode(ch.node)
	}
	return c.syncPod(ch.pod)
}

// syncNode notes a node's NoExecute taints and judges every pod on it.
func (c *Controller) syncNode(name string) error {
	node, err := c.nodes.Get(name)
	if apierrors.IsNotFound(err) {
		c.mu.Lock()
		delete(c.tainted, name)
		c.mu.Unlock()
		return nil
	}
	if err != nil {
		return err
	}
	taints := noExecuteTaints(node.Spec.Taints)
	c.mu.Lock()
	if len(taints) == 0 {
		delete(c.tainted, name)
	} else {
		c.tainted[name] = taints
	}
	c.mu.Unlock()
	// The taints are noted first: a pod placed from now on is judged by its own sync.
	pods, err := podcontrol.OnNode(c.podIndex, name)
	if err != nil {
		return err
	}
	now := c.clock.Now()
	for _, p := range pods {
		c.judge(p.Namespace+"/"+p.Name, p.Spec.Tolerations, taints, now)
	}
	return nil
}

// syncPod judges one pod against its node's taints.
func (c *Controller) syncPod(key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	pod, err := c.pods.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.cancel(key)
		return nil
	}
	if err != nil {
		return err
	}
	if pod.Spec.NodeName == "" {
		return nil
	}
	c.mu.Lock()
	taints, ok := c.tainted[pod.Spec.NodeName]
	c.mu.Unlock()
	if !ok {
		// An untainted node: cancelled when its taints went, if any.
		return nil
	}
	c.judge(key, pod.Spec.Tolerations, taints, c.clock.Now())
	return nil
}

// judge schedules, keeps or cancels a pod's eviction.
func (c *Controller) judge(key string, tolerations []corev1.Toleration, taints []corev1.Taint, now time.Time) {
	v := decide(taints, tolerations)
	switch v.kind {
	case keepPod:
		c.cancel(key)
	case evictNow:
		c.cancel(key)
		c.schedule(key, now, now)
	case evictLater:
		c.mu.Lock()
		_, already := c.pending[key]
		c.mu.Unlock()
		if already {
			// The first decision stands, as upstream keeps a running timer.
			return
		}
		c.schedule(key, now, now.Add(v.after))
	}
}

func (c *Controller) schedule(key string, created, at time.Time) {
	c.mu.Lock()
	c.pending[key] = scheduled{created: created, at: at}
	c.mu.Unlock()
	c.evictions.AddAfter(key, at.Sub(c.clock.Now()))
}

// cancel drops a pod's pending eviction, with an event saying so.
func (c *Controller) cancel(key string) {
	c.mu.Lock()
	_, ok := c.pending[key]
	delete(c.pending, key)
	c.mu.Unlock()
	if ok {
		c.record(key, "Cancelling deletion of Pod %s")
	}
}

// Pending reports when a pod's eviction is due, if one is.
func (c *Controller) Pending(key string) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.pending[key]
	return s.at, ok
}

func (c *Controller) record(key, note string) {
	ns, name, _ := cache.SplitMetaNamespaceKey(key)
	ref := &corev1.ObjectReference{APIVersion: "v1", Kind: "Pod", Namespace: ns, Name: name}
	c.cfg.Recorder.Eventf(ref, nil, corev1.EventTypeNormal, "TaintManagerEviction", "Evict", note, key)
}
