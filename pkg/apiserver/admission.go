package apiserver

import (
	"context"
	"fmt"
	"net/http"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/admission/noderestriction"
	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/storage"
)

// immortalNamespaces may not be deleted, as upstream's NamespaceLifecycle rules.
var immortalNamespaces = map[string]bool{"default": true, "kube-system": true, "kube-public": true}

// admission runs the built-in admission rules every write passes.
type admission struct {
	reg *registry.Registry
	vap *vapEngine
}

func newAdmission(reg *registry.Registry) *admission {
	return &admission{reg: reg, vap: newVAPEngine(reg)}
}

// admitCreate runs the built-in rules, then the ValidatingAdmissionPolicies.
func (a *admission) admitCreate(ctx context.Context, res *registry.Resource, obj runtime.Object) error {
	if err := a.admitCreateBuiltin(ctx, res, obj); err != nil {
		return err
	}
	if err := a.admitNodeRestriction(ctx, noderestriction.Create, res, obj.(metav1.Object).GetNamespace(), "", obj, nil); err != nil {
		return err
	}
	return a.vap.admit(ctx, admissionv1.Create, res, obj, nil, obj.(metav1.Object).GetNamespace(), obj.(metav1.Object).GetName())
}

// admitCreateBuiltin: the namespace must exist and not be terminating.
func (a *admission) admitCreateBuiltin(ctx context.Context, res *registry.Resource, obj runtime.Object) error {
	if !res.Namespaced {
		return nil
	}
	ns := obj.(metav1.Object).GetNamespace()
	nsRes := a.reg.Get(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"})
	if nsRes == nil || nsRes.Store == nil {
		return nil
	}
	got, err := nsRes.Store.Get(ctx, nsRes.Store.Key("", ns), ns, storage.ReadOptions{ResourceVersion: "0"})
	if apierrors.IsNotFound(err) {
		// The cache may lag a namespace created a moment ago; ask for the latest.
		got, err = nsRes.Store.Get(ctx, nsRes.Store.Key("", ns), ns, storage.ReadOptions{})
	}
	if err != nil {
		return err
	}
	if n, ok := got.(*corev1.Namespace); ok && (n.Status.Phase == corev1.NamespaceTerminating || n.DeletionTimestamp != nil) {
		err := statusError(http.StatusForbidden, metav1.StatusReasonForbidden,
			fmt.Sprintf("%s %q is forbidden: unable to create new content in namespace %s because it is being terminated", res.Name, obj.(metav1.Object).GetName(), ns))
		err.ErrStatus.Details = &metav1.StatusDetails{Name: obj.(metav1.Object).GetName(), Group: res.Group, Kind: res.Name,
			Causes: []metav1.StatusCause{{Type: corev1.NamespaceTerminatingCause, Message: fmt.Sprintf("namespace %s is being terminated", ns), Field: "metadata.namespace"}}}
		return err
	}
	if pod, ok := obj.(*corev1.Pod); ok && res.Group == "" && res.Name == "pods" {
		if err := a.admitPriority(ctx, res, pod); err != nil {
			return err
		}
		return a.admitRuntimeClass(ctx, res, pod)
	}
	return nil
}

// admitUpdate runs the ValidatingAdmissionPolicies; quota and limit checks go here too.
func (a *admission) admitUpdate(ctx context.Context, res *registry.Resource, obj, old runtime.Object) error {
	m := obj.(metav1.Object)
	if !admissionInfoFrom(ctx).deleting {
		if err := a.admitNodeRestriction(ctx, noderestriction.Update, res, m.GetNamespace(), m.GetName(), obj, old); err != nil {
			return err
		}
	}
	return a.vap.admit(ctx, admissionv1.Update, res, obj, old, obj.(metav1.Object).GetNamespace(), obj.(metav1.Object).GetName())
}

// admitDelete forbids deleting the namespaces the cluster needs.
func (a *admission) admitDelete(ctx context.Context, res *registry.Resource, namespace, name string) error {
	if res.Name == "namespaces" && res.Group == "" && immortalNamespaces[name] {
		return apierrors.NewForbidden(res.GroupResource(), name, fmt.Errorf("this namespace may not be deleted"))
	}
	if err := a.admitNodeRestriction(ctx, noderestriction.Delete, res, namespace, name, nil, nil); err != nil {
		return err
	}
	return a.vap.admit(ctx, admissionv1.Delete, res, nil, nil, namespace, name)
}
