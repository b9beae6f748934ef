// Package registry describes every served resource: its names, how it is stored, and
// its strategy (defaults, validation, status handling, table columns, field selectors).
// The per-group packages below it fill in the descriptions; the apiserver serves them
// generically.
package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/storage"
)

// Resource describes one resource in one group version.
type Resource struct {
	Group, Version string
	// Name is the plural resource name, e.g. "deployments".
	Name         string
	Kind         string
	SingularName string
	ShortNames   []string
	Categories   []string
	Namespaced   bool

	// New returns an empty object of the served version; NewList its list.
	New     func() runtime.Object
	NewList func() runtime.Object

	// KeyPrefix is where etcd keeps the objects, e.g. "services/specs".
	KeyPrefix string
	// StorageKind is the version written to etcd; empty means the served one.
	// Resources served in several versions share one storage kind and convert.
	StorageKind schema.GroupVersionKind

	Strategy Strategy
	// ValidName checks metadata.name (prefix: a generateName); nil means a DNS subdomain.
	ValidName func(name string, prefix bool) []string
	// Status adds the status subresource.
	Status bool
	// Scale adds the scale subresource.
	Scale *ScaleSubresource
	// Verbs overrides the default verb set (for create-only or read-only resources).
	Verbs []string
	// Table prints the server-side table; nil prints name and creation time.
	Table TableConvertor
	// Fields returns the field-selector fields of an object; nil allows only
	// metadata.name and metadata.namespace.
	Fields func(obj runtime.Object) map[string]string
	// TTL returns the seconds after which etcd forgets an object (events); nil is forever.
	TTL func(obj runtime.Object) int64
	// Hooks run around writes for resources that own other state (IP allocation).
	Hooks Hooks

	// Per-kind switches of the write path, as upstream's strategies carry them.
	//
	// CreateOnUpdate lets a PUT create a missing object (AllowCreateOnUpdate).
	CreateOnUpdate bool
	// UpdateNeedsResourceVersion refuses a PUT without metadata.resourceVersion
	// (AllowUnconditionalUpdate false).
	UpdateNeedsResourceVersion bool
	// DeleteReturnsObject answers a DELETE with the object rather than a Status
	// (ReturnDeletedObject).
	DeleteReturnsObject bool
	// GCPolicy is what a deletion without options does to the object's
	// dependents (DefaultGarbageCollectionPolicy).
	GCPolicy GCPolicy
	// OrphanWarning is the warning a deletion gets when it orphans the
	// object's dependents by default.
	OrphanWarning string

	// Subresources beyond status and scale (pods/log, pods/binding, …), for
	// discovery; their handlers live in the apiserver.
	Subresources []Subresource
	// Create, when set, makes the resource virtual: a create is answered by this
	// function and nothing is stored (reviews such as SelfSubjectAccessReview).
	Create func(ctx context.Context, obj runtime.Object) (runtime.Object, error)
	// StorageVersionHash is advertised in discovery; empty derives one.
	StorageVersionHash string

	// Custom marks a custom resource: unstructured, stored as JSON.
	Custom bool
	// OpenAPI is a custom resource's published schema.
	OpenAPI *CustomOpenAPI
	// Prune, when set, drops unknown fields from a decoded object (custom
	// resources) and returns their paths for fieldValidation.
	Prune func(obj runtime.Object) []string
	// ConvertCustom, when set, converts custom resources between versions (a
	// CRD's conversion webhook); unset, conversion rewrites apiVersion (None).
	ConvertCustom func(ctx context.Context, objs []*unstructured.Unstructured, apiVersion string) ([]*unstructured.Unstructured, error)
	// DeprecationWarning is the warning every request to this version gets (a
	// custom resource's deprecated version); built-in kinds derive theirs from
	// k8s.io/api's lifecycle methods.
	DeprecationWarning string

	// Store is set when the server registers the resource with storage.
	Store *storage.Resource
}

// GCPolicy is what a deletion without options does to an object's dependents.
type GCPolicy int

const (
	// GCBackground: dependents are deleted after the owner (no finalizer).
	GCBackground GCPolicy = iota
	// GCOrphan: dependents are kept; the orphan finalizer is added.
	GCOrphan
	// GCUnsupported: the resource takes part in no garbage collection.
	GCUnsupported
)

// CustomOpenAPI is what a custom resource adds to the OpenAPI documents: JSON
// encoded v2 definitions, v3 component schemas and v3 paths, by name.
type CustomOpenAPI struct {
	V2Definitions map[string]json.RawMessage
	V3Schemas     map[string]json.RawMessage
	V3Paths       map[string]json.RawMessage
}

// GroupVersion of the served version.
func (r *Resource) GroupVersion() schema.GroupVersion {
	return schema.GroupVersion{Group: r.Group, Version: r.Version}
}

// GroupVersionKind of the served version.
func (r *Resource) GroupVersionKind() schema.GroupVersionKind {
	return r.GroupVersion().WithKind(r.Kind)
}

// GroupVersionResource of the served version.
func (r *Resource) GroupVersionResource() schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: r.Group, Version: r.Version, Resource: r.Name}
}

// GroupResource names the resource in errors.
func (r *Resource) GroupResource() schema.GroupResource {
	return schema.GroupResource{Group: r.Group, Resource: r.Name}
}

// StorageGVK is the kind written to etcd.
func (r *Resource) StorageGVK() schema.GroupVersionKind {
	if r.StorageKind.Kind != "" {
		return r.StorageKind
	}
	return r.GroupVersionKind()
}

// Converts reports whether the served version differs from the stored one.
// Custom resources always do: reads rewrite apiVersion and apply the schema's
// defaults, as upstream does for objects read from storage.
func (r *Resource) Converts() bool { return r.Custom || r.StorageGVK() != r.GroupVersionKind() }

// DefaultVerbs is what a full resource supports.
var DefaultVerbs = []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}

// VerbList returns the verbs discovery advertises.
func (r *Resource) VerbList() []string {
	if r.Verbs != nil {
		return r.Verbs
	}
	return DefaultVerbs
}

// Supports reports whether verb is allowed on the resource.
func (r *Resource) Supports(verb string) bool {
	for _, v := range r.VerbList() {
		if v == verb {
			return true
		}
	}
	return false
}

// Subresource is a named subresource advertised in discovery.
type Subresource struct {
	Name  string
	Kind  schema.GroupVersionKind // response kind; empty means the parent's kind
	Verbs []string
}

// AllSubresources lists the subresources discovery shows, status and scale included.
func (r *Resource) AllSubresources() []Subresource {
	var out []Subresource
	if r.Status {
		out = append(out, Subresource{Name: "status", Kind: r.GroupVersionKind(), Verbs: []string{"get", "patch", "update"}})
	}
	if r.Scale != nil {
		out = append(out, Subresource{Name: "scale", Kind: schema.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"}, Verbs: []string{"get", "patch", "update"}})
	}
	for _, s := range r.Subresources {
		if s.Kind.Kind == "" {
			s.Kind = r.GroupVersionKind()
		}
		out = append(out, s)
	}
	return out
}

// ScaleSubresource says where replicas live for /scale.
type ScaleSubresource struct {
	// SpecReplicas and StatusReplicas are JSON paths like ".spec.replicas".
	SpecReplicasPath   string
	StatusReplicasPath string
	// LabelSelectorPath points at the status field holding the selector string,
	// or the spec selector; see Selector.
	Selector func(obj runtime.Object) (string, error)
	// Get and Set read and write replicas on the typed object.
	GetReplicas func(obj runtime.Object) (spec, status int32)
	SetReplicas func(obj runtime.Object, replicas int32)
}

// Strategy is the per-type behaviour of writes, upstream's RESTCreateStrategy and
// RESTUpdateStrategy in one.
type Strategy interface {
	// Default sets unset fields to their defaults (upstream's defaulters).
	Default(obj runtime.Object)
	// PrepareForCreate clears what users may not set on create, such as status.
	PrepareForCreate(ctx context.Context, obj runtime.Object)
	// PrepareForUpdate carries over from old what an update may not change.
	PrepareForUpdate(ctx context.Context, obj, old runtime.Object)
	// Validate checks a new object; metadata is checked by the caller.
	Validate(ctx context.Context, obj runtime.Object) field.ErrorList
	// ValidateUpdate checks a changed object against its previous state.
	ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList
}

// StatusStrategy is the behaviour of the status subresource.
type StatusStrategy interface {
	PrepareForStatusUpdate(ctx context.Context, obj, old runtime.Object)
	ValidateStatusUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList
}

// SubresourceStrategy is the behaviour of updatable subresources other than
// status and scale (certificatesigningrequests/approval): each changes only
// what it governs. The subresources are those of Resource.Subresources whose
// verbs include update.
type SubresourceStrategy interface {
	PrepareForSubresourceUpdate(ctx context.Context, subresource string, obj, old runtime.Object)
	ValidateSubresourceUpdate(ctx context.Context, subresource string, obj, old runtime.Object) field.ErrorList
}

// UpdatableSubresource reports whether sub is a subresource of r that a
// SubresourceStrategy updates.
func (r *Resource) UpdatableSubresource(sub string) bool {
	if _, ok := r.Strategy.(SubresourceStrategy); !ok {
		return false
	}
	for _, s := range r.Subresources {
		if s.Name == sub {
			for _, v := range s.Verbs {
				if v == "update" {
					return true
				}
			}
		}
	}
	return false
}

// GracefulStrategy decides the grace period of a deletion (pods).
type GracefulStrategy interface {
	// GracePeriod returns the seconds to wait before the object is removed, and
	// whether deletion is graceful at all for this object.
	GracePeriod(obj runtime.Object, requested *int64) (int64, bool)
}

// Warner returns warnings for a written object (deprecated fields and the like).
type Warner interface {
	Warnings(obj runtime.Object) []string
}

// Hooks run around storage writes.
type Hooks interface {
	// BeforeCreate runs after validation, before the object is stored; it may
	// allocate (cluster IPs) and must undo that if the returned func is called.
	BeforeCreate(ctx context.Context, obj runtime.Object, dryRun bool) (undo func(), err error)
	// BeforeUpdate is the same for updates.
	BeforeUpdate(ctx context.Context, obj, old runtime.Object, dryRun bool) (undo func(), err error)
	// AfterDelete releases what the object held.
	AfterDelete(ctx context.Context, obj runtime.Object)
}

// TableConvertor prints objects as server-side table rows.
type TableConvertor interface {
	Columns() []metav1.TableColumnDefinition
	// Row returns the cells of one object, matching Columns.
	Row(obj runtime.Object) ([]interface{}, error)
}

// Registry is the set of served resources.
type Registry struct {
	mu        sync.RWMutex
	resources []*Resource
	byGVR     map[schema.GroupVersionResource]*Resource
	byType    map[string]*Resource // Go type name of New() → storage-version resource
}

// New returns an empty registry.
func New() *Registry {
	return &Registry{byGVR: map[schema.GroupVersionResource]*Resource{}, byType: map[string]*Resource{}}
}

// Add registers resources; a duplicate is a programming error reported as one.
func (g *Registry) Add(rs ...*Resource) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, r := range rs {
		gvr := schema.GroupVersionResource{Group: r.Group, Version: r.Version, Resource: r.Name}
		if _, dup := g.byGVR[gvr]; dup {
			return fmt.Errorf("registry: %s registered twice", gvr)
		}
		if r.Strategy == nil {
			return fmt.Errorf("registry: %s has no strategy", gvr)
		}
		g.byGVR[gvr] = r
		g.resources = append(g.resources, r)
		key := fmt.Sprintf("%T", r.New())
		if _, unstructured := r.New().(runtime.Unstructured); unstructured {
			continue
		}
		if _, ok := g.byType[key]; !ok || !r.Converts() {
			g.byType[key] = r
		}
	}
	return nil
}

// Get finds a resource by group, version and plural name.
func (g *Registry) Get(gvr schema.GroupVersionResource) *Resource {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.byGVR[gvr]
}

// All returns every resource in registration order.
func (g *Registry) All() []*Resource {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.resources[:len(g.resources):len(g.resources)]
}

// Remove unregisters a resource added while serving (a custom resource version).
func (g *Registry) Remove(gvr schema.GroupVersionResource) {
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.byGVR[gvr]
	if r == nil {
		return
	}
	delete(g.byGVR, gvr)
	out := make([]*Resource, 0, len(g.resources))
	for _, x := range g.resources {
		if x != r {
			out = append(out, x)
		}
	}
	g.resources = out
}

// ForObject finds the resource whose served type obj is. Unstructured objects
// (custom resources) are found by their apiVersion and kind.
func (g *Registry) ForObject(obj runtime.Object) *Resource {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if _, ok := obj.(runtime.Unstructured); ok {
		gvk := obj.GetObjectKind().GroupVersionKind()
		for _, r := range g.resources {
			if r.GroupVersionKind() == gvk {
				return r
			}
		}
		return nil
	}
	return g.byType[fmt.Sprintf("%T", obj)]
}

// Default applies the strategy defaults of obj's type; it implements
// runtime.ObjectDefaulter for the field manager.
func (g *Registry) Default(obj runtime.Object) {
	if r := g.ForObject(obj); r != nil {
		r.Strategy.Default(obj)
	}
}
