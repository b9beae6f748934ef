package core

import (
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
)

// Namespaces is core/v1 namespaces. A namespace is created Active with the
// "kubernetes" finalizer, which the namespace controller removes (through
// namespaces/finalize) once the namespace is empty.
func Namespaces() *registry.Resource {
	return &registry.Resource{
		Version: "v1", Name: "namespaces", Kind: "Namespace", SingularName: "namespace", ShortNames: []string{"ns"},
		DeleteReturnsObject: true,
		New:                 func() runtime.Object { return &corev1.Namespace{} },
		NewList:             func() runtime.Object { return &corev1.NamespaceList{} },
		KeyPrefix:           "namespaces",
		Status:              true,
		// Namespaces cannot be deleted as a collection.
		Verbs:     []string{"create", "delete", "get", "list", "patch", "update", "watch"},
		ValidName: apivalidation.ValidateNamespaceName,
		Strategy: &registry.Generic{
			Defaults:     defaultNamespace,
			Create:       prepareNamespaceCreate,
			Update:       func(obj, old runtime.Object) { obj.(*corev1.Namespace).Spec = old.(*corev1.Namespace).Spec },
			Validation:   validateNamespace,
			NoGeneration: true,
		},
		Subresources: []registry.Subresource{{Name: "finalize", Verbs: []string{"update"}}},
		Fields: func(obj runtime.Object) map[string]string {
			return map[string]string{"status.phase": string(obj.(*corev1.Namespace).Status.Phase)}
		},
		Table: &registry.Table{
			Cols: []metav1.TableColumnDefinition{registry.NameColumn,
				registry.Col("Status", "string", "The status of the namespace", 0), registry.AgeColumn},
			Cells: func(obj runtime.Object) []interface{} {
				ns := obj.(*corev1.Namespace)
				return []interface{}{ns.Name, string(ns.Status.Phase), registry.Age(ns.CreationTimestamp)}
			},
		},
	}
}

// defaultNamespace sets the well-known name label, as upstream's defaulter does.
func defaultNamespace(obj runtime.Object) {
	ns := obj.(*corev1.Namespace)
	if ns.Name == "" {
		return
	}
	if ns.Labels == nil {
		ns.Labels = map[string]string{}
	}
	ns.Labels[corev1.LabelMetadataName] = ns.Name
}

func prepareNamespaceCreate(obj runtime.Object) {
	ns := obj.(*corev1.Namespace)
	ns.Status = corev1.NamespaceStatus{Phase: corev1.NamespaceActive}
	has := false
	for _, f := range ns.Spec.Finalizers {
		if f == corev1.FinalizerKubernetes {
			has = true
		}
	}
	if !has {
		ns.Spec.Finalizers = append(ns.Spec.Finalizers, corev1.FinalizerKubernetes)
	}
	defaultNamespace(obj)
}

func validateNamespace(obj runtime.Object) field.ErrorList {
	ns := obj.(*corev1.Namespace)
	var errs field.ErrorList
	for i, f := range ns.Spec.Finalizers {
		errs = append(errs, validateFinalizerName(string(f), field.NewPath("spec", "finalizers").Index(i))...)
	}
	return errs
}

func validateFinalizerName(name string, fld *field.Path) field.ErrorList {
	return apivalidation.ValidateFinalizerName(name, fld)
}
