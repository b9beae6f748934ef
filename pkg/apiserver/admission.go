package apiserver

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/minik8s/minik8s/pkg/admission"
	"github.com/minik8s/minik8s/pkg/audit"
	"github.com/minik8s/minik8s/pkg/registry"
)

// The write paths pass every create, update and delete through the admission
// chain (pkg/admission): the mutating phase before the strategy prepares and
// validates the object, the validating phase after, as upstream does.

// admissionInfo is what the write path knows about a request beyond its object.
type admissionInfo struct {
	subresource string
	dryRun      bool
	// admitted marks the writes the server makes for a request admission has
	// seen already (the update by which a deletion marks its object, the pod
	// update of a binding): they are not admitted again.
	admitted bool
	warnings *[]string // where plugins' warnings go; nil drops them
}

type admissionInfoKey struct{}

func admissionInfoFrom(ctx context.Context) admissionInfo {
	if v, ok := ctx.Value(admissionInfoKey{}).(*admissionInfo); ok {
		return *v
	}
	return admissionInfo{}
}

// withAdmissionWarnings makes admission warnings of this request go to w.
func withAdmissionWarnings(ctx context.Context, w *[]string) context.Context {
	info := admissionInfoFrom(ctx)
	info.warnings = w
	return context.WithValue(ctx, admissionInfoKey{}, &info)
}

// withAdmissionWrite records the subresource and dry-run flag of a write.
func withAdmissionWrite(ctx context.Context, subresource string, dryRun bool) context.Context {
	info := admissionInfoFrom(ctx)
	if info.subresource == subresource && info.dryRun == dryRun {
		return ctx
	}
	info.subresource, info.dryRun = subresource, dryRun
	return context.WithValue(ctx, admissionInfoKey{}, &info)
}

// withAdmitted marks the server's own follow-up writes (see admissionInfo).
func withAdmitted(ctx context.Context) context.Context {
	info := admissionInfoFrom(ctx)
	info.admitted = true
	return context.WithValue(ctx, admissionInfoKey{}, &info)
}

// admissionFor builds the attributes of a write, or returns nil when no plugin
// acts on such a request (then the write costs the chain one map lookup).
func (s *Server) admissionFor(ctx context.Context, op admission.Operation, res *registry.Resource, namespace, name string, obj, old runtime.Object) *admission.Attributes {
	info := admissionInfoFrom(ctx)
	if info.admitted || s.admission == nil {
		return nil
	}
	t := admission.Target{Resource: res.GroupResource(), Subresource: info.subresource, Namespaced: res.Namespaced}
	if !s.admission.Mutates(t, op) && !s.admission.Validates(t, op) {
		return nil
	}
	kind := res.GroupVersionKind()
	if obj != nil && info.subresource != "" {
		if gvk := obj.GetObjectKind().GroupVersionKind(); !gvk.Empty() {
			kind = gvk
		}
	}
	if name == "" && obj != nil {
		if m, ok := obj.(metav1.Object); ok {
			name = m.GetName()
		}
	}
	a := &admission.Attributes{Operation: op, Kind: kind, Resource: res.GroupVersionResource(), Subresource: info.subresource,
		Namespaced: res.Namespaced, Namespace: namespace, Name: name, Object: obj, OldObject: old, User: UserFrom(ctx),
		DryRun: info.dryRun, Warnings: info.warnings}
	if q := audit.RequestFrom(ctx); q != nil {
		a.Annotate = q.AddAnnotation
	}
	return a
}

// mutate runs the mutating phase of a (nil: no plugin acts).
func (s *Server) mutate(ctx context.Context, a *admission.Attributes) error {
	if a == nil {
		return nil
	}
	return s.admission.Admit(ctx, a)
}

// mutateThenPrune runs the mutating phase of a and then drops from obj the
// fields a custom resource's schema does not know: a webhook may add some, and
// upstream prunes them silently (no fieldValidation warnings; the caller did
// not send them).
func (s *Server) mutateThenPrune(ctx context.Context, a *admission.Attributes, res *registry.Resource, obj runtime.Object) error {
	if a == nil {
		return nil
	}
	if err := s.admission.Admit(ctx, a); err != nil {
		return err
	}
	if res.Prune != nil && obj != nil {
		res.Prune(obj)
	}
	return nil
}

// validate runs the validating phase of a on obj, the object as it will be stored.
func (s *Server) validate(ctx context.Context, a *admission.Attributes, obj runtime.Object) error {
	if a == nil {
		return nil
	}
	if obj != nil {
		a.Object = obj
	}
	return s.admission.Validate(ctx, a)
}
