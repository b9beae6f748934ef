package apps

import (
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/badvalue"
	"github.com/minik8s/minik8s/pkg/registry/podspec"
	"github.com/minik8s/minik8s/pkg/registry/workload"
)

// DaemonSets is apps/v1 daemonsets.
func DaemonSets() *registry.Resource {
	return &registry.Resource{
		Group: "apps", Version: "v1", Name: "daemonsets", Kind: "DaemonSet", SingularName: "daemonset",
		ShortNames: []string{"ds"}, Categories: []string{"all"}, Namespaced: true,
		New:       func() runtime.Object { return &appsv1.DaemonSet{} },
		NewList:   func() runtime.Object { return &appsv1.DaemonSetList{} },
		KeyPrefix: "daemonsets",
		Status:    true,
		Strategy: &registry.Generic{
			Defaults:   defaultDaemonSet,
			Create:     func(obj runtime.Object) { setTemplateGeneration(obj.(*appsv1.DaemonSet), nil) },
			Update:     func(obj, old runtime.Object) { setTemplateGeneration(obj.(*appsv1.DaemonSet), old.(*appsv1.DaemonSet)) },
			Validation: func(obj runtime.Object) field.ErrorList { return validateDaemonSetSpec(&obj.(*appsv1.DaemonSet).Spec) },
			UpdateValidation: func(obj, old runtime.Object) field.ErrorList {
				ds, ods := obj.(*appsv1.DaemonSet), old.(*appsv1.DaemonSet)
				errs := apivalidation.ValidateImmutableField(ds.Spec.Selector, ods.Spec.Selector, field.NewPath("spec", "selector"))
				return append(errs, validateDaemonSetSpec(&ds.Spec)...)
			},
			StatusValidation: func(obj, old runtime.Object) field.ErrorList {
				ds, ods := obj.(*appsv1.DaemonSet), old.(*appsv1.DaemonSet)
				return append(validateDaemonSetStatus(&ds.Status), collisionCountNotDecremented(ds.Status.CollisionCount, ods.Status.CollisionCount)...)
			},
		},
		Table: daemonSetTable(),
	}
}

func defaultDaemonSet(obj runtime.Object) {
	ds := obj.(*appsv1.DaemonSet)
	s := &ds.Spec.UpdateStrategy
	if s.Type == "" {
		s.Type = appsv1.RollingUpdateDaemonSetStrategyType
	}
	if s.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		if s.RollingUpdate == nil {
			s.RollingUpdate = &appsv1.RollingUpdateDaemonSet{}
		}
		if s.RollingUpdate.MaxUnavailable == nil {
			v := intstr.FromInt32(1)
			s.RollingUpdate.MaxUnavailable = &v
		}
		if s.RollingUpdate.MaxSurge == nil {
			v := intstr.FromInt32(0)
			s.RollingUpdate.MaxSurge = &v
		}
	}
	if ds.Spec.RevisionHistoryLimit == nil {
		ds.Spec.RevisionHistoryLimit = int32Ptr(10)
	}
	podspec.DefaultPodTemplateSpec(&ds.Spec.Template)
}

// setTemplateGeneration keeps the template generation, which apps/v1 carries in
// an annotation: at least 1 on create, one more on every template change.
func setTemplateGeneration(ds, old *appsv1.DaemonSet) {
	gen := templateGeneration(ds)
	if old != nil {
		gen = templateGeneration(old)
		if !equality.Semantic.DeepEqual(ds.Spec.Template, old.Spec.Template) {
			gen++
		}
	}
	if gen < 1 {
		gen = 1
	}
	if ds.Annotations == nil {
		ds.Annotations = map[string]string{}
	}
	ds.Annotations[appsv1.DeprecatedTemplateGeneration] = strconv.FormatInt(gen, 10)
}

func templateGeneration(ds *appsv1.DaemonSet) int64 {
	gen, err := strconv.ParseInt(ds.Annotations[appsv1.DeprecatedTemplateGeneration], 10, 64)
	if err != nil {
		return 0
	}
	return gen
}

func validateDaemonSetSpec(spec *appsv1.DaemonSetSpec) field.ErrorList {
	fld := field.NewPath("spec")
	var errs field.ErrorList
	// A missing selector is reported as one that does not match the template.
	if spec.Selector != nil {
		errs = append(errs, workload.ValidateSelector(spec.Selector, fld.Child("selector"), "daemonset")...)
	}
	if sel, err := metav1.LabelSelectorAsSelector(spec.Selector); err == nil && !sel.Matches(labels.Set(spec.Template.Labels)) {
		errs = append(errs, field.Invalid(fld.Child("template", "metadata", "labels"), spec.Template.Labels, "`selector` does not match template `labels`"))
	}
	errs = append(errs, workload.ValidateLongRunningTemplate(&spec.Template, fld.Child("template"), "DaemonSet")...)
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(spec.MinReadySeconds), fld.Child("minReadySeconds"))...)
	errs = append(errs, validateDaemonSetUpdateStrategy(&spec.UpdateStrategy, fld.Child("updateStrategy"))...)
	if spec.RevisionHistoryLimit != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*spec.RevisionHistoryLimit), fld.Child("revisionHistoryLimit"))...)
	}
	return errs
}

func validateDaemonSetUpdateStrategy(s *appsv1.DaemonSetUpdateStrategy, fld *field.Path) field.ErrorList {
	switch s.Type {
	case appsv1.OnDeleteDaemonSetStrategyType:
		return nil
	case appsv1.RollingUpdateDaemonSetStrategyType:
		if s.RollingUpdate == nil {
			return field.ErrorList{field.Required(fld.Child("rollingUpdate"), "")}
		}
		rf := fld.Child("rollingUpdate")
		unavailable, surge := derefIntOrString(s.RollingUpdate.MaxUnavailable), derefIntOrString(s.RollingUpdate.MaxSurge)
		errs := workload.ValidateIntOrPercent(unavailable, rf.Child("maxUnavailable"))
		errs = append(errs, workload.ValidateIntOrPercent(surge, rf.Child("maxSurge"))...)
		errs = append(errs, workload.NotMoreThan100Percent(unavailable, rf.Child("maxUnavailable"))...)
		errs = append(errs, workload.NotMoreThan100Percent(surge, rf.Child("maxSurge"))...)
		hasUnavailable, hasSurge := workload.IntOrPercentValue(unavailable) != 0, workload.IntOrPercentValue(surge) != 0
		switch {
		case hasUnavailable && hasSurge:
			errs = append(errs, field.Invalid(rf.Child("maxSurge"), surge, "may not be set when maxUnavailable is non-zero"))
		case !hasUnavailable && !hasSurge:
			errs = append(errs, field.Required(rf.Child("maxUnavailable"), "cannot be 0 when maxSurge is 0"))
		}
		return errs
	}
	return field.ErrorList{field.NotSupported(fld, badvalue.Internal(*s), []appsv1.DaemonSetUpdateStrategyType{
		appsv1.RollingUpdateDaemonSetStrategyType, appsv1.OnDeleteDaemonSetStrategyType})}
}

func validateDaemonSetStatus(s *appsv1.DaemonSetStatus) field.ErrorList {
	fld := field.NewPath("status")
	errs := nonNegative(fld, counter{"currentNumberScheduled", int64(s.CurrentNumberScheduled)},
		counter{"numberMisscheduled", int64(s.NumberMisscheduled)}, counter{"desiredNumberScheduled", int64(s.DesiredNumberScheduled)},
		counter{"numberReady", int64(s.NumberReady)}, counter{"observedGeneration", s.ObservedGeneration},
		counter{"updatedNumberScheduled", int64(s.UpdatedNumberScheduled)}, counter{"numberAvailable", int64(s.NumberAvailable)},
		counter{"numberUnavailable", int64(s.NumberUnavailable)})
	if s.CollisionCount != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*s.CollisionCount), fld.Child("collisionCount"))...)
	}
	return errs
}

func daemonSetTable() *registry.Table {
	doc := appsv1.DaemonSetStatus{}.SwaggerDoc()
	return &registry.Table{
		Cols: []metav1.TableColumnDefinition{registry.NameColumn,
			registry.Col("Desired", "integer", doc["desiredNumberScheduled"], 0),
			registry.Col("Current", "integer", doc["currentNumberScheduled"], 0),
			registry.Col("Ready", "integer", doc["numberReady"], 0),
			registry.Col("Up-to-date", "integer", doc["updatedNumberScheduled"], 0),
			registry.Col("Available", "integer", doc["numberAvailable"], 0),
			registry.Col("Node Selector", "string", corev1.PodSpec{}.SwaggerDoc()["nodeSelector"], 0),
			registry.AgeColumn, workload.ContainersColumn, workload.ImagesColumn,
			registry.Col("Selector", "string", appsv1.DaemonSetSpec{}.SwaggerDoc()["selector"], 1),
		},
		Cells: func(obj runtime.Object) []interface{} {
			ds := obj.(*appsv1.DaemonSet)
			s := ds.Status
			names, images := workload.ContainerCells(ds.Spec.Template.Spec.Containers)
			return []interface{}{ds.Name, int64(s.DesiredNumberScheduled), int64(s.CurrentNumberScheduled), int64(s.NumberReady),
				int64(s.UpdatedNumberScheduled), int64(s.NumberAvailable), labels.FormatLabels(ds.Spec.Template.Spec.NodeSelector),
				registry.Age(ds.CreationTimestamp), names, images, metav1.FormatLabelSelector(ds.Spec.Selector)}
		},
	}
}
