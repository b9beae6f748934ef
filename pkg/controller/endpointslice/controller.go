// Package endpointslice keeps the EndpointSlices of every Service with a
// selector, as upstream's EndpointSlice controller does: one endpoint per
// matching pod with an IP, with its ready/serving/terminating conditions,
// node, zone, hostname and target, in slices of at most 100 endpoints grouped
// by the ports each pod resolves, updated with as little churn as possible
// (Reconcile), with topology hints from spec.trafficDistribution.
package endpointslice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	coreinformers "k8s.io/client-go/informers/core/v1"
	discoveryinformers "k8s.io/client-go/informers/discovery/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"

	"github.com/minik8s/minik8s/pkg/controller/servicepods"
	"github.com/minik8s/minik8s/pkg/controller/worker"
)

const (
	// Name is the controller's name, as upstream's.
	Name = "endpointslice-controller"
	// ManagedBy is the endpointslice.kubernetes.io/managed-by value of its slices.
	ManagedBy = "endpointslice-controller.k8s.io"
	// DefaultMaxPerSlice is upstream's --max-endpoints-per-slice default.
	DefaultMaxPerSlice = 100
	// sliceChangeDelay batches the controller's own slice events (and others')
	// before looking at the Service again, as upstream's minimum sync delay.
	sliceChangeDelay = time.Second
	// maxRetries is how often a failing Service is retried before it waits
	// for its next change, as upstream.
	maxRetries = 15
)

// Config wires the controller.
type Config struct {
	Client         kubernetes.Interface
	Services       coreinformers.ServiceInformer
	Pods           coreinformers.PodInformer
	Nodes          coreinformers.NodeInformer
	EndpointSlices discoveryinformers.EndpointSliceInformer
	Recorder       events.EventRecorder
	Workers        int
	// MaxPerSlice caps endpoints per slice; 0 means DefaultMaxPerSlice.
	MaxPerSlice int
	// BatchPeriod delays syncs after pod changes to batch them (upstream's
	// --endpoint-updates-batch-period, 0 by default).
	BatchPeriod time.Duration
	Log         *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil || c.Services == nil || c.Pods == nil || c.Nodes == nil || c.EndpointSlices == nil || c.Recorder == nil:
		return errors.New("endpointslice controller: a client, service, pod, node and endpointslice informers and a recorder are required")
	case c.Workers < 1:
		return fmt.Errorf("endpointslice controller: workers must be at least 1, not %d", c.Workers)
	case c.MaxPerSlice < 0 || c.MaxPerSlice > 1000:
		return fmt.Errorf("endpointslice controller: max endpoints per slice must be between 1 and 1000, not %d", c.MaxPerSlice)
	}
	return nil
}

// Controller keeps Services' EndpointSlices.
type Controller struct {
	cfg      Config
	services corelisters.ServiceLister
	pods     corelisters.PodLister
	nodes    corelisters.NodeLister
	slices   discoverylisters.EndpointSliceLister
	synced   []cache.InformerSynced
	queue    workqueue.TypedRateLimitingInterface[string]
	tracker  *Tracker
	triggers *servicepods.TriggerTimes
	log      *slog.Logger
}

// New wires the controller to its informers.
func New(cfg Config) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxPerSlice == 0 {
		cfg.MaxPerSlice = DefaultMaxPerSlice
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Controller{cfg: cfg, services: cfg.Services.Lister(), pods: cfg.Pods.Lister(), nodes: cfg.Nodes.Lister(),
		slices: cfg.EndpointSlices.Lister(), queue: worker.NewQueue("endpoint_slice"), tracker: NewTracker(),
		triggers: servicepods.NewTriggerTimes(), log: log}
	svcReg, err := cfg.Services.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, cur interface{}) { c.enqueue(cur) },
		DeleteFunc: c.enqueue,
	})
	if err != nil {
		return nil, err
	}
	podReg, err := cfg.Pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addPod,
		UpdateFunc: c.updatePod,
		DeleteFunc: c.deletePod,
	})
	if err != nil {
		return nil, err
	}
	sliceReg, err := cfg.EndpointSlices.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addSlice,
		UpdateFunc: c.updateSlice,
		DeleteFunc: c.deleteSlice,
	})
	if err != nil {
		return nil, err
	}
	c.synced = []cache.InformerSynced{svcReg.HasSynced, podReg.HasSynced, sliceReg.HasSynced, cfg.Nodes.Informer().HasSynced}
	return c, nil
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	return worker.Run(ctx, worker.Config[string]{Name: Name, Queue: c.queue, Synced: c.synced, Workers: c.cfg.Workers,
		Sync: c.sync, MaxRetries: maxRetries, Log: c.log})
}

// Sync syncs one Service (namespace/name) once, as a worker would.
func (c *Controller) Sync(ctx context.Context, key string) error { return c.sync(ctx, key) }

func (c *Controller) enqueue(obj interface{}) {
	if key, ok := worker.Key(obj); ok {
		c.queue.Add(key)
	}
}

func (c *Controller) enqueuePodServices(keys []string) {
	for _, k := range keys {
		if c.cfg.BatchPeriod > 0 {
			c.queue.AddAfter(k, c.cfg.BatchPeriod)
		} else {
			c.queue.Add(k)
		}
	}
}

func (c *Controller) addPod(obj interface{}) {
	if pod, ok := obj.(*corev1.Pod); ok {
		c.enqueuePodServices(servicepods.Services(c.services, pod))
	}
}

func (c *Controller) updatePod(oldObj, newObj interface{}) {
	old, ok1 := oldObj.(*corev1.Pod)
	cur, ok2 := newObj.(*corev1.Pod)
	if ok1 && ok2 {
		c.enqueuePodServices(servicepods.ChangedServices(c.services, old, cur))
	}
}

func (c *Controller) deletePod(obj interface{}) {
	if pod, ok := worker.Object[*corev1.Pod](obj); ok {
		c.enqueuePodServices(servicepods.Services(c.services, pod))
	}
}

func managedByUs(s *discoveryv1.EndpointSlice) bool {
	return s.Labels[discoveryv1.LabelManagedBy] == ManagedBy
}

func (c *Controller) enqueueForSlice(s *discoveryv1.EndpointSlice) {
	name := s.Labels[discoveryv1.LabelServiceName]
	if name == "" {
		return
	}
	c.queue.AddAfter(s.Namespace+"/"+name, sliceChangeDelay)
}

func (c *Controller) addSlice(obj interface{}) {
	s, ok := obj.(*discoveryv1.EndpointSlice)
	if ok && managedByUs(s) && c.tracker.ShouldSync(s) {
		c.enqueueForSlice(s)
	}
}

func (c *Controller) updateSlice(oldObj, newObj interface{}) {
	old, ok1 := oldObj.(*discoveryv1.EndpointSlice)
	cur, ok2 := newObj.(*discoveryv1.EndpointSlice)
	if !ok1 || !ok2 {
		return
	}
	if old.Labels[discoveryv1.LabelServiceName] != cur.Labels[discoveryv1.LabelServiceName] {
		c.enqueueForSlice(cur)
		c.enqueueForSlice(old)
		return
	}
	if managedByUs(old) != managedByUs(cur) || (managedByUs(cur) && c.tracker.ShouldSync(cur)) {
		c.enqueueForSlice(cur)
	}
}

func (c *Controller) deleteSlice(obj interface{}) {
	s, ok := worker.Object[*discoveryv1.EndpointSlice](obj)
	if !ok || !managedByUs(s) || !c.tracker.Has(s) {
		return
	}
	if !c.tracker.HandleDeletion(s) {
		// Someone else deleted it: put it back.
		c.enqueueForSlice(s)
	}
}

// zone returns a node's zone label; ok is false for a node the cache does not have.
func (c *Controller) zone(node string) (string, bool) {
	n, err := c.nodes.Get(node)
	if err != nil {
		return "", false
	}
	return n.Labels[corev1.LabelTopologyZone], true
}

func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	svc, err := c.services.Services(ns).Get(name)
	if apierrors.IsNotFound(err) {
		// The garbage collector deletes the slices through their owner reference.
		c.triggers.Forget(ns, name)
		c.tracker.Forget(key)
		return nil
	}
	if err != nil {
		return err
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName || svc.Spec.Selector == nil {
		// No endpoints from pods: an ExternalName Service has none, and a
		// Service without a selector has hand-written ones (mirrored from its
		// Endpoints by the mirroring controller).
		return nil
	}
	pods, err := c.pods.Pods(ns).List(labels.Set(svc.Spec.Selector).AsSelectorPreValidated())
	if err != nil {
		return err
	}
	sel := labels.Set{discoveryv1.LabelServiceName: name, discoveryv1.LabelManagedBy: ManagedBy}.AsSelectorPreValidated()
	cached, err := c.slices.EndpointSlices(ns).List(sel)
	if err != nil {
		return err
	}
	existing := cached[:0:0]
	for _, s := range cached {
		if s.DeletionTimestamp == nil {
			existing = append(existing, s)
		}
	}
	if c.tracker.Stale(key, existing) {
		return worker.Quiet(fmt.Errorf("the EndpointSlice cache of %s is behind the controller's writes", key))
	}
	plan := Reconcile(Input{Service: svc, Pods: pods, Zone: c.zone, Existing: existing, MaxPerSlice: c.cfg.MaxPerSlice,
		Controller: ManagedBy, TriggerTime: c.triggers.Compute(svc, pods)})
	if err := c.apply(ctx, svc, plan); err != nil {
		c.cfg.Recorder.Eventf(svc, nil, corev1.EventTypeWarning, "FailedToUpdateEndpointSlices", "Update",
			"Error updating Endpoint Slices for Service %s/%s: %v", ns, name, err)
		return err
	}
	if plan.Changes() > 0 {
		c.log.Debug("endpoint slices synced", "service", key, "changes", plan.describe())
	}
	if len(plan.SkippedPods) > 0 {
		return worker.Quiet(fmt.Errorf("pods %v of Service %s skipped: their node is not known yet", plan.SkippedPods, key))
	}
	return nil
}

// apply writes a plan, creates first so a Service is never without slices
// mid-way.
func (c *Controller) apply(ctx context.Context, svc *corev1.Service, plan Plan) error {
	client := c.cfg.Client.DiscoveryV1().EndpointSlices(svc.Namespace)
	for _, s := range plan.Create {
		created, err := client.Create(ctx, s, metav1.CreateOptions{})
		if err != nil {
			if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
				return nil // nothing will be created in a namespace being deleted
			}
			return fmt.Errorf("failed to create EndpointSlice for Service %s/%s: %w", svc.Namespace, svc.Name, err)
		}
		c.tracker.Update(created)
	}
	for _, s := range plan.Update {
		updated, err := client.Update(ctx, s, metav1.UpdateOptions{})
		if err != nil {
			return fmt.Errorf("failed to update %s EndpointSlice for Service %s/%s: %w", s.Name, svc.Namespace, svc.Name, err)
		}
		c.tracker.Update(updated)
	}
	for _, s := range plan.Delete {
		err := client.Delete(ctx, s.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("failed to delete %s EndpointSlice for Service %s/%s: %w", s.Name, svc.Namespace, svc.Name, err)
		}
		c.tracker.ExpectDeletion(s)
	}
	return nil
}
