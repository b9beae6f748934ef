package webhook

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"

	"github.com/minik8s/minik8s/pkg/admission"
	"github.com/minik8s/minik8s/pkg/admission/validatingadmissionpolicy"
)

var namespacesGVR = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}

// call is one request's state across the hooks that match it: what is read
// or converted once (namespace labels, CEL input) and forgotten when a
// webhook changes the object.
type request struct {
	a       *admission.Attributes
	objects admission.Objects

	nsLoaded bool
	nsLabels labels.Set
	nsErr    error
	input    *validatingadmissionpolicy.ConditionInput
	inputErr error
}

// objectChanged forgets what was derived from the object.
func (r *request) objectChanged() { r.input, r.inputErr = nil, nil }

// shouldCall applies a hook's namespaceSelector, objectSelector and
// matchConditions (its rules matched already). An error refuses the request.
func (r *request) shouldCall(ctx context.Context, h *hook) (bool, error) {
	a := r.a
	if h.selectorErr != nil {
		return false, apierrors.NewInternalError(h.selectorErr)
	}
	if h.nsSelector != nil {
		ok, err := r.namespaceMatches(ctx, h.nsSelector)
		if err != nil {
			return false, err
		}
		if !ok {
			return false, nil
		}
	}
	if h.objSelector != nil && !labelsMatch(h.objSelector, a.Object) && !labelsMatch(h.objSelector, a.OldObject) {
		return false, nil
	}
	if len(h.conditions) == 0 {
		return true, nil
	}
	if r.input == nil && r.inputErr == nil {
		r.input, r.inputErr = validatingadmissionpolicy.NewConditionInput(a.Object, a.OldObject, a.Kind, conditionRequest(a))
	}
	var errs []error
	if r.inputErr != nil {
		errs = append(errs, r.inputErr)
	} else {
		for _, c := range h.conditions {
			ok, err := c.Eval(ctx, r.input)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if !ok {
				return false, nil
			}
		}
	}
	if len(errs) == 0 {
		return true, nil
	}
	if h.failOpen {
		return false, nil
	}
	return false, apierrors.NewForbidden(a.GroupResource(), a.Name, utilerrors.NewAggregate(errs))
}

// namespaceMatches: a cluster-scoped object always matches; a namespace is
// matched by its own labels; any other object by its namespace's.
func (r *request) namespaceMatches(ctx context.Context, sel labels.Selector) (bool, error) {
	a := r.a
	if a.Resource.Group == "" && a.Resource.Resource == "namespaces" {
		obj := a.Object
		if obj == nil {
			obj = a.OldObject
		}
		return labelsMatch(sel, obj), nil
	}
	if a.Namespace == "" {
		return true, nil
	}
	if !r.nsLoaded {
		r.nsLoaded = true
		got, err := r.objects.Get(ctx, namespacesGVR, "", a.Namespace)
		if err != nil {
			r.nsErr = apierrors.NewInternalError(fmt.Errorf("get namespace %q: %w", a.Namespace, err))
		} else if ns, ok := got.(*corev1.Namespace); ok {
			r.nsLabels = labels.Set(ns.Labels)
		}
	}
	if r.nsErr != nil {
		return false, r.nsErr
	}
	return sel.Matches(r.nsLabels), nil
}

func labelsMatch(sel labels.Selector, obj runtime.Object) bool {
	if obj == nil {
		return false
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return false
	}
	return sel.Matches(labels.Set(m.GetLabels()))
}

// conditionRequest is the `request` CEL variable: the AdmissionRequest's
// fields other than the objects.
func conditionRequest(a *admission.Attributes) map[string]any {
	kind := map[string]any{"group": a.Kind.Group, "version": a.Kind.Version, "kind": a.Kind.Kind}
	res := map[string]any{"group": a.Resource.Group, "version": a.Resource.Version, "resource": a.Resource.Resource}
	u := userInfo(a)
	groups := make([]any, len(u.Groups))
	for i, g := range u.Groups {
		groups[i] = g
	}
	extra := map[string]any{}
	for k, vs := range u.Extra {
		l := make([]any, len(vs))
		for i, v := range vs {
			l[i] = v
		}
		extra[k] = l
	}
	return map[string]any{
		"kind": kind, "resource": res, "subResource": a.Subresource,
		"requestKind": kind, "requestResource": res, "requestSubResource": a.Subresource,
		"name": a.Name, "namespace": a.Namespace, "operation": string(a.Operation),
		"userInfo": map[string]any{"username": u.Username, "uid": u.UID, "groups": groups, "extra": extra},
		"dryRun":   a.DryRun,
	}
}
