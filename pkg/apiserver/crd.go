package apiserver

import (
	"context"
	"strings"
	"sync"
	"time"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/apiextensions"
	"github.com/minik8s/minik8s/pkg/storage"
)

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// crdServing serves the custom resources the CustomResourceDefinitions describe:
// it follows the CRDs and adds, replaces and removes registry resources (and
// their storage) as they change, and deletes a deleted CRD's objects before
// releasing its cleanup finalizer.
type crdServing struct {
	s   *Server
	crd *registry.Resource

	mu      sync.Mutex
	served  map[string]servedCRD                          // by CRD name
	storage map[string]*storage.Resource                  // by key prefix
	pending map[string]*apiextv1.CustomResourceDefinition // terminating CRDs to clean up
}

type servedCRD struct {
	generation int64
	uid        string
	names      apiextv1.CustomResourceDefinitionNames
	resources  []*registry.Resource
}

// startCRDs serves the CRDs stored now, then follows their changes until ctx ends.
func (s *Server) startCRDs(ctx context.Context) {
	res := s.cfg.Registry.Get(crdGVR)
	if res == nil || res.Store == nil {
		return
	}
	c := &crdServing{s: s, crd: res, served: map[string]servedCRD{}, storage: map[string]*storage.Resource{},
		pending: map[string]*apiextv1.CustomResourceDefinition{}}
	s.crds = c
	list, err := res.Store.List(ctx, storage.ListOptions{ReadOptions: storage.ReadOptions{ResourceVersion: "0"}})
	if err != nil {
		s.log.Error("list CustomResourceDefinitions", "err", err)
		return
	}
	for _, obj := range list.Items {
		if crd, ok := obj.(*apiextv1.CustomResourceDefinition); ok {
			c.sync(ctx, crd.DeepCopy())
		}
	}
	go c.run(ctx, list.ResourceVersion)
}

func (c *crdServing) run(ctx context.Context, rev int64) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for ctx.Err() == nil {
		w, err := c.crd.Store.Watch(ctx, storage.WatchOptions{ResourceVersion: rev})
		if err != nil {
			// Too old: start over from the current state.
			rev = 0
			time.Sleep(100 * time.Millisecond)
			continue
		}
		events := make(chan []*storage.Event)
		wctx, cancel := context.WithCancel(ctx)
		go func() {
			defer close(events)
			for {
				evs, ok := w.Next(wctx)
				if !ok {
					return
				}
				select {
				case events <- evs:
				case <-wctx.Done():
					return
				}
			}
		}()
	loop:
		for {
			select {
			case evs, ok := <-events:
				if !ok {
					break loop
				}
				for _, ev := range evs {
					if ev.Rev > rev {
						rev = ev.Rev
					}
					crd, ok := ev.Object.(*apiextv1.CustomResourceDefinition)
					if !ok {
						continue
					}
					if ev.Type == watch.Deleted {
						c.remove(crd.Name)
						continue
					}
					c.sync(ctx, crd.DeepCopy())
				}
			case <-tick.C:
				c.cleanupPending(ctx)
			case <-ctx.Done():
				break loop
			}
		}
		cancel()
		w.Stop()
	}
}

// sync serves crd's current versions and, for a deleted CRD, removes its objects.
func (c *crdServing) sync(ctx context.Context, crd *apiextv1.CustomResourceDefinition) {
	c.mu.Lock()
	cur, ok := c.served[crd.Name]
	c.mu.Unlock()
	names := crd.Status.AcceptedNames
	if !ok || cur.generation != crd.Generation || cur.uid != string(crd.UID) || !sameNames(cur.names, names) {
		resources, err := apiextensions.CustomResources(crd)
		if err != nil {
			c.s.log.Error("serve CustomResourceDefinition", "name", crd.Name, "err", err)
			return
		}
		if err := c.s.withConversionWebhook(crd, resources); err != nil {
			c.s.log.Error("conversion webhook of CustomResourceDefinition", "name", crd.Name, "err", err)
		}
		c.replace(ctx, crd, resources)
	}
	if crd.DeletionTimestamp != nil {
		c.mu.Lock()
		c.pending[crd.Name] = crd
		c.mu.Unlock()
		c.cleanupPending(ctx)
	}
}

func sameNames(a, b apiextv1.CustomResourceDefinitionNames) bool {
	return a.Plural == b.Plural && a.Kind == b.Kind && a.Singular == b.Singular && a.ListKind == b.ListKind &&
		strings.Join(a.ShortNames, ",") == strings.Join(b.ShortNames, ",") && strings.Join(a.Categories, ",") == strings.Join(b.Categories, ",")
}

// replace swaps the resources served for crd.
func (c *crdServing) replace(ctx context.Context, crd *apiextv1.CustomResourceDefinition, resources []*registry.Resource) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.served[crd.Name]
	for _, r := range old.resources {
		c.s.cfg.Registry.Remove(schema.GroupVersionResource{Group: r.Group, Version: r.Version, Resource: r.Name})
	}
	keep := map[string]bool{}
	var added []*registry.Resource
	for _, r := range resources {
		sr := c.storage[r.KeyPrefix]
		if sr == nil {
			var err error
			sr, err = c.s.cfg.Store.RegisterDynamic(ctx, storage.ResourceOptions{
				GroupResource: r.GroupResource(), KeyPrefix: r.KeyPrefix, Namespaced: r.Namespaced,
				NewFunc: r.New, StorageKind: r.StorageGVK(),
			})
			if err != nil {
				c.s.log.Error("storage for custom resource", "resource", r.GroupResource(), "err", err)
				continue
			}
			c.storage[r.KeyPrefix] = sr
		}
		keep[r.KeyPrefix] = true
		r.Store = sr
		if err := c.s.cfg.Registry.Add(r); err != nil {
			c.s.log.Error("register custom resource", "resource", r.GroupResource(), "err", err)
			continue
		}
		added = append(added, r)
	}
	for _, r := range old.resources {
		if !keep[r.KeyPrefix] && c.storage[r.KeyPrefix] != nil {
			c.s.cfg.Store.Unregister(r.KeyPrefix)
			delete(c.storage, r.KeyPrefix)
		}
	}
	c.served[crd.Name] = servedCRD{generation: crd.Generation, uid: string(crd.UID), names: crd.Status.AcceptedNames, resources: added}
	c.s.fields.forgetGroup(crd.Spec.Group)
	c.s.crdChanged()
}

// remove stops serving a deleted CRD.
func (c *crdServing) remove(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old, ok := c.served[name]
	if !ok {
		return
	}
	delete(c.served, name)
	delete(c.pending, name)
	for _, r := range old.resources {
		c.s.cfg.Registry.Remove(schema.GroupVersionResource{Group: r.Group, Version: r.Version, Resource: r.Name})
		if c.storage[r.KeyPrefix] != nil {
			c.s.cfg.Store.Unregister(r.KeyPrefix)
			delete(c.storage, r.KeyPrefix)
		}
		c.s.fields.forgetGroup(r.Group)
	}
	c.s.crdChanged()
}

// cleanupPending deletes the objects of terminating CRDs and, once none are
// left, removes the cleanup finalizer so the CRD goes.
func (c *crdServing) cleanupPending(ctx context.Context) {
	c.mu.Lock()
	var todo []*apiextv1.CustomResourceDefinition
	for _, crd := range c.pending {
		todo = append(todo, crd)
	}
	served := map[string]servedCRD{}
	for k, v := range c.served {
		served[k] = v
	}
	c.mu.Unlock()
	for _, crd := range todo {
		left := 0
		if sc, ok := served[crd.Name]; ok && len(sc.resources) > 0 {
			res := sc.resources[0]
			list, err := res.Store.List(ctx, storage.ListOptions{})
			if err != nil {
				c.s.log.Error("list custom resources to clean up", "crd", crd.Name, "err", err)
				continue
			}
			for _, obj := range list.Items {
				m := obj.(metav1.Object)
				_, gone, err := c.s.deleteObject(ctx, res, m.GetNamespace(), m.GetName(), &metav1.DeleteOptions{}, nil)
				if err != nil && !apierrors.IsNotFound(err) {
					c.s.log.Error("delete custom resource", "crd", crd.Name, "name", m.GetName(), "err", err)
				}
				if err == nil && !gone {
					left++
				}
			}
		}
		if left > 0 {
			continue
		}
		_, _, err := c.s.updateObject(ctx, c.crd, "", crd.Name, "", false, updateRules{unconditional: true}, writeOptions{manager: "minik8s"},
			func(_ context.Context, existing runtime.Object) (runtime.Object, error) {
				cur, ok := existing.(*apiextv1.CustomResourceDefinition)
				if !ok || cur.UID != crd.UID {
					return nil, apierrors.NewConflict(c.crd.GroupResource(), crd.Name, nil)
				}
				var fins []string
				for _, f := range cur.Finalizers {
					if f != apiextensions.CleanupFinalizer {
						fins = append(fins, f)
					}
				}
				cur.Finalizers = fins
				return cur, nil
			})
		if err != nil && !apierrors.IsNotFound(err) {
			c.s.log.Error("release CustomResourceDefinition", "name", crd.Name, "err", err)
			continue
		}
		c.mu.Lock()
		delete(c.pending, crd.Name)
		c.mu.Unlock()
	}
}

// crdChanged makes discovery and OpenAPI show the current custom resources.
func (s *Server) crdChanged() {
	s.discovery.invalidate()
	if inv, ok := s.openapi.(interface{ Invalidate() }); ok {
		inv.Invalidate()
	}
}

// forgetGroup drops the field managers of a group's kinds (their CRD changed).
func (f *fieldManagers) forgetGroup(group string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k := range f.managers {
		if strings.HasPrefix(k, group+"/") {
			delete(f.managers, k)
		}
	}
}
