package workload

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry/podspec"
)

// ValidateLongRunningTemplate checks the template of a controller whose pods run
// forever (ReplicaSet, Deployment, StatefulSet, DaemonSet): a valid pod
// template that restarts always and has no deadline. kind is the capitalized
// name used in upstream's message ("activeDeadlineSeconds in ReplicaSet is not
// Supported").
func ValidateLongRunningTemplate(t *corev1.PodTemplateSpec, fld *field.Path, kind string) field.ErrorList {
	errs := podspec.ValidatePodTemplateSpec(t, fld)
	if t == nil {
		return errs
	}
	if t.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(fld.Child("spec", "restartPolicy"), t.Spec.RestartPolicy,
			[]corev1.RestartPolicy{corev1.RestartPolicyAlways}))
	}
	if t.Spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Forbidden(fld.Child("spec", "activeDeadlineSeconds"),
			"activeDeadlineSeconds in "+kind+" is not Supported"))
	}
	return errs
}
