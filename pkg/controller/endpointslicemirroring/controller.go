// Package endpointslicemirroring mirrors hand-written v1 Endpoints of
// Services without a selector (an external database, say) into
// EndpointSlices, as upstream's EndpointSlice mirroring controller does, so
// consumers of slices (the proxy, DNS) see them. Endpoints labelled
// endpointslice.kubernetes.io/skip-mirror: "true" are not mirrored (the API
// server's own kubernetes and kube-dns Endpoints, which it publishes as slices
// itself).
package endpointslicemirroring

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

	"github.com/minik8s/minik8s/pkg/controller/endpointslice"
	"github.com/minik8s/minik8s/pkg/controller/worker"
)

const (
	// Name is the controller's name, as upstream's.
	Name = "endpointslice-mirroring-controller"
	// ManagedBy is the endpointslice.kubernetes.io/managed-by value of mirrored slices.
	ManagedBy = "endpointslicemirroring-controller.k8s.io"
	// DefaultMaxPerSubset is upstream's --mirroring-max-endpoints-per-subset default.
	DefaultMaxPerSubset = 1000
	leaderAnnotation    = "control-plane.alpha.kubernetes.io/leader"
	maxRetries          = 15
	sliceChangeDelay    = time.Second
)

// Config wires the controller.
type Config struct {
	Client         kubernetes.Interface
	Endpoints      coreinformers.EndpointsInformer
	EndpointSlices discoveryinformers.EndpointSliceInformer
	Services       coreinformers.ServiceInformer
	Recorder       events.EventRecorder
	Workers        int
	// MaxPerSubset caps the addresses mirrored per subset; 0 means DefaultMaxPerSubset.
	MaxPerSubset int
	Log          *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Client == nil || c.Endpoints == nil || c.EndpointSlices == nil || c.Services == nil || c.Recorder == nil:
		return errors.New("endpointslice mirroring controller: a client, endpoints, endpointslice and service informers and a recorder are required")
	case c.Workers < 1:
		return fmt.Errorf("endpointslice mirroring controller: workers must be at least 1, not %d", c.Workers)
	case c.MaxPerSubset < 0 || c.MaxPerSubset > 1000:
		return fmt.Errorf("endpointslice mirroring controller: max endpoints per subset must be between 1 and 1000, not %d", c.MaxPerSubset)
	}
	return nil
}

// Controller mirrors Endpoints into EndpointSlices.
type Controller struct {
	cfg       Config
	endpoints corelisters.EndpointsLister
	slices    discoverylisters.EndpointSliceLister
	services  corelisters.ServiceLister
	synced    []cache.InformerSynced
	queue     workqueue.TypedRateLimitingInterface[string]
	tracker   *endpointslice.Tracker
	log       *slog.Logger
}

// New wires the controller to its informers.
func New(cfg Config) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxPerSubset == 0 {
		cfg.MaxPerSubset = DefaultMaxPerSubset
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Controller{cfg: cfg, endpoints: cfg.Endpoints.Lister(), slices: cfg.EndpointSlices.Lister(), services: cfg.Services.Lister(),
		queue: worker.NewQueue("endpoint_slice_mirroring"), tracker: endpointslice.NewTracker(), log: log}
	epReg, err := cfg.Endpoints.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj interface{}) {
			if ep, ok := obj.(*corev1.Endpoints); ok && shouldMirror(ep) {
				c.enqueue(ep)
			}
		},
		UpdateFunc: func(oldObj, newObj interface{}) {
			old, ok1 := oldObj.(*corev1.Endpoints)
			cur, ok2 := newObj.(*corev1.Endpoints)
			if ok1 && ok2 && (shouldMirror(old) || shouldMirror(cur)) {
				c.enqueue(cur)
			}
		},
		DeleteFunc: func(obj interface{}) {
			if ep, ok := worker.Object[*corev1.Endpoints](obj); ok && shouldMirror(ep) {
				c.enqueue(ep)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	svcReg, err := cfg.Services.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj interface{}) {
			if s, ok := obj.(*corev1.Service); ok && s.Spec.Selector == nil {
				c.enqueue(s)
			}
		},
		UpdateFunc: func(oldObj, newObj interface{}) {
			old, ok1 := oldObj.(*corev1.Service)
			cur, ok2 := newObj.(*corev1.Service)
			if ok1 && ok2 && (old.Spec.Selector == nil) != (cur.Spec.Selector == nil) {
				c.enqueue(cur)
			}
		},
		DeleteFunc: func(obj interface{}) {
			if s, ok := worker.Object[*corev1.Service](obj); ok && s.Spec.Selector == nil {
				c.enqueue(s)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	sliceReg, err := cfg.EndpointSlices.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj interface{}) {
			if s, ok := obj.(*discoveryv1.EndpointSlice); ok && mirrored(s) && c.tracker.ShouldSync(s) {
				c.enqueueForSlice(s)
			}
		},
		UpdateFunc: func(oldObj, newObj interface{}) {
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
			if mirrored(old) != mirrored(cur) || (mirrored(cur) && c.tracker.ShouldSync(cur)) {
				c.enqueueForSlice(cur)
			}
		},
		DeleteFunc: func(obj interface{}) {
			s, ok := worker.Object[*discoveryv1.EndpointSlice](obj)
			if ok && mirrored(s) && c.tracker.Has(s) && !c.tracker.HandleDeletion(s) {
				c.enqueueForSlice(s)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	c.synced = []cache.InformerSynced{epReg.HasSynced, svcReg.HasSynced, sliceReg.HasSynced}
	return c, nil
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	return worker.Run(ctx, worker.Config[string]{Name: Name, Queue: c.queue, Synced: c.synced, Workers: c.cfg.Workers,
		Sync: c.sync, MaxRetries: maxRetries, Log: c.log})
}

// Sync mirrors one Endpoints (namespace/name) once, as a worker would.
func (c *Controller) Sync(ctx context.Context, key string) error { return c.sync(ctx, key) }

func (c *Controller) enqueue(obj interface{}) {
	if key, ok := worker.Key(obj); ok {
		c.queue.Add(key)
	}
}

func (c *Controller) enqueueForSlice(s *discoveryv1.EndpointSlice) {
	if name := s.Labels[discoveryv1.LabelServiceName]; name != "" {
		c.queue.AddAfter(s.Namespace+"/"+name, sliceChangeDelay)
	}
}

func mirrored(s *discoveryv1.EndpointSlice) bool {
	return s.Labels[discoveryv1.LabelManagedBy] == ManagedBy
}

// shouldMirror: not marked skip-mirror, and not a leader-election record.
func shouldMirror(ep *corev1.Endpoints) bool {
	if ep.Labels[discoveryv1.LabelSkipMirror] == "true" {
		return false
	}
	_, leader := ep.Annotations[leaderAnnotation]
	return !leader
}

func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	ep, err := c.endpoints.Endpoints(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return c.deleteMirrored(ctx, key, ns, name)
	}
	if err != nil {
		return err
	}
	if !shouldMirror(ep) {
		return c.deleteMirrored(ctx, key, ns, name)
	}
	svc, err := c.services.Services(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return c.deleteMirrored(ctx, key, ns, name)
	}
	if err != nil {
		return err
	}
	if svc.Spec.Selector != nil {
		// The EndpointSlice controller makes this Service's slices from its pods.
		return c.deleteMirrored(ctx, key, ns, name)
	}
	existing, err := c.mirroredSlices(ns, name)
	if err != nil {
		return err
	}
	if c.tracker.Stale(key, existing) {
		return worker.Quiet(fmt.Errorf("the EndpointSlice cache of %s is behind the controller's writes", key))
	}
	plan := Reconcile(Input{Endpoints: ep, Existing: existing, MaxPerSubset: c.cfg.MaxPerSubset})
	if plan.InvalidAddresses > 0 {
		c.cfg.Recorder.Eventf(ep, nil, corev1.EventTypeWarning, "InvalidIPAddress", "Mirror",
			"Skipped %d invalid IP addresses when mirroring to EndpointSlices", plan.InvalidAddresses)
	}
	if plan.Skipped > plan.InvalidAddresses {
		c.cfg.Recorder.Eventf(ep, nil, corev1.EventTypeWarning, "TooManyAddressesToMirror", "Mirror",
			"A max of %d addresses can be mirrored to EndpointSlices per Endpoints subset. %d addresses were skipped", c.cfg.MaxPerSubset, plan.Skipped)
	}
	if err := c.apply(ctx, ep, plan); err != nil {
		c.cfg.Recorder.Eventf(ep, nil, corev1.EventTypeWarning, "FailedToUpdateEndpointSlices", "Mirror",
			"Error updating EndpointSlices for Endpoints %s/%s: %v", ns, name, err)
		return err
	}
	return nil
}

func (c *Controller) mirroredSlices(ns, name string) ([]*discoveryv1.EndpointSlice, error) {
	sel := labels.Set{discoveryv1.LabelServiceName: name, discoveryv1.LabelManagedBy: ManagedBy}.AsSelectorPreValidated()
	list, err := c.slices.EndpointSlices(ns).List(sel)
	if err != nil {
		return nil, err
	}
	out := list[:0:0]
	for _, s := range list {
		if s.DeletionTimestamp == nil {
			out = append(out, s)
		}
	}
	return out, nil
}

func (c *Controller) deleteMirrored(ctx context.Context, key, ns, name string) error {
	list, err := c.mirroredSlices(ns, name)
	if err != nil {
		return err
	}
	c.tracker.Forget(key)
	var errs []error
	for _, s := range list {
		if err := c.cfg.Client.DiscoveryV1().EndpointSlices(ns).Delete(ctx, s.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("error(s) deleting %d/%d EndpointSlices for %s Endpoints, including: %w", len(errs), len(list), key, errs[0])
	}
	return nil
}

func (c *Controller) apply(ctx context.Context, ep *corev1.Endpoints, plan Plan) error {
	client := c.cfg.Client.DiscoveryV1().EndpointSlices(ep.Namespace)
	for _, s := range plan.Create {
		created, err := client.Create(ctx, s, metav1.CreateOptions{})
		if err != nil {
			if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
				return nil
			}
			return fmt.Errorf("failed to create EndpointSlice for Endpoints %s/%s: %w", ep.Namespace, ep.Name, err)
		}
		c.tracker.Update(created)
	}
	for _, s := range plan.Update {
		updated, err := client.Update(ctx, s, metav1.UpdateOptions{})
		if err != nil {
			return fmt.Errorf("failed to update %s EndpointSlice for Endpoints %s/%s: %w", s.Name, ep.Namespace, ep.Name, err)
		}
		c.tracker.Update(updated)
	}
	for _, s := range plan.Delete {
		if err := client.Delete(ctx, s.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("failed to delete %s EndpointSlice for Endpoints %s/%s: %w", s.Name, ep.Namespace, ep.Name, err)
		}
		c.tracker.ExpectDeletion(s)
	}
	return nil
}
