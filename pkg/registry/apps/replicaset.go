package apps

import (
	appsv1 "k8s.io/api/apps/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/podspec"
	"github.com/minik8s/minik8s/pkg/registry/workload"
)

// ReplicaSets is apps/v1 replicasets.
func ReplicaSets() *registry.Resource {
	return &registry.Resource{
		Group: "apps", Version: "v1", Name: "replicasets", Kind: "ReplicaSet", SingularName: "replicaset",
		ShortNames: []string{"rs"}, Categories: []string{"all"}, Namespaced: true,
		New:       func() runtime.Object { return &appsv1.ReplicaSet{} },
		NewList:   func() runtime.Object { return &appsv1.ReplicaSetList{} },
		KeyPrefix: "replicasets",
		Status:    true,
		Scale: &registry.ScaleSubresource{
			SpecReplicasPath: ".spec.replicas", StatusReplicasPath: ".status.replicas",
			GetReplicas: func(obj runtime.Object) (int32, int32) {
				rs := obj.(*appsv1.ReplicaSet)
				return deref(rs.Spec.Replicas), rs.Status.Replicas
			},
			SetReplicas: func(obj runtime.Object, n int32) { obj.(*appsv1.ReplicaSet).Spec.Replicas = &n },
			Selector: func(obj runtime.Object) (string, error) {
				return scaleSelector(obj.(*appsv1.ReplicaSet).Spec.Selector)
			},
		},
		Strategy: &registry.Generic{
			Defaults: func(obj runtime.Object) {
				rs := obj.(*appsv1.ReplicaSet)
				if rs.Spec.Replicas == nil {
					rs.Spec.Replicas = int32Ptr(1)
				}
				podspec.DefaultPodTemplateSpec(&rs.Spec.Template)
			},
			Validation: func(obj runtime.Object) field.ErrorList { return validateReplicaSet(obj.(*appsv1.ReplicaSet)) },
			UpdateValidation: func(obj, old runtime.Object) field.ErrorList {
				rs, ors := obj.(*appsv1.ReplicaSet), old.(*appsv1.ReplicaSet)
				errs := validateReplicaSet(rs)
				return append(errs, apivalidation.ValidateImmutableField(rs.Spec.Selector, ors.Spec.Selector, field.NewPath("spec", "selector"))...)
			},
			StatusValidation: func(obj, _ runtime.Object) field.ErrorList {
				return validateReplicaSetStatus(&obj.(*appsv1.ReplicaSet).Status)
			},
		},
		Table: replicaSetTable(),
	}
}

func validateReplicaSet(rs *appsv1.ReplicaSet) field.ErrorList {
	spec := &rs.Spec
	fld := field.NewPath("spec")
	errs := apivalidation.ValidateNonnegativeField(int64(deref(spec.Replicas)), fld.Child("replicas"))
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(spec.MinReadySeconds), fld.Child("minReadySeconds"))...)
	// Upstream names the wrong kind here; users see "deployment" for ReplicaSets too.
	errs = append(errs, workload.ValidateSelector(spec.Selector, fld.Child("selector"), "deployment")...)
	return append(errs, validateReplicatedTemplate(spec.Selector, &spec.Template, fld.Child("template"), "ReplicaSet")...)
}

func validateReplicaSetStatus(s *appsv1.ReplicaSetStatus) field.ErrorList {
	fld := field.NewPath("status")
	errs := nonNegative(fld, counter{"replicas", int64(s.Replicas)}, counter{"fullyLabeledReplicas", int64(s.FullyLabeledReplicas)},
		counter{"readyReplicas", int64(s.ReadyReplicas)}, counter{"availableReplicas", int64(s.AvailableReplicas)},
		counter{"observedGeneration", s.ObservedGeneration})
	if s.TerminatingReplicas != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*s.TerminatingReplicas), fld.Child("terminatingReplicas"))...)
	}
	errs = append(errs, notAboveReplicas(fld, s.Replicas, counter{"fullyLabeledReplicas", int64(s.FullyLabeledReplicas)},
		counter{"readyReplicas", int64(s.ReadyReplicas)}, counter{"availableReplicas", int64(s.AvailableReplicas)})...)
	if s.AvailableReplicas > s.ReadyReplicas {
		errs = append(errs, field.Invalid(fld.Child("availableReplicas"), s.AvailableReplicas, "cannot be greater than readyReplicas"))
	}
	return errs
}

func replicaSetTable() *registry.Table {
	return &registry.Table{
		Cols: []metav1.TableColumnDefinition{registry.NameColumn,
			registry.Col("Desired", "integer", appsv1.ReplicaSetSpec{}.SwaggerDoc()["replicas"], 0),
			registry.Col("Current", "integer", appsv1.ReplicaSetStatus{}.SwaggerDoc()["replicas"], 0),
			registry.Col("Ready", "integer", appsv1.ReplicaSetStatus{}.SwaggerDoc()["readyReplicas"], 0),
			registry.AgeColumn,
			workload.ContainersColumn, workload.ImagesColumn,
			registry.Col("Selector", "string", appsv1.ReplicaSetSpec{}.SwaggerDoc()["selector"], 1),
		},
		Cells: func(obj runtime.Object) []interface{} {
			rs := obj.(*appsv1.ReplicaSet)
			names, images := workload.ContainerCells(rs.Spec.Template.Spec.Containers)
			return []interface{}{rs.Name, int64(deref(rs.Spec.Replicas)), int64(rs.Status.Replicas), int64(rs.Status.ReadyReplicas),
				registry.Age(rs.CreationTimestamp), names, images, metav1.FormatLabelSelector(rs.Spec.Selector)}
		},
	}
}
