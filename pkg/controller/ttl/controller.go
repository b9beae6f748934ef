// Package ttl annotates every Node with node.alpha.kubernetes.io/ttl, as
// upstream's ttl controller does: how many seconds a kubelet may cache the
// Secrets and ConfigMaps its pods use, growing with the size of the cluster
// (0 up to 100 nodes, then 15, 30, 60 and 300 s) so that large clusters ask
// the API server less often. The steps overlap, so a cluster hovering at a
// boundary does not flip between two values.
package ttl

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// Name is the controller's name, as upstream's.
const Name = "ttl-controller"

// Annotation is the node annotation kubelets read.
const Annotation = corev1.ObjectTTLAnnotationKey

// step is one cluster size range and its TTL.
type step struct{ min, max, seconds int }

// steps overlap (90-100, 450-500, ...), as upstream's.
var steps = []step{
	{0, 100, 0},
	{90, 500, 15},
	{450, 1000, 30},
	{900, 2000, 60},
	{1800, math.MaxInt32, 300},
}

// NextStep moves from the current step to the one a cluster of n nodes
// belongs to, leaving a step only once n is outside its range.
func NextStep(current, n int) int {
	for current < len(steps)-1 && n > steps[current].max {
		current++
	}
	for current > 0 && n < steps[current].min {
		current--
	}
	return current
}

// Config wires the controller.
type Config struct {
	Client  kubernetes.Interface
	Nodes   coreinformers.NodeInformer
	Workers int
	Log     *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil || c.Nodes == nil:
		return errors.New("ttl controller: a client and a node informer are required")
	case c.Workers < 1:
		return fmt.Errorf("ttl controller: workers must be at least 1, not %d", c.Workers)
	}
	return nil
}

// Controller keeps the annotation current.
type Controller struct {
	cfg    Config
	nodes  corelisters.NodeLister
	synced []cache.InformerSynced
	queue  workqueue.TypedRateLimitingInterface[string]
	log    *slog.Logger

	mu    sync.Mutex
	count int
	step  int
}

// New wires the controller to the node informer.
func New(cfg Config) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Controller{cfg: cfg, nodes: cfg.Nodes.Lister(), queue: worker.NewQueue("ttlcontroller"), log: log}
	reg, err := cfg.Nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj interface{}) { c.counted(obj, 1) },
		UpdateFunc: func(_, obj interface{}) { c.enqueue(obj) },
		DeleteFunc: func(obj interface{}) { c.counted(obj, -1) },
	})
	if err != nil {
		return nil, err
	}
	c.synced = []cache.InformerSynced{reg.HasSynced}
	return c, nil
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	return worker.Run(ctx, worker.Config[string]{Name: Name, Queue: c.queue, Synced: c.synced, Workers: c.cfg.Workers, Sync: c.sync, Log: c.log})
}

// Sync looks at the node named by key once, as a worker would.
func (c *Controller) Sync(ctx context.Context, key string) error { return c.sync(ctx, key) }

// counted follows the number of nodes; when the TTL changes, every node is
// looked at again.
func (c *Controller) counted(obj interface{}, delta int) {
	if _, ok := worker.Object[*corev1.Node](obj); !ok {
		return
	}
	c.mu.Lock()
	c.count += delta
	before := c.step
	c.step = NextStep(c.step, c.count)
	changed := c.step != before
	c.mu.Unlock()
	if delta > 0 {
		c.enqueue(obj)
	}
	if changed {
		nodes, err := c.nodes.List(labels.Everything())
		if err != nil {
			return
		}
		for _, n := range nodes {
			c.enqueue(n)
		}
	}
}

func (c *Controller) enqueue(obj interface{}) {
	if key, ok := worker.Key(obj); ok {
		c.queue.Add(key)
	}
}

func (c *Controller) desired() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return steps[c.step].seconds
}

func (c *Controller) sync(ctx context.Context, key string) error {
	node, err := c.nodes.Get(key)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	want := strconv.Itoa(c.desired())
	if node.Annotations[Annotation] == want {
		return nil
	}
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, Annotation, want)
	_, err = c.cfg.Client.CoreV1().Nodes().Patch(ctx, node.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("set the ttl annotation of node %s: %w", node.Name, err)
	}
	return nil
}
