// Package admissiontest holds what plugin tests share: an in-memory
// admission.Objects.
package admissiontest

import (
	"context"
	"fmt"
	"sort"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/admission"
)

// Objects is an admission.Objects over a map, keyed by resource (its plural
// name with group, "pods" or "priorityclasses.scheduling.k8s.io"),
// namespace and name.
type Objects struct {
	mu    sync.Mutex
	items map[string]map[string]runtime.Object
	// Gets counts reads, for tests of caching.
	Gets int
}

var _ admission.Objects = &Objects{}

// New returns objects holding objs, each filed under resource.
func New() *Objects { return &Objects{items: map[string]map[string]runtime.Object{}} }

// Add files obj under resource ("pods", "runtimeclasses.node.k8s.io").
func (o *Objects) Add(resource string, objs ...runtime.Object) *Objects {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, obj := range objs {
		m, err := meta.Accessor(obj)
		if err != nil {
			panic(fmt.Sprintf("admissiontest: %T has no metadata", obj))
		}
		if o.items[resource] == nil {
			o.items[resource] = map[string]runtime.Object{}
		}
		o.items[resource][m.GetNamespace()+"/"+m.GetName()] = obj
	}
	return o
}

// Delete removes an object.
func (o *Objects) Delete(resource, namespace, name string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.items[resource], namespace+"/"+name)
}

func key(gvr schema.GroupVersionResource) string { return gvr.GroupResource().String() }

// Get implements admission.Objects.
func (o *Objects) Get(_ context.Context, gvr schema.GroupVersionResource, namespace, name string) (runtime.Object, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.Gets++
	if obj, ok := o.items[key(gvr)][namespace+"/"+name]; ok {
		return obj, nil
	}
	return nil, apierrors.NewNotFound(gvr.GroupResource(), name)
}

// Latest implements admission.Objects.
func (o *Objects) Latest(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string) (runtime.Object, error) {
	return o.Get(ctx, gvr, namespace, name)
}

// List implements admission.Objects, in name order.
func (o *Objects) List(_ context.Context, gvr schema.GroupVersionResource, namespace string) ([]runtime.Object, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var keys []string
	for k, obj := range o.items[key(gvr)] {
		m, _ := meta.Accessor(obj)
		if namespace == "" || m.GetNamespace() == namespace {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := make([]runtime.Object, 0, len(keys))
	for _, k := range keys {
		out = append(out, o.items[key(gvr)][k])
	}
	return out, nil
}
