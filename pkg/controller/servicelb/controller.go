// Package servicelb is the built-in service load balancer, as k3s' ServiceLB:
// a type LoadBalancer Service without a loadBalancerClass gets the
// InternalIPs of the eligible nodes in status.loadBalancer.ingress. Every
// node's proxy then answers the Service's ports on those addresses (traffic
// to a load-balancer IP takes the same rules as an external IP), so nothing
// else runs on the nodes. `minik8s server --disable servicelb` leaves such
// Services pending for another implementation.
package servicelb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"

	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// Name is the controller's name (upstream's cloud service controller's).
const Name = "service-lb-controller"

// Config wires the controller.
type Config struct {
	Client   kubernetes.Interface
	Services coreinformers.ServiceInformer
	Nodes    coreinformers.NodeInformer
	Recorder events.EventRecorder
	Workers  int
	Log      *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil || c.Services == nil || c.Nodes == nil:
		return errors.New("service-lb controller: a client, a service and a node informer are required")
	case c.Workers < 1:
		return fmt.Errorf("service-lb controller: workers must be at least 1, not %d", c.Workers)
	}
	return nil
}

// Controller publishes node addresses as load-balancer ingress.
type Controller struct {
	cfg      Config
	services corelisters.ServiceLister
	nodes    corelisters.NodeLister
	synced   []cache.InformerSynced
	queue    workqueue.TypedRateLimitingInterface[string]
	log      *slog.Logger
}

// New wires the controller to its informers.
func New(cfg Config) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Controller{cfg: cfg, services: cfg.Services.Lister(), nodes: cfg.Nodes.Lister(),
		queue: worker.NewQueue("servicelb"), log: log}
	svcReg, err := cfg.Services.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: c.enqueue,
		UpdateFunc: func(old, cur interface{}) {
			if o, ok := old.(*corev1.Service); ok {
				if n, ok := cur.(*corev1.Service); ok && o.ResourceVersion == n.ResourceVersion {
					return
				}
			}
			c.enqueue(cur)
		},
	})
	if err != nil {
		return nil, err
	}
	nodeReg, err := cfg.Nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(interface{}) { c.enqueueAll() },
		UpdateFunc: func(old, cur interface{}) {
			o, ok1 := old.(*corev1.Node)
			n, ok2 := cur.(*corev1.Node)
			if ok1 && ok2 && !nodeChanged(o, n) {
				return
			}
			c.enqueueAll()
		},
		DeleteFunc: func(interface{}) { c.enqueueAll() },
	})
	if err != nil {
		return nil, err
	}
	c.synced = []cache.InformerSynced{svcReg.HasSynced, nodeReg.HasSynced}
	return c, nil
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	return worker.Run(ctx, worker.Config[string]{Name: Name, Queue: c.queue, Synced: c.synced, Workers: c.cfg.Workers, Sync: c.sync, Log: c.log})
}

// Sync looks at the Service named by key once, as a worker would.
func (c *Controller) Sync(ctx context.Context, key string) error { return c.sync(ctx, key) }

func (c *Controller) enqueue(obj interface{}) {
	svc, ok := obj.(*corev1.Service)
	if !ok {
		return
	}
	// Only Services that are, or were, load balancers concern us.
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer && len(svc.Status.LoadBalancer.Ingress) == 0 {
		return
	}
	if key, ok := worker.Key(svc); ok {
		c.queue.Add(key)
	}
}

func (c *Controller) enqueueAll() {
	svcs, err := c.services.List(labels.Everything())
	if err != nil {
		return
	}
	for _, s := range svcs {
		if ours(s) {
			c.enqueue(s)
		}
	}
}

// nodeChanged: what decides a node's part in load balancers changed.
func nodeChanged(o, n *corev1.Node) bool {
	if nodeReady(o) != nodeReady(n) || (o.DeletionTimestamp == nil) != (n.DeletionTimestamp == nil) {
		return true
	}
	if o.Labels[LabelEnableLB] != n.Labels[LabelEnableLB] {
		return true
	}
	_, exOld := o.Labels[LabelExcludeFromLB]
	_, exNew := n.Labels[LabelExcludeFromLB]
	if exOld != exNew {
		return true
	}
	if len(o.Status.Addresses) != len(n.Status.Addresses) {
		return true
	}
	for i := range o.Status.Addresses {
		if o.Status.Addresses[i] != n.Status.Addresses[i] {
			return true
		}
	}
	return false
}

// sync writes the Service's load-balancer status when it should change.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	svc, err := c.services.Services(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return err
	}
	want, changed := desiredStatus(svc, nodes)
	if !changed {
		return nil
	}
	upd := svc.DeepCopy()
	upd.Status.LoadBalancer = want
	if _, err := c.cfg.Client.CoreV1().Services(ns).UpdateStatus(ctx, upd, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("update load balancer status of service %s: %w", key, err)
	}
	if c.cfg.Recorder != nil && ours(svc) {
		if len(want.Ingress) > 0 {
			c.cfg.Recorder.Eventf(svc, nil, corev1.EventTypeNormal, "EnsuredLoadBalancer", "EnsureLoadBalancer", "Ensured load balancer")
		} else {
			c.cfg.Recorder.Eventf(svc, nil, corev1.EventTypeWarning, "UnAvailableLoadBalancer", "EnsureLoadBalancer",
				"There are no available nodes for LoadBalancer")
		}
	}
	c.log.Debug("load balancer status updated", "service", key, "ingress", len(want.Ingress))
	return nil
}
