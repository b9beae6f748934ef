package admission

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Interface is what every plugin is: it says which operations it acts on.
type Interface interface {
	Handles(op Operation) bool
}

// MutationInterface is a plugin of the mutating phase: it may change the
// object, or refuse the request.
type MutationInterface interface {
	Interface
	Admit(ctx context.Context, a *Attributes) error
}

// ValidationInterface is a plugin of the validating phase: it may refuse the
// request, not change it.
type ValidationInterface interface {
	Interface
	Validate(ctx context.Context, a *Attributes) error
}

// Target is what the chain knows of a request before it builds its attributes.
type Target struct {
	Resource    schema.GroupResource
	Subresource string
	Namespaced  bool
}

// ResourceSelector is implemented by plugins that act on some resources only.
// The chain asks once per resource, subresource and operation and remembers
// the answer, so a plugin that does not apply costs nothing per request.
type ResourceSelector interface {
	HandlesResource(t Target) bool
}

// Objects reads the cluster's current objects, in their served version, from
// the API server's caches (the latest state when the cache has not seen an
// object yet). Returned objects are shared: copy before changing them.
type Objects interface {
	Get(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string) (runtime.Object, error)
	// Latest is Get without the cache's lag: it waits until the cache has
	// applied every write made so far.
	Latest(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string) (runtime.Object, error)
	// List returns the objects of a resource in namespace ("" for all).
	List(ctx context.Context, gvr schema.GroupVersionResource, namespace string) ([]runtime.Object, error)
}

// Handler answers Handles for a fixed set of operations; plugins embed it.
type Handler struct{ ops []Operation }

// NewHandler handles ops.
func NewHandler(ops ...Operation) Handler { return Handler{ops: ops} }

// Handles implements Interface.
func (h Handler) Handles(op Operation) bool {
	for _, o := range h.ops {
		if o == op {
			return true
		}
	}
	return false
}
