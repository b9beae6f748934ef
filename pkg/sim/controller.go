package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// Config is what the simulated-node controller needs; zero durations and worker
// counts take the defaults.
type Config struct {
	Client kubernetes.Interface
	// LeaseDuration is written into each node's lease (upstream's kubelet: 40s).
	LeaseDuration time.Duration
	// LeaseRenewInterval is how often a lease is renewed (the kubelet: a quarter of
	// the duration, 10s).
	LeaseRenewInterval time.Duration
	// StatusReportInterval is how often an unchanged node status is written again
	// (the kubelet: 5m).
	StatusReportInterval time.Duration
	// NodeWorkers renew leases and statuses; PodWorkers write pod statuses.
	NodeWorkers int
	PodWorkers  int
	Logger      *slog.Logger
}

// Defaults of Config.
const (
	DefaultLeaseDuration        = 40 * time.Second
	DefaultLeaseRenewInterval   = 10 * time.Second
	DefaultStatusReportInterval = 5 * time.Minute
	// Workers mostly wait for the API server: enough of them keep up when it is slow
	// to answer (a busy machine), at the cost of idle goroutines.
	DefaultNodeWorkers = 32
	DefaultPodWorkers  = 64
)

func (c *Config) setDefaults() {
	if c.LeaseDuration == 0 {
		c.LeaseDuration = DefaultLeaseDuration
	}
	if c.LeaseRenewInterval == 0 {
		c.LeaseRenewInterval = DefaultLeaseRenewInterval
	}
	if c.StatusReportInterval == 0 {
		c.StatusReportInterval = DefaultStatusReportInterval
	}
	if c.NodeWorkers == 0 {
		c.NodeWorkers = DefaultNodeWorkers
	}
	if c.PodWorkers == 0 {
		c.PodWorkers = DefaultPodWorkers
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate checks a Config after defaults.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil:
		return errors.New("sim: a client is required")
	case c.LeaseDuration < time.Second:
		return fmt.Errorf("lease duration %s: must be at least 1s", c.LeaseDuration)
	case c.LeaseRenewInterval <= 0 || c.LeaseRenewInterval >= c.LeaseDuration:
		return fmt.Errorf("lease renew interval %s: must be positive and shorter than the lease duration %s", c.LeaseRenewInterval, c.LeaseDuration)
	case c.StatusReportInterval <= 0:
		return fmt.Errorf("status report interval %s: must be positive", c.StatusReportInterval)
	case c.NodeWorkers < 0 || c.PodWorkers < 0:
		return fmt.Errorf("worker counts must not be negative")
	}
	return nil
}

// Controller keeps simulated nodes alive and runs their pods. It watches only
// nodes labelled simulated; pods are watched only while such nodes exist, so a
// cluster without simulated nodes costs one idle watch.
type Controller struct {
	cfg       Config
	client    kubernetes.Interface
	log       *slog.Logger
	factory   informers.SharedInformerFactory
	nodes     corelisters.NodeLister
	nodesSync cache.InformerSynced
	queue     workqueue.TypedRateLimitingInterface[string]

	count   atomic.Int64  // simulated nodes in the cache
	changed chan struct{} // a node came or went

	mu     sync.Mutex
	leases map[string]*coordinationv1.Lease // the last lease written, per node
	ips    map[string]*podIPs               // pod addresses, per node
	pods   *podController                   // nil while no simulated node exists
}

// New builds the controller; Run starts it.
func New(cfg Config) (*Controller, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Controller{cfg: cfg, client: cfg.Client, log: cfg.Logger, changed: make(chan struct{}, 1),
		leases: map[string]*coordinationv1.Lease{}, ips: map[string]*podIPs{},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](50*time.Millisecond, 10*time.Second),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "sim-nodes"}),
	}
	c.factory = informers.NewSharedInformerFactoryWithOptions(cfg.Client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = selector }),
		informers.WithTransform(dropManagedFields))
	inf := c.factory.Core().V1().Nodes()
	c.nodes, c.nodesSync = inf.Lister(), inf.Informer().HasSynced
	_, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj interface{}) {
			n := obj.(*corev1.Node)
			c.count.Add(1)
			c.signal()
			c.queue.Add(n.Name)
			c.enqueuePodsOf(n.Name)
		},
		UpdateFunc: func(oldObj, newObj interface{}) {
			o, n := oldObj.(*corev1.Node), newObj.(*corev1.Node)
			if o.ResourceVersion == n.ResourceVersion {
				return
			}
			c.queue.Add(n.Name)
			if failed(o) && !failed(n) {
				c.enqueuePodsOf(n.Name)
			}
		},
		DeleteFunc: func(obj interface{}) {
			if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			n, ok := obj.(*corev1.Node)
			if !ok {
				return
			}
			c.count.Add(-1)
			c.signal()
			c.queue.Add(n.Name)
			c.mu.Lock()
			delete(c.ips, n.Name)
			c.mu.Unlock()
		},
	})
	if err != nil {
		return nil, fmt.Errorf("watch simulated nodes: %w", err)
	}
	return c, nil
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	c.factory.Start(ctx.Done())
	defer c.factory.Shutdown()
	if !cache.WaitForCacheSync(ctx.Done(), c.nodesSync) {
		return ctx.Err()
	}
	if c.count.Load() > 0 {
		c.loadLeases(ctx)
	}
	go c.runPods(ctx)
	return worker.Run(ctx, worker.Config[string]{Name: "sim-nodes", Queue: c.queue, Workers: c.cfg.NodeWorkers, Sync: c.syncNode, Log: c.log})
}

// loadLeases reads the leases a previous run wrote, so a restart renews each at
// its own slot instead of all at once.
func (c *Controller) loadLeases(ctx context.Context) {
	list, err := c.client.CoordinationV1().Leases(corev1.NamespaceNodeLease).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		c.log.Info("list simulated nodes' leases", "err", err)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range list.Items {
		l := &list.Items[i]
		l.ManagedFields = nil
		c.leases[l.Name] = l
	}
}

func (c *Controller) signal() {
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

// runPods runs a pod controller while at least one simulated node exists.
func (c *Controller) runPods(ctx context.Context) {
	for {
		for c.count.Load() == 0 {
			select {
			case <-ctx.Done():
				return
			case <-c.changed:
			}
		}
		pctx, cancel := context.WithCancel(ctx)
		p := newPodController(c)
		done := make(chan error, 1)
		go func() { done <- p.run(pctx) }()
		c.setPods(p)
		var err error
	active:
		for c.count.Load() > 0 {
			select {
			case <-ctx.Done():
				break active
			case <-c.changed:
			case err = <-done:
				done <- err
				break active
			}
		}
		c.setPods(nil)
		cancel()
		if err = <-done; err != nil && ctx.Err() == nil {
			c.log.Info("simulated pods", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
		if ctx.Err() != nil {
			return
		}
	}
}

func (c *Controller) setPods(p *podController) {
	c.mu.Lock()
	c.pods = p
	c.mu.Unlock()
}

func (c *Controller) enqueuePodsOf(node string) {
	c.mu.Lock()
	p := c.pods
	c.mu.Unlock()
	if p != nil {
		p.enqueueNode(node)
	}
}

// podIPsOf is the address allocator of a node's pod range.
func (c *Controller) podIPsOf(node *corev1.Node) (*podIPs, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if a, ok := c.ips[node.Name]; ok {
		return a, nil
	}
	a, err := newPodIPs(node.Spec.PodCIDR)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", node.Name, err)
	}
	c.ips[node.Name] = a
	return a, nil
}

func (c *Controller) releaseIP(pod *corev1.Pod) {
	c.mu.Lock()
	a := c.ips[pod.Spec.NodeName]
	c.mu.Unlock()
	if a != nil {
		a.Release(pod.UID)
	}
}

// failed tells whether the node was told to stop heartbeating.
func failed(n *corev1.Node) bool {
	_, ok := n.Annotations[AnnotationFailed]
	return ok
}

// internalIP is the node's InternalIP ("" when it has none).
func internalIP(n *corev1.Node) string {
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			return a.Address
		}
	}
	return ""
}

// dropManagedFields keeps informer caches small: nothing here reads them.
func dropManagedFields(obj interface{}) (interface{}, error) {
	if a, err := meta.Accessor(obj); err == nil {
		a.SetManagedFields(nil)
	}
	return obj, nil
}
