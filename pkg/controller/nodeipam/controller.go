// Package nodeipam gives every Node a pod range (spec.podCIDR) out of the
// cluster's pod CIDR, as upstream's node IPAM controller (range allocator) does.
// Ranges come from an in-memory allocator that learns the ranges nodes already
// hold from the informer's events before any worker allocates, so a range is
// never handed out twice. Nodes that bring a range of their own keep it.
package nodeipam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"

	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// Name is the controller's name, as upstream's.
const Name = "node-ipam-controller"

// Config wires the controller.
type Config struct {
	Client kubernetes.Interface
	Nodes  coreinformers.NodeInformer
	// ClusterCIDR is cut into ranges of NodeMaskSize bits.
	ClusterCIDR  string
	NodeMaskSize int
	// ServiceCIDR, if it overlaps ClusterCIDR, is kept out of the ranges.
	ServiceCIDR string
	Recorder    events.EventRecorder
	Workers     int
	Log         *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.Client == nil || c.Nodes == nil || c.Recorder == nil {
		return errors.New("node IPAM controller: a client, a node informer and an event recorder are required")
	}
	if c.Workers < 1 {
		return fmt.Errorf("node IPAM controller: workers must be at least 1, not %d", c.Workers)
	}
	if _, err := netip.ParsePrefix(c.ClusterCIDR); err != nil {
		return fmt.Errorf("cluster CIDR %q: %w", c.ClusterCIDR, err)
	}
	if c.ServiceCIDR != "" {
		if _, err := netip.ParsePrefix(c.ServiceCIDR); err != nil {
			return fmt.Errorf("service CIDR %q: %w", c.ServiceCIDR, err)
		}
	}
	return nil
}

// Controller allocates pod CIDRs to nodes.
type Controller struct {
	cfg    Config
	lister corelisters.NodeLister
	synced []cache.InformerSynced
	queue  workqueue.TypedRateLimitingInterface[string]
	log    *slog.Logger

	mu    sync.Mutex
	alloc *allocator
	// held is what each node occupies in alloc: the ranges its spec names, or the
	// one chosen for it while the patch is on its way.
	held map[string][]netip.Prefix
}

// New builds the allocator and wires it to the node informer.
func New(cfg Config) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cluster, _ := netip.ParsePrefix(cfg.ClusterCIDR)
	alloc, err := newAllocator(cluster, cfg.NodeMaskSize)
	if err != nil {
		return nil, err
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.ServiceCIDR != "" {
		svc, _ := netip.ParsePrefix(cfg.ServiceCIDR)
		alloc.occupy(svc)
	}
	c := &Controller{cfg: cfg, lister: cfg.Nodes.Lister(), queue: worker.NewQueue("cidrallocator_node"), log: log,
		alloc: alloc, held: map[string][]netip.Prefix{}}
	reg, err := cfg.Nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.observe,
		UpdateFunc: func(_, obj interface{}) { c.observe(obj) },
		DeleteFunc: c.forget,
	})
	if err != nil {
		return nil, err
	}
	// The handler must have seen every existing node (and occupied its range)
	// before a worker allocates.
	c.synced = []cache.InformerSynced{cfg.Nodes.Informer().HasSynced, reg.HasSynced}
	return c, nil
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	return worker.Run(ctx, worker.Config[string]{Name: Name, Queue: c.queue, Synced: c.synced, Workers: c.cfg.Workers, Sync: c.sync, Log: c.log})
}

// nodeRanges parses the ranges a node's spec names, skipping (and logging) any
// that are not CIDRs.
func (c *Controller) nodeRanges(n *corev1.Node) []netip.Prefix {
	list := n.Spec.PodCIDRs
	if len(list) == 0 && n.Spec.PodCIDR != "" {
		list = []string{n.Spec.PodCIDR}
	}
	var out []netip.Prefix
	for _, s := range list {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			c.log.Info("ignoring a node's unparsable pod CIDR", "node", n.Name, "podCIDR", s)
			continue
		}
		out = append(out, p.Masked())
	}
	return out
}

// observe occupies the ranges a node holds, or queues it for one. It runs in the
// informer's goroutine, in event order, so a range a node brings is taken before
// any later allocation.
func (c *Controller) observe(obj interface{}) {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return
	}
	ranges := c.nodeRanges(n)
	if len(n.Spec.PodCIDRs) == 0 && n.Spec.PodCIDR == "" {
		if n.DeletionTimestamp == nil {
			c.queue.Add(n.Name)
		}
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if slices.Equal(c.held[n.Name], ranges) {
		return
	}
	c.releaseLocked(n.Name)
	var kept []netip.Prefix
	for _, p := range ranges {
		if c.alloc.occupy(p) {
			kept = append(kept, p)
		} else {
			// A range from elsewhere (a simulated node's own): not ours to track.
			c.log.Debug("node's pod CIDR is outside the cluster CIDR, leaving it alone", "node", n.Name, "podCIDR", p)
		}
	}
	if len(kept) > 0 {
		c.held[n.Name] = kept
	}
}

// forget releases a deleted node's ranges.
func (c *Controller) forget(obj interface{}) {
	n, ok := worker.Object[*corev1.Node](obj)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.releaseLocked(n.Name)
}

func (c *Controller) releaseLocked(node string) {
	for _, p := range c.held[node] {
		c.alloc.release(p)
	}
	delete(c.held, node)
}

// sync gives a node without a range the next free one.
func (c *Controller) sync(ctx context.Context, name string) error {
	n, err := c.lister.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if n.DeletionTimestamp != nil || n.Spec.PodCIDR != "" || len(n.Spec.PodCIDRs) > 0 {
		return nil
	}
	c.mu.Lock()
	chosen, ok := c.held[name]
	if !ok {
		p, err := c.alloc.allocate()
		if err != nil {
			c.mu.Unlock()
			c.recordStatus(n, "CIDRNotAvailable")
			return fmt.Errorf("allocate a pod CIDR for node %s: %w", name, err)
		}
		chosen = []netip.Prefix{p}
		c.held[name] = chosen
	}
	c.mu.Unlock()
	cidrs := make([]string, len(chosen))
	for i, p := range chosen {
		cidrs[i] = p.String()
	}
	if err := c.patch(ctx, name, cidrs); err != nil {
		if apierrors.IsNotFound(err) {
			c.mu.Lock()
			c.releaseLocked(name)
			c.mu.Unlock()
			return nil
		}
		c.recordStatus(n, "CIDRAssignmentFailed")
		// A timeout may have landed: keep the range rather than risk handing it out twice.
		if !apierrors.IsServerTimeout(err) && !apierrors.IsTimeout(err) {
			c.mu.Lock()
			c.releaseLocked(name)
			c.mu.Unlock()
		}
		return fmt.Errorf("set pod CIDR %v on node %s: %w", cidrs, name, err)
	}
	c.log.Info("set node pod CIDR", "node", name, "podCIDRs", cidrs)
	return nil
}

func (c *Controller) patch(ctx context.Context, node string, cidrs []string) error {
	patch, err := json.Marshal(map[string]interface{}{"spec": map[string]interface{}{"podCIDR": cidrs[0], "podCIDRs": cidrs}})
	if err != nil {
		return err
	}
	_, err = c.cfg.Client.CoreV1().Nodes().Patch(ctx, node, types.MergePatchType, patch, metav1.PatchOptions{})
	return err
}

// recordStatus reports a node's allocation trouble as upstream does.
func (c *Controller) recordStatus(n *corev1.Node, status string) {
	c.cfg.Recorder.Eventf(n, nil, corev1.EventTypeNormal, status, "AllocateCIDR", "Node %s status is now: %s", n.Name, status)
}
