package core

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/podspec"
)

// ReplicationControllers is core/v1 replicationcontrollers, with status and scale.
func ReplicationControllers() *registry.Resource {
	return &registry.Resource{
		Version: "v1", Name: "replicationcontrollers", Kind: "ReplicationController", SingularName: "replicationcontroller",
		// Kept for backwards compatibility, as upstream: v1 controllers orphan their pods.
		GCPolicy:   registry.GCOrphan,
		ShortNames: []string{"rc"}, Categories: []string{"all"}, Namespaced: true,
		New:       func() runtime.Object { return &corev1.ReplicationController{} },
		NewList:   func() runtime.Object { return &corev1.ReplicationControllerList{} },
		KeyPrefix: "controllers",
		Status:    true,
		Scale: &registry.ScaleSubresource{
			SpecReplicasPath: ".spec.replicas", StatusReplicasPath: ".status.replicas",
			Selector: func(obj runtime.Object) (string, error) {
				return labels.SelectorFromSet(obj.(*corev1.ReplicationController).Spec.Selector).String(), nil
			},
			GetReplicas: func(obj runtime.Object) (int32, int32) {
				rc := obj.(*corev1.ReplicationController)
				spec := int32(0)
				if rc.Spec.Replicas != nil {
					spec = *rc.Spec.Replicas
				}
				return spec, rc.Status.Replicas
			},
			SetReplicas: func(obj runtime.Object, n int32) { obj.(*corev1.ReplicationController).Spec.Replicas = &n },
		},
		Strategy: &registry.Generic{
			Defaults: defaultRC,
			Validation: func(obj runtime.Object) field.ErrorList {
				return validateRCSpec(&obj.(*corev1.ReplicationController).Spec)
			},
			StatusValidation: validateRCStatus,
		},
		Fields: func(obj runtime.Object) map[string]string {
			return map[string]string{"status.replicas": strconv.Itoa(int(obj.(*corev1.ReplicationController).Status.Replicas))}
		},
		Table: &registry.Table{
			Cols: []metav1.TableColumnDefinition{registry.NameColumn,
				registry.Col("Desired", "integer", corev1.ReplicationControllerSpec{}.SwaggerDoc()["replicas"], 0),
				registry.Col("Current", "integer", corev1.ReplicationControllerStatus{}.SwaggerDoc()["replicas"], 0),
				registry.Col("Ready", "integer", corev1.ReplicationControllerStatus{}.SwaggerDoc()["readyReplicas"], 0),
				registry.AgeColumn,
				registry.Col("Containers", "string", "Names of each container in the template.", 1),
				registry.Col("Images", "string", "Images referenced by each container in the template.", 1),
				registry.Col("Selector", "string", corev1.ReplicationControllerSpec{}.SwaggerDoc()["selector"], 1)},
			Cells: func(obj runtime.Object) []interface{} {
				rc := obj.(*corev1.ReplicationController)
				desired := int64(0)
				if rc.Spec.Replicas != nil {
					desired = int64(*rc.Spec.Replicas)
				}
				var containers []corev1.Container
				if rc.Spec.Template != nil {
					containers = rc.Spec.Template.Spec.Containers
				}
				names, images := containerCells(containers)
				return []interface{}{rc.Name, desired, int64(rc.Status.Replicas), int64(rc.Status.ReadyReplicas),
					registry.Age(rc.CreationTimestamp), names, images, labels.FormatLabels(rc.Spec.Selector)}
			},
		},
	}
}

// defaultRC: the selector and labels default to the template's labels, replicas to one.
func defaultRC(obj runtime.Object) {
	rc := obj.(*corev1.ReplicationController)
	if t := rc.Spec.Template; t != nil && t.Labels != nil {
		if len(rc.Spec.Selector) == 0 {
			rc.Spec.Selector = t.Labels
		}
		if len(rc.Labels) == 0 {
			rc.Labels = t.Labels
		}
	}
	if rc.Spec.Replicas == nil {
		one := int32(1)
		rc.Spec.Replicas = &one
	}
	podspec.DefaultPodTemplateSpec(rc.Spec.Template)
}

func validateRCSpec(spec *corev1.ReplicationControllerSpec) field.ErrorList {
	fld := field.NewPath("spec")
	errs := apivalidation.ValidateNonnegativeField(int64(spec.MinReadySeconds), fld.Child("minReadySeconds"))
	if labels.Set(spec.Selector).AsSelector().Empty() {
		errs = append(errs, field.Required(fld.Child("selector"), ""))
	}
	if spec.Replicas == nil {
		errs = append(errs, field.Required(fld.Child("replicas"), ""))
	} else {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*spec.Replicas), fld.Child("replicas"))...)
	}
	tp := fld.Child("template")
	t := spec.Template
	if t == nil {
		return append(errs, field.Required(tp, ""))
	}
	if sel := labels.Set(spec.Selector).AsSelector(); !sel.Empty() && !sel.Matches(labels.Set(t.Labels)) {
		errs = append(errs, field.Invalid(tp.Child("metadata", "labels"), t.Labels, "`selector` does not match template `labels`"))
	}
	errs = append(errs, podspec.ValidatePodTemplateSpec(t, tp)...)
	if t.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(tp.Child("spec", "restartPolicy"), t.Spec.RestartPolicy, []corev1.RestartPolicy{corev1.RestartPolicyAlways}))
	}
	if t.Spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Forbidden(tp.Child("spec", "activeDeadlineSeconds"), "activeDeadlineSeconds in ReplicationController is not Supported"))
	}
	return errs
}

func validateRCStatus(obj, _ runtime.Object) field.ErrorList {
	st := obj.(*corev1.ReplicationController).Status
	fld := field.NewPath("status")
	var errs field.ErrorList
	for _, f := range []struct {
		name string
		v    int32
	}{{"replicas", st.Replicas}, {"fullyLabeledReplicas", st.FullyLabeledReplicas}, {"readyReplicas", st.ReadyReplicas},
		{"availableReplicas", st.AvailableReplicas}} {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(f.v), fld.Child(f.name))...)
	}
	errs = append(errs, apivalidation.ValidateNonnegativeField(st.ObservedGeneration, fld.Child("observedGeneration"))...)
	const msg = "cannot be greater than status.replicas"
	if st.FullyLabeledReplicas > st.Replicas {
		errs = append(errs, field.Invalid(fld.Child("fullyLabeledReplicas"), st.FullyLabeledReplicas, msg))
	}
	if st.ReadyReplicas > st.Replicas {
		errs = append(errs, field.Invalid(fld.Child("readyReplicas"), st.ReadyReplicas, msg))
	}
	if st.AvailableReplicas > st.Replicas {
		errs = append(errs, field.Invalid(fld.Child("availableReplicas"), st.AvailableReplicas, msg))
	}
	if st.AvailableReplicas > st.ReadyReplicas {
		errs = append(errs, field.Invalid(fld.Child("availableReplicas"), st.AvailableReplicas, "cannot be greater than readyReplicas"))
	}
	return errs
}
