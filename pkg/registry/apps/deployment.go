package apps

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/badvalue"
	"github.com/minik8s/minik8s/pkg/registry/podspec"
	"github.com/minik8s/minik8s/pkg/registry/workload"
)

// Deployments is apps/v1 deployments.
func Deployments() *registry.Resource {
	return &registry.Resource{
		Group: "apps", Version: "v1", Name: "deployments", Kind: "Deployment", SingularName: "deployment",
		ShortNames: []string{"deploy"}, Categories: []string{"all"}, Namespaced: true,
		New:       func() runtime.Object { return &appsv1.Deployment{} },
		NewList:   func() runtime.Object { return &appsv1.DeploymentList{} },
		KeyPrefix: "deployments",
		Status:    true,
		Scale: &registry.ScaleSubresource{
			SpecReplicasPath: ".spec.replicas", StatusReplicasPath: ".status.replicas",
			GetReplicas: func(obj runtime.Object) (int32, int32) {
				d := obj.(*appsv1.Deployment)
				return deref(d.Spec.Replicas), d.Status.Replicas
			},
			SetReplicas: func(obj runtime.Object, n int32) { obj.(*appsv1.Deployment).Spec.Replicas = &n },
			Selector: func(obj runtime.Object) (string, error) {
				return scaleSelector(obj.(*appsv1.Deployment).Spec.Selector)
			},
		},
		Strategy: &registry.Generic{
			Defaults:         defaultDeployment,
			Validation:       func(obj runtime.Object) field.ErrorList { return validateDeployment(obj.(*appsv1.Deployment)) },
			UpdateValidation: validateDeploymentUpdate,
			StatusValidation: func(obj, old runtime.Object) field.ErrorList {
				return validateDeploymentStatusUpdate(obj.(*appsv1.Deployment), old.(*appsv1.Deployment))
			},
			Update: bumpGenerationOnAnnotationChange,
		},
		Table: deploymentTable(),
	}
}

func defaultDeployment(obj runtime.Object) {
	d := obj.(*appsv1.Deployment)
	if d.Spec.Replicas == nil {
		d.Spec.Replicas = int32Ptr(1)
	}
	s := &d.Spec.Strategy
	if s.Type == "" {
		s.Type = appsv1.RollingUpdateDeploymentStrategyType
	}
	if s.Type == appsv1.RollingUpdateDeploymentStrategyType {
		if s.RollingUpdate == nil {
			s.RollingUpdate = &appsv1.RollingUpdateDeployment{}
		}
		if s.RollingUpdate.MaxUnavailable == nil {
			v := intstr.FromString("25%")
			s.RollingUpdate.MaxUnavailable = &v
		}
		if s.RollingUpdate.MaxSurge == nil {
			v := intstr.FromString("25%")
			s.RollingUpdate.MaxSurge = &v
		}
	}
	if d.Spec.RevisionHistoryLimit == nil {
		d.Spec.RevisionHistoryLimit = int32Ptr(10)
	}
	if d.Spec.ProgressDeadlineSeconds == nil {
		d.Spec.ProgressDeadlineSeconds = int32Ptr(600)
	}
	podspec.DefaultPodTemplateSpec(&d.Spec.Template)
}

// bumpGenerationOnAnnotationChange: a Deployment's generation also counts
// annotation changes, because rollbacks were once requested through annotations.
func bumpGenerationOnAnnotationChange(obj, old runtime.Object) {
	d, od := obj.(*appsv1.Deployment), old.(*appsv1.Deployment)
	if d.Generation == od.Generation && !equality.Semantic.DeepEqual(d.Annotations, od.Annotations) {
		d.Generation = od.Generation + 1
	}
}

func validateDeployment(d *appsv1.Deployment) field.ErrorList {
	spec := &d.Spec
	fld := field.NewPath("spec")
	errs := apivalidation.ValidateNonnegativeField(int64(deref(spec.Replicas)), fld.Child("replicas"))
	errs = append(errs, workload.ValidateSelector(spec.Selector, fld.Child("selector"), "deployment")...)
	errs = append(errs, validateReplicatedTemplate(spec.Selector, &spec.Template, fld.Child("template"), "ReplicaSet")...)
	errs = append(errs, validateDeploymentStrategy(&spec.Strategy, fld.Child("strategy"))...)
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(spec.MinReadySeconds), fld.Child("minReadySeconds"))...)
	if spec.RevisionHistoryLimit != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*spec.RevisionHistoryLimit), fld.Child("revisionHistoryLimit"))...)
	}
	if spec.ProgressDeadlineSeconds != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*spec.ProgressDeadlineSeconds), fld.Child("progressDeadlineSeconds"))...)
		if *spec.ProgressDeadlineSeconds <= spec.MinReadySeconds {
			errs = append(errs, field.Invalid(fld.Child("progressDeadlineSeconds"), spec.ProgressDeadlineSeconds, "must be greater than minReadySeconds"))
		}
	}
	return errs
}

// validateReplicatedTemplate checks the template of a ReplicaSet or Deployment:
// its labels match the selector and its pods run forever. kind names the
// resource in the activeDeadlineSeconds message, which upstream words as
// "ReplicaSet" for both.
func validateReplicatedTemplate(sel *metav1.LabelSelector, t *corev1.PodTemplateSpec, fld *field.Path, kind string) field.ErrorList {
	errs := workload.SelectorMatchesLabels(sel, t.Labels, fld.Child("metadata", "labels"))
	return append(errs, workload.ValidateLongRunningTemplate(t, fld, kind)...)
}

func validateDeploymentStrategy(s *appsv1.DeploymentStrategy, fld *field.Path) field.ErrorList {
	switch s.Type {
	case appsv1.RecreateDeploymentStrategyType:
		if s.RollingUpdate != nil {
			return field.ErrorList{field.Forbidden(fld.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'")}
		}
		return nil
	case appsv1.RollingUpdateDeploymentStrategyType:
		if s.RollingUpdate == nil {
			return field.ErrorList{field.Required(fld.Child("rollingUpdate"), "this should be defaulted and never be nil")}
		}
		return validateRollingUpdateDeployment(s.RollingUpdate, fld.Child("rollingUpdate"))
	}
	return field.ErrorList{field.NotSupported(fld, badvalue.Internal(*s), []appsv1.DeploymentStrategyType{
		appsv1.RecreateDeploymentStrategyType, appsv1.RollingUpdateDeploymentStrategyType})}
}

func validateRollingUpdateDeployment(ru *appsv1.RollingUpdateDeployment, fld *field.Path) field.ErrorList {
	unavailable, surge := derefIntOrString(ru.MaxUnavailable), derefIntOrString(ru.MaxSurge)
	errs := workload.ValidateIntOrPercent(unavailable, fld.Child("maxUnavailable"))
	errs = append(errs, workload.ValidateIntOrPercent(surge, fld.Child("maxSurge"))...)
	if workload.IntOrPercentValue(unavailable) == 0 && workload.IntOrPercentValue(surge) == 0 {
		errs = append(errs, field.Invalid(fld.Child("maxUnavailable"), unavailable, "may not be 0 when `maxSurge` is 0"))
	}
	return append(errs, workload.NotMoreThan100Percent(unavailable, fld.Child("maxUnavailable"))...)
}

func validateDeploymentUpdate(obj, old runtime.Object) field.ErrorList {
	d, od := obj.(*appsv1.Deployment), old.(*appsv1.Deployment)
	errs := validateDeployment(d)
	return append(errs, apivalidation.ValidateImmutableField(d.Spec.Selector, od.Spec.Selector, field.NewPath("spec", "selector"))...)
}

func validateDeploymentStatusUpdate(d, old *appsv1.Deployment) field.ErrorList {
	s := &d.Status
	fld := field.NewPath("status")
	errs := nonNegative(fld, counter{"observedGeneration", s.ObservedGeneration}, counter{"replicas", int64(s.Replicas)},
		counter{"updatedReplicas", int64(s.UpdatedReplicas)}, counter{"readyReplicas", int64(s.ReadyReplicas)},
		counter{"availableReplicas", int64(s.AvailableReplicas)}, counter{"unavailableReplicas", int64(s.UnavailableReplicas)})
	if s.TerminatingReplicas != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*s.TerminatingReplicas), fld.Child("terminatingReplicas"))...)
	}
	if s.CollisionCount != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*s.CollisionCount), fld.Child("collisionCount"))...)
	}
	errs = append(errs, notAboveReplicas(fld, s.Replicas, counter{"updatedReplicas", int64(s.UpdatedReplicas)},
		counter{"readyReplicas", int64(s.ReadyReplicas)}, counter{"availableReplicas", int64(s.AvailableReplicas)})...)
	if s.AvailableReplicas > s.ReadyReplicas {
		errs = append(errs, field.Invalid(fld.Child("availableReplicas"), s.AvailableReplicas, "cannot be greater than readyReplicas"))
	}
	return append(errs, collisionCountNotDecremented(s.CollisionCount, old.Status.CollisionCount)...)
}

func deploymentTable() *registry.Table {
	return &registry.Table{
		Cols: []metav1.TableColumnDefinition{registry.NameColumn,
			registry.Col("Ready", "string", "Number of the pod with ready state", 0),
			registry.Col("Up-to-date", "string", appsv1.DeploymentStatus{}.SwaggerDoc()["updatedReplicas"], 0),
			registry.Col("Available", "string", appsv1.DeploymentStatus{}.SwaggerDoc()["availableReplicas"], 0),
			registry.AgeColumn,
			workload.ContainersColumn, workload.ImagesColumn,
			registry.Col("Selector", "string", appsv1.DeploymentSpec{}.SwaggerDoc()["selector"], 1),
		},
		Cells: func(obj runtime.Object) []interface{} {
			d := obj.(*appsv1.Deployment)
			names, images := workload.ContainerCells(d.Spec.Template.Spec.Containers)
			return []interface{}{d.Name, ratio(d.Status.ReadyReplicas, deref(d.Spec.Replicas)),
				int64(d.Status.UpdatedReplicas), int64(d.Status.AvailableReplicas), registry.Age(d.CreationTimestamp),
				names, images, workload.SelectorString(d.Spec.Selector)}
		},
	}
}
