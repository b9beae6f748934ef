// Package garbagecollector deletes objects whose owners are gone, for every
// resource the API serves, built-in and custom, as upstream's garbage collector
// does. A dependency graph is built from metadata-only informers of every
// deletable resource (typed informers other controllers already run are reused,
// so nothing is cached twice); workers then:
//   - delete dependents whose owners are all gone (background deletion, and
//     dangling references);
//   - drop references to gone owners from dependents that keep another owner;
//   - carry out foreground deletion: an owner with the foregroundDeletion
//     finalizer waits until its blocking dependents are deleted, then loses the
//     finalizer;
//   - carry out orphaning: an owner with the orphan finalizer has its
//     dependents' references to it removed, then loses the finalizer.
//
// A namespaced dependent may have a cluster-scoped owner; a cluster-scoped
// dependent naming a namespaced owner is left alone with an
// OwnerRefInvalidNamespace event, as is reported a dependent naming an owner of
// another namespace (which is absent from its own).
package garbagecollector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"

	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// Name is the controller's name, as upstream's.
const Name = "garbage-collector-controller"

// ignored are never collected: events are many and own nothing.
var ignored = map[schema.GroupResource]bool{
	{Group: "", Resource: "events"}:              true,
	{Group: "events.k8s.io", Resource: "events"}: true,
}

// Config wires the collector.
type Config struct {
	Metadata metadata.Interface
	// Discovery lists the resources to watch; it is refreshed every ResyncPeriod.
	Discovery discovery.CachedDiscoveryInterface
	// Typed informers already started by other controllers are reused.
	Typed    informers.SharedInformerFactory
	Recorder events.EventRecorder
	Workers  int
	// ResyncPeriod is how often new resources (CRDs) are looked for.
	ResyncPeriod time.Duration
	Log          *slog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Metadata == nil || c.Discovery == nil || c.Recorder == nil:
		return errors.New("garbage collector: a metadata client, discovery and an event recorder are required")
	case c.Workers < 1:
		return fmt.Errorf("garbage collector: workers must be at least 1, not %d", c.Workers)
	case c.ResyncPeriod <= 0:
		return errors.New("garbage collector: the resync period must be positive")
	}
	return nil
}

// Controller is the garbage collector.
type Controller struct {
	cfg      Config
	log      *slog.Logger
	graph    *graph
	api      *api
	absent   *absentCache
	changes  workqueue.TypedInterface[*event]
	toDelete workqueue.TypedRateLimitingInterface[*node]
	toOrphan workqueue.TypedRateLimitingInterface[*node]

	// rediscover asks for an early look for new resources.
	rediscover chan struct{}

	mu       sync.Mutex
	monitors map[schema.GroupVersionResource]*monitor
	typed    map[schema.GroupKind]bool
	// reported remembers invalid references already announced.
	reported map[[2]types.UID]bool
}

type monitor struct {
	informer cache.SharedIndexInformer
	reg      cache.ResourceEventHandlerRegistration
	// stop ends an informer of the collector's own (nil for a shared one).
	stop chan struct{}
}

// New builds the collector; it discovers resources when it runs.
func New(cfg Config) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Controller{cfg: cfg, log: log, graph: newGraph(), absent: newAbsentCache(500),
		api:      &api{client: cfg.Metadata, mapper: restmapper.NewDeferredDiscoveryRESTMapper(cfg.Discovery)},
		changes:  workqueue.NewTyped[*event](),
		toDelete: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[*node](), workqueue.TypedRateLimitingQueueConfig[*node]{Name: "garbage_collector_attempt_to_delete"}),
		toOrphan: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[*node](), workqueue.TypedRateLimitingQueueConfig[*node]{Name: "garbage_collector_attempt_to_orphan"}),
		monitors: map[schema.GroupVersionResource]*monitor{}, reported: map[[2]types.UID]bool{}, rediscover: make(chan struct{}, 1)}, nil
}

// Run builds the graph, then collects until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	defer c.changes.ShutDown()
	if c.cfg.Typed != nil {
		// Only informers other controllers started are reused; the rest stay metadata-only.
		c.typed = typedKinds(c.cfg.Typed.WaitForCacheSync(ctx.Done()))
	}
	go func() {
		for c.processChange() {
		}
	}()
	synced, err := c.syncMonitors(ctx)
	for err != nil && ctx.Err() == nil {
		c.log.Info("discover resources to collect", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
		synced, err = c.syncMonitors(ctx)
	}
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return nil
	}
	go func() {
		t := time.NewTicker(c.cfg.ResyncPeriod)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			case <-c.rediscover:
				// At most one early look per two seconds.
				select {
				case <-ctx.Done():
					return
				case <-time.After(2 * time.Second):
				}
			}
			if _, err := c.syncMonitors(ctx); err != nil {
				c.log.Info("rediscover resources to collect", "err", err)
			}
		}
	}()
	errc := make(chan error, 2)
	go func() {
		errc <- worker.Run(ctx, worker.Config[*node]{Name: Name + " (delete)", Queue: c.toDelete, Workers: c.cfg.Workers, Sync: c.attemptToDelete, Log: c.log})
	}()
	go func() {
		errc <- worker.Run(ctx, worker.Config[*node]{Name: Name + " (orphan)", Queue: c.toOrphan, Workers: max(1, c.cfg.Workers/4), Sync: c.attemptToOrphan, Log: c.log})
	}()
	err = <-errc
	if err2 := <-errc; err == nil {
		err = err2
	}
	return err
}

// typedKinds turns the started typed informers' object types into group-kinds.
func typedKinds(started map[reflect.Type]bool) map[schema.GroupKind]bool {
	out := map[schema.GroupKind]bool{}
	for t, ok := range started {
		if !ok || t.Kind() != reflect.Pointer {
			continue
		}
		obj, isObj := reflect.New(t.Elem()).Interface().(runtime.Object)
		if !isObj {
			continue
		}
		if gvks, _, err := scheme.Scheme.ObjectKinds(obj); err == nil && len(gvks) > 0 {
			out[gvks[0].GroupKind()] = true
		}
	}
	return out
}

// deletable lists the resources the collector watches, with their kinds:
// those that can be listed, watched and deleted.
func deletable(lists []*metav1.APIResourceList) map[schema.GroupVersionResource]schema.GroupVersionKind {
	out := map[schema.GroupVersionResource]schema.GroupVersionKind{}
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") || ignored[schema.GroupResource{Group: gv.Group, Resource: r.Name}] {
				continue
			}
			verbs := map[string]bool{}
			for _, v := range r.Verbs {
				verbs[v] = true
			}
			if verbs["delete"] && verbs["list"] && verbs["watch"] {
				out[gv.WithResource(r.Name)] = gv.WithKind(r.Kind)
			}
		}
	}
	return out
}

// syncMonitors watches new resources and stops watching removed ones. It
// returns the HasSynced of the monitors it added.
func (c *Controller) syncMonitors(ctx context.Context) ([]cache.InformerSynced, error) {
	c.cfg.Discovery.Invalidate()
	lists, err := c.cfg.Discovery.ServerPreferredResources()
	if err != nil && len(lists) == 0 {
		return nil, fmt.Errorf("discover resources: %w", err)
	}
	// Some groups failing discovery (an aggregated API down) must not stop the rest.
	want := deletable(lists)
	c.mu.Lock()
	defer c.mu.Unlock()
	var synced []cache.InformerSynced
	for gvr, gvk := range want {
		if _, ok := c.monitors[gvr]; ok {
			continue
		}
		inf, own := c.informerFor(gvr, gvk)
		reg, err := inf.AddEventHandler(c.handlers(gvk))
		if err != nil {
			return synced, fmt.Errorf("watch %s: %w", gvr, err)
		}
		m := &monitor{informer: inf, reg: reg}
		if own {
			m.stop = make(chan struct{})
			run := make(chan struct{})
			go inf.Run(run)
			go func(removed chan struct{}) {
				select {
				case <-ctx.Done():
				case <-removed:
				}
				close(run)
			}(m.stop)
		}
		c.monitors[gvr] = m
		synced = append(synced, reg.HasSynced)
		c.log.Debug("watching for garbage", "resource", gvr.String())
	}
	for gvr, m := range c.monitors {
		if _, ok := want[gvr]; !ok && err == nil {
			_ = m.informer.RemoveEventHandler(m.reg)
			if m.stop != nil {
				// A resource gone (its CRD deleted) is no longer listed and
				// watched over and over.
				close(m.stop)
			}
			delete(c.monitors, gvr)
		}
	}
	return synced, nil
}

// informerFor reuses a started typed informer, or makes a metadata informer
// of the collector's own, which it stops when the resource goes away; own
// says which.
func (c *Controller) informerFor(gvr schema.GroupVersionResource, gvk schema.GroupVersionKind) (inf cache.SharedIndexInformer, own bool) {
	if c.typed[gvk.GroupKind()] {
		if gi, err := c.cfg.Typed.ForResource(gvr); err == nil {
			return gi.Informer(), false
		}
	}
	inf = metadatainformer.NewFilteredMetadataInformer(c.cfg.Metadata, gvr, metav1.NamespaceAll, 0, cache.Indexers{}, nil).Informer()
	_ = inf.SetTransform(dropManagedFields)
	return inf, true
}

// dropManagedFields keeps the graph's copies small: the collector reads
// owners and finalizers only.
func dropManagedFields(obj interface{}) (interface{}, error) {
	if m, err := meta.Accessor(obj); err == nil {
		m.SetManagedFields(nil)
	}
	return obj, nil
}

func (c *Controller) handlers(gvk schema.GroupVersionKind) cache.ResourceEventHandler {
	push := func(typ eventType, obj, old interface{}) {
		if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		m, err := meta.Accessor(obj)
		if err != nil {
			return
		}
		ev := &event{typ: typ, gvk: gvk, obj: m}
		if old != nil {
			if om, err := meta.Accessor(old); err == nil {
				if om.GetResourceVersion() == m.GetResourceVersion() {
					return // a resync: nothing changed
				}
				ev.old = om
			}
		}
		c.changes.Add(ev)
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj interface{}) { push(addEvent, obj, nil) },
		UpdateFunc: func(old, obj interface{}) { push(updateEvent, obj, old) },
		DeleteFunc: func(obj interface{}) { push(deleteEvent, obj, nil) },
	}
}

// processChange applies one event to the graph and queues the work it calls for.
func (c *Controller) processChange() bool {
	ev, quit := c.changes.Get()
	if quit {
		return false
	}
	defer c.changes.Done(ev)
	w := c.graph.apply(ev)
	for _, r := range w.absent {
		c.absent.add(r)
	}
	for _, inv := range w.invalid {
		c.reportInvalid(inv.dependent.identity, inv.owner)
	}
	for _, n := range w.attemptToDelete {
		c.toDelete.Add(n)
	}
	for _, n := range w.attemptToOrphan {
		c.toOrphan.Add(n)
	}
	return true
}

// virtualDelete tells the graph that an object is gone, found by a worker.
func (c *Controller) virtualDelete(r objectRef) {
	gv, _ := schema.ParseGroupVersion(r.APIVersion)
	c.changes.Add(&event{typ: deleteEvent, virtual: true, gvk: gv.WithKind(r.Kind),
		obj: &metav1.ObjectMeta{Name: r.Name, Namespace: r.Namespace, UID: r.UID}})
}

// reportInvalid records, once, an OwnerRefInvalidNamespace event on a dependent.
func (c *Controller) reportInvalid(dependent objectRef, owner metav1.OwnerReference) {
	key := [2]types.UID{dependent.UID, owner.UID}
	c.mu.Lock()
	seen := c.reported[key]
	c.reported[key] = true
	c.mu.Unlock()
	if seen {
		return
	}
	regarding := &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: dependent.APIVersion, Kind: dependent.Kind},
		ObjectMeta: metav1.ObjectMeta{Name: dependent.Name, Namespace: dependent.Namespace, UID: dependent.UID}}
	c.cfg.Recorder.Eventf(regarding, nil, corev1.EventTypeWarning, "OwnerRefInvalidNamespace", "GarbageCollect",
		"ownerRef %s does not exist in namespace %q", refFromOwner(owner, dependent.Namespace), dependent.Namespace)
}

// attemptToDelete looks at one node: a virtual owner is checked to exist; an
// owner deleting in the foreground is freed when its blocking dependents are
// gone; a dependent is kept, stripped of dangling references, or deleted.
func (c *Controller) attemptToDelete(ctx context.Context, n *node) error {
	if cur, ok := c.graph.node(n.identity.UID); !ok || cur != n {
		return nil // gone from the graph, or replaced, meanwhile
	}
	s := c.graph.snapshot(n)
	if s.beingDeleted && !s.deletingDependents {
		return nil // its deletion is under way; its dependents come when it is gone
	}
	latest, err := c.api.get(ctx, s.identity)
	switch {
	case apierrors.IsNotFound(err):
		c.virtualDelete(s.identity)
		return nil
	case err != nil:
		return err
	case latest.UID != s.identity.UID:
		c.virtualDelete(s.identity)
		return nil
	}
	if s.virtual {
		// It exists: wait for its informer to show it, which needs a monitor
		// if its resource is new (a custom resource created since the last look).
		select {
		case c.rediscover <- struct{}{}:
		default:
		}
		return worker.Quiet(fmt.Errorf("%s exists but is not observed yet", s.identity))
	}
	if s.deletingDependents {
		if len(s.blocking) == 0 {
			return c.api.removeFinalizer(ctx, s.identity, metav1.FinalizerDeleteDependents)
		}
		for _, d := range s.blockingIdle {
			c.toDelete.Add(d)
		}
		return nil
	}
	if len(latest.OwnerReferences) == 0 {
		return nil
	}
	states, err := c.ownerStates(ctx, s.identity, latest.OwnerReferences)
	if errors.Is(err, errInvalidNamespace) {
		return nil
	}
	if err != nil {
		return err
	}
	v := judge(states, latest.OwnerReferences, len(s.dependents) > 0, s.dependentWaits, latest.Finalizers)
	switch {
	case v.keep:
		return nil
	case len(v.removeRefs) > 0:
		c.log.Debug("removing dangling owner references", "object", s.identity.String(), "owners", v.removeRefs)
		return c.api.removeOwners(ctx, s.identity, v.removeRefs...)
	}
	if v.unblock {
		if err := c.api.unblockOwners(ctx, s.identity); err != nil {
			return err
		}
	}
	c.log.Debug("deleting object", "object", s.identity.String(), "propagationPolicy", v.deletePolicy)
	return c.api.delete(ctx, s.identity, latest, v.deletePolicy)
}

// ownerStates looks up each owner of item (the absent cache first).
func (c *Controller) ownerStates(ctx context.Context, item objectRef, owners []metav1.OwnerReference) (map[types.UID]ownerState, error) {
	states := map[types.UID]ownerState{}
	for _, o := range owners {
		clusterRef, nsRef := refFromOwner(o, ""), refFromOwner(o, item.Namespace)
		if c.absent.has(clusterRef) || c.absent.has(nsRef) {
			states[o.UID] = ownerAbsent
			continue
		}
		gvr, namespaced, err := c.api.mapping(o.APIVersion, o.Kind)
		if err != nil {
			return nil, err
		}
		if item.Namespace == "" && namespaced {
			c.reportInvalid(item, o)
			return nil, errInvalidNamespace
		}
		ref := clusterRef
		res := c.cfg.Metadata.Resource(gvr)
		var owner *metav1.PartialObjectMetadata
		if namespaced {
			ref = nsRef
			owner, err = res.Namespace(item.Namespace).Get(ctx, o.Name, metav1.GetOptions{})
		} else {
			owner, err = res.Get(ctx, o.Name, metav1.GetOptions{})
		}
		switch {
		case apierrors.IsNotFound(err), err == nil && owner.UID != o.UID:
			c.absent.add(ref)
			states[o.UID] = ownerAbsent
		case err != nil:
			return nil, err
		case owner.DeletionTimestamp != nil && hasFinalizer(owner, metav1.FinalizerDeleteDependents):
			states[o.UID] = ownerWaiting
		default:
			states[o.UID] = ownerPresent
		}
	}
	return states, nil
}

// attemptToOrphan removes an orphaning owner from its dependents, then the
// orphan finalizer from the owner.
func (c *Controller) attemptToOrphan(ctx context.Context, owner *node) error {
	s := c.graph.snapshot(owner)
	errs := make(chan error, len(s.dependents))
	var wg sync.WaitGroup
	for _, d := range s.dependents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.api.removeOwners(ctx, d.identity, s.identity.UID); err != nil {
				errs <- fmt.Errorf("orphan %s: %w", d.identity, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	if err := errors.Join(all...); err != nil {
		return err
	}
	return c.api.removeFinalizer(ctx, s.identity, metav1.FinalizerOrphanDependents)
}
