// Package nodelifecycle watches nodes' health as upstream's node lifecycle
// controller does. A node whose kubelet neither renews its Lease (in
// kube-node-lease) nor posts a new Ready heartbeat for the grace period gets
// its conditions set to Unknown ("Kubelet stopped posting node status."); its
// pods are marked not Ready; it gets the node.kubernetes.io/unreachable (or,
// when Ready is False, not-ready) NoExecute taint, at a rate limited per zone
// and depending on how much of the zone is down; the taint-eviction controller
// then evicts the pods that do not tolerate it. A recovered node loses those
// taints. Conditions and spec.unschedulable also map to NoSchedule taints
// (TaintNodesByCondition).
package nodelifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	coordinformers "k8s.io/client-go/informers/coordination/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	coordlisters "k8s.io/client-go/listers/coordination/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/minik8s/minik8s/pkg/controller/podcontrol"
	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// Name is the controller's name, as upstream's.
const Name = "node-lifecycle-controller"

// Upstream's defaults (kube-controller-manager v1.34).
const (
	DefaultMonitorPeriod          = 5 * time.Second
	DefaultMonitorGracePeriod     = 50 * time.Second
	DefaultStartupGracePeriod     = 60 * time.Second
	DefaultEvictionQPS            = 0.1
	DefaultSecondaryEvictionQPS   = 0.01
	DefaultLargeClusterThreshold  = 50
	DefaultUnhealthyZoneThreshold = 0.55
	// taintingPeriod is how often the zones' tainting queues are worked.
	taintingPeriod = 100 * time.Millisecond
	// retryTaint is how long a node waits in its zone's queue after a failed try.
	retryTaint = 50 * time.Millisecond
)

// Config wires the controller.
type Config struct {
	Client   kubernetes.Interface
	Nodes    coreinformers.NodeInformer
	Leases   coordinformers.LeaseInformer
	Pods     coreinformers.PodInformer
	Recorder events.EventRecorder
	// MonitorPeriod is how often node health is checked (--node-monitor-period).
	MonitorPeriod time.Duration
	// MonitorGracePeriod is how long a node may stay silent before it is
	// Unknown (--node-monitor-grace-period).
	MonitorGracePeriod time.Duration
	// StartupGracePeriod is the same for a node that never reported.
	StartupGracePeriod time.Duration
	// EvictionQPS and SecondaryEvictionQPS are the nodes per second tainted in a
	// healthy zone and in a partially disrupted large zone.
	EvictionQPS, SecondaryEvictionQPS float32
	// LargeClusterThreshold is the zone size above which a partially disrupted
	// zone keeps tainting (at the secondary rate).
	LargeClusterThreshold int32
	// UnhealthyZoneThreshold is the share of not-Ready nodes (at least three)
	// that makes a zone partially disrupted.
	UnhealthyZoneThreshold float32
	Workers                int
	// Clock is injectable for tests; nil is the real clock.
	Clock clock.WithTicker
	Log   *slog.Logger
}

// Defaults fills unset tunables with upstream's defaults.
func (c *Config) Defaults() {
	if c.MonitorPeriod == 0 {
		c.MonitorPeriod = DefaultMonitorPeriod
	}
	if c.MonitorGracePeriod == 0 {
		c.MonitorGracePeriod = DefaultMonitorGracePeriod
	}
	if c.StartupGracePeriod == 0 {
		c.StartupGracePeriod = DefaultStartupGracePeriod
	}
	if c.EvictionQPS == 0 {
		c.EvictionQPS = DefaultEvictionQPS
	}
	if c.SecondaryEvictionQPS == 0 {
		c.SecondaryEvictionQPS = DefaultSecondaryEvictionQPS
	}
	if c.LargeClusterThreshold == 0 {
		c.LargeClusterThreshold = DefaultLargeClusterThreshold
	}
	if c.UnhealthyZoneThreshold == 0 {
		c.UnhealthyZoneThreshold = DefaultUnhealthyZoneThreshold
	}
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil || c.Nodes == nil || c.Leases == nil || c.Pods == nil || c.Recorder == nil:
		return errors.New("node lifecycle controller: a client, node, lease and pod informers and an event recorder are required")
	case c.Workers < 1:
		return fmt.Errorf("node lifecycle controller: workers must be at least 1, not %d", c.Workers)
	case c.MonitorPeriod < 0 || c.MonitorGracePeriod < 0 || c.StartupGracePeriod < 0:
		return errors.New("node lifecycle controller: periods must not be negative")
	case c.MonitorGracePeriod > 0 && c.MonitorPeriod > c.MonitorGracePeriod:
		return fmt.Errorf("node lifecycle controller: the monitor period (%s) must not exceed the grace period (%s)", c.MonitorPeriod, c.MonitorGracePeriod)
	case c.EvictionQPS < 0 || c.SecondaryEvictionQPS < 0:
		return errors.New("node lifecycle controller: eviction rates must not be negative")
	case c.UnhealthyZoneThreshold < 0 || c.UnhealthyZoneThreshold > 1:
		return fmt.Errorf("node lifecycle controller: the unhealthy zone threshold must be between 0 and 1, not %v", c.UnhealthyZoneThreshold)
	}
	return nil
}

// Controller watches node health.
type Controller struct {
	cfg    Config
	clock  clock.WithTicker
	nodes  corelisters.NodeLister
	leases coordlisters.LeaseLister
	pods   cache.Indexer
	synced []cache.InformerSynced
	// nodeQueue holds nodes whose NoSchedule taints and labels to reconcile;
	// podQueue pods newly placed on a node, to mark not Ready if it is not.
	nodeQueue workqueue.TypedRateLimitingInterface[string]
	podQueue  workqueue.TypedRateLimitingInterface[string]
	rates     evictionRates
	log       *slog.Logger

	// healthMu guards what is remembered of each node's health.
	healthMu sync.RWMutex
	health   map[string]*health

	// The rest belongs to the monitor pass (one goroutine), except the zone
	// tainters, which the tainting pass and pod workers read under zonesMu.
	known      map[string]*corev1.Node
	zoneStates map[string]ZoneState
	retry      sync.Map // node name → mark its pods not Ready again
	zonesMu    sync.Mutex
	tainters   map[string]*zoneTainter
}

// New wires the controller to its informers.
func New(cfg Config) (*Controller, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	podInf := cfg.Pods.Informer()
	if err := podcontrol.AddNodeNameIndex(podInf); err != nil {
		return nil, err
	}
	c := &Controller{cfg: cfg, clock: cfg.Clock, nodes: cfg.Nodes.Lister(), leases: cfg.Leases.Lister(), pods: podInf.GetIndexer(),
		nodeQueue: worker.NewQueue("node_lifecycle_controller"), podQueue: worker.NewQueue("node_lifecycle_controller_pods"),
		rates: evictionRates{Normal: cfg.EvictionQPS, Secondary: cfg.SecondaryEvictionQPS, LargeCluster: cfg.LargeClusterThreshold},
		log:   log, health: map[string]*health{}, known: map[string]*corev1.Node{}, zoneStates: map[string]ZoneState{},
		tainters: map[string]*zoneTainter{}}
	nodeReg, err := cfg.Nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueueNode,
		UpdateFunc: func(_, obj interface{}) { c.enqueueNode(obj) },
		DeleteFunc: func(obj interface{}) {
			if n, ok := worker.Object[*corev1.Node](obj); ok {
				c.retry.Delete(n.Name)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	podReg, err := podInf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj interface{}) { c.podPlaced(nil, obj) },
		UpdateFunc: func(old, cur interface{}) {
			c.podPlaced(old, cur)
		},
	})
	if err != nil {
		return nil, err
	}
	c.synced = []cache.InformerSynced{nodeReg.HasSynced, podReg.HasSynced, cfg.Leases.Informer().HasSynced}
	return c, nil
}

func (c *Controller) enqueueNode(obj interface{}) {
	if n, ok := obj.(*corev1.Node); ok {
		c.nodeQueue.Add(n.Name)
	}
}

// podPlaced queues a pod that has just been bound to a node.
func (c *Controller) podPlaced(oldObj, obj interface{}) {
	pod, ok := obj.(*corev1.Pod)
	if !ok || pod.Spec.NodeName == "" {
		return
	}
	if old, ok := oldObj.(*corev1.Pod); ok && old.Spec.NodeName == pod.Spec.NodeName {
		return
	}
	if key, ok := worker.Key(pod); ok {
		c.podQueue.Add(key)
	}
}

// Run works until ctx ends: workers for node taints and placed pods, the
// health monitor every MonitorPeriod and the tainting queues every 100ms.
func (c *Controller) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Add(2)
	go func() {
		defer wg.Done()
		errs <- worker.Run(ctx, worker.Config[string]{Name: Name, Queue: c.nodeQueue, Synced: c.synced, Workers: c.cfg.Workers, Sync: c.syncNode, Log: c.log})
	}()
	go func() {
		defer wg.Done()
		errs <- worker.Run(ctx, worker.Config[string]{Name: Name + "-pods", Queue: c.podQueue, Synced: c.synced, Workers: 2, Sync: c.syncPod, Log: c.log})
	}()
	if cache.WaitForCacheSync(ctx.Done(), c.synced...) {
		wg.Add(2)
		go func() {
			defer wg.Done()
			c.every(ctx, c.cfg.MonitorPeriod, func() {
				if err := c.monitor(ctx); err != nil {
					c.log.Info("node health check failed", "err", err)
				}
			})
		}()
		go func() {
			defer wg.Done()
			c.every(ctx, taintingPeriod, func() { c.taintPass(ctx) })
		}()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errs:
	}
	cancel()
	wg.Wait()
	return err
}

// every runs f now and then every period until ctx ends.
func (c *Controller) every(ctx context.Context, period time.Duration, f func()) {
	t := c.clock.NewTicker(period)
	defer t.Stop()
	for {
		f()
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
	}
}

// podsOn lists the pods bound to a node, from the cache.
func (c *Controller) podsOn(node string) []*corev1.Pod {
	pods, _ := podcontrol.OnNode(c.pods, node)
	return pods
}

func (c *Controller) healthOf(node string) *health {
	c.healthMu.RLock()
	defer c.healthMu.RUnlock()
	return c.health[node].copy()
}

func (c *Controller) setHealth(node string, h *health) {
	c.healthMu.Lock()
	defer c.healthMu.Unlock()
	c.health[node] = h
}
