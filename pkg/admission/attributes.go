package admission

import (
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/auth"
)

// Operation is the kind of write being admitted.
type Operation string

// The operations admission sees, named as upstream's AdmissionReview names them.
const (
	Create  Operation = "CREATE"
	Update  Operation = "UPDATE"
	Delete  Operation = "DELETE"
	Connect Operation = "CONNECT"
)

// Attributes describe one write. Mutating plugins may change Object.
type Attributes struct {
	Operation Operation
	// Kind is the kind of Object (for a subresource, the subresource's kind:
	// Eviction, TokenRequest, Binding).
	Kind schema.GroupVersionKind
	// Resource is the resource the request names; Subresource its subresource.
	Resource    schema.GroupVersionResource
	Subresource string
	// Namespaced says whether Resource is namespaced.
	Namespaced bool
	Namespace  string
	// Name is the object's name: the URL's, or for a create the object's
	// (empty when the server generates it).
	Name string
	// Object is the new object (nil for a delete); OldObject the stored one
	// (nil for a create, and for a delete's mutating phase).
	Object, OldObject runtime.Object
	// User made the request; nil for the server's own writes.
	User   *auth.User
	DryRun bool
	// Options are the request's CreateOptions, UpdateOptions or DeleteOptions, if any.
	Options runtime.Object

	// Warnings, when set, receive the warnings plugins give the client.
	Warnings *[]string
	// Annotations, when set, receive the audit annotations plugins add.
	Annotations map[string]string
	// Annotate, when set, also receives them (the request's audit event).
	Annotate func(key, value string)
}

// AddWarning adds a warning for the client, once: an update retried on a
// conflict is admitted again.
func (a *Attributes) AddWarning(msg string) {
	if a.Warnings == nil || slices.Contains(*a.Warnings, msg) {
		return
	}
	*a.Warnings = append(*a.Warnings, msg)
}

// AddAnnotation records an audit annotation (key/value) for this request.
func (a *Attributes) AddAnnotation(key, value string) {
	if a.Annotations != nil {
		a.Annotations[key] = value
	}
	if a.Annotate != nil {
		a.Annotate(key, value)
	}
}

// GroupResource is the resource without its version.
func (a *Attributes) GroupResource() schema.GroupResource { return a.Resource.GroupResource() }

// Is reports whether the request is for group/resource with subresource.
func (a *Attributes) Is(group, resource, subresource string) bool {
	return a.Resource.Resource == resource && a.Resource.Group == group && a.Subresource == subresource
}

// ObjectName is the name upstream's admission errors give the object: the
// request's, else the object's name or generateName, else "Unknown".
func (a *Attributes) ObjectName() string {
	if a.Name != "" {
		return a.Name
	}
	if a.Object != nil {
		m, err := meta.Accessor(a.Object)
		if err != nil {
			// Not every object has metadata: a name with a slash is never valid.
			return "Unknown/errorGettingName"
		}
		if m.GetName() != "" {
			return m.GetName()
		}
		if m.GetGenerateName() != "" {
			return m.GetGenerateName()
		}
	}
	return "Unknown"
}

// Forbidden is upstream's admission refusal: 403 naming the resource and the
// object. An error that is a refusal already is returned as it is.
func (a *Attributes) Forbidden(err error) error {
	if apierrors.IsForbidden(err) {
		return err
	}
	return apierrors.NewForbidden(a.GroupResource(), a.ObjectName(), err)
}
