package core

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/podspec"
)

// Pods is core/v1 pods, with status, graceful deletion and the subresources the
// API server and node agents serve (binding, eviction, log, exec, …). What
// upstream's admission plugins add to new pods (service account and its token,
// priority, default tolerations) they add here too: see pkg/admission.
func Pods() *registry.Resource {
	v1 := func(kind string) schema.GroupVersionKind { return corev1.SchemeGroupVersion.WithKind(kind) }
	return &registry.Resource{
		Version: "v1", Name: "pods", Kind: "Pod", SingularName: "pod", ShortNames: []string{"po"},
		DeleteReturnsObject: true,
		Categories:          []string{"all"}, Namespaced: true,
		New:       func() runtime.Object { return &corev1.Pod{} },
		NewList:   func() runtime.Object { return &corev1.PodList{} },
		KeyPrefix: "pods",
		Status:    true,
		Strategy: podStrategy{&registry.Generic{
			Defaults:         func(obj runtime.Object) { podspec.DefaultPod(obj.(*corev1.Pod)) },
			Validation:       validatePodCreate,
			UpdateValidation: validatePodUpdate,
			StatusValidation: validatePodStatusUpdate,
			Create:           func(obj runtime.Object) { preparePodCreate(obj.(*corev1.Pod)) },
			StatusUpdate:     preparePodStatusUpdate,
		}},
		Table:  podTable,
		Fields: podFields,
		Subresources: []registry.Subresource{
			{Name: "attach", Kind: v1("PodAttachOptions"), Verbs: []string{"create", "get"}},
			{Name: "binding", Kind: v1("Binding"), Verbs: []string{"create"}},
			{Name: "ephemeralcontainers", Verbs: []string{"get", "patch", "update"}},
			{Name: "eviction", Kind: policyv1.SchemeGroupVersion.WithKind("Eviction"), Verbs: []string{"create"}},
			{Name: "exec", Kind: v1("PodExecOptions"), Verbs: []string{"create", "get"}},
			{Name: "log", Verbs: []string{"get"}},
			{Name: "portforward", Kind: v1("PodPortForwardOptions"), Verbs: []string{"create", "get"}},
			{Name: "proxy", Kind: v1("PodProxyOptions"), Verbs: []string{"create", "delete", "get", "patch", "update"}},
			{Name: "resize", Verbs: []string{"get", "patch", "update"}},
		},
	}
}

// podStrategy adds graceful deletion to the generic rules.
type podStrategy struct{ *registry.Generic }

var _ registry.GracefulStrategy = podStrategy{}

// GracePeriod follows upstream: the requested period or the pod's
// terminationGracePeriodSeconds, but at once for a pod no node runs or that has
// finished; a negative period means one second.
func (podStrategy) GracePeriod(obj runtime.Object, requested *int64) (int64, bool) {
	pod := obj.(*corev1.Pod)
	period := int64(0)
	switch {
	case requested != nil:
		period = *requested
	case pod.Spec.TerminationGracePeriodSeconds != nil:
		period = *pod.Spec.TerminationGracePeriodSeconds
	}
	if pod.Spec.NodeName == "" || pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded {
		period = 0
	}
	if period < 0 {
		period = 1
	}
	return period, true
}

// preparePodCreate sets what a new pod starts with: phase Pending and its QoS
// class, and the scheduling-gated condition. spec.serviceAccount is the old
// name of spec.serviceAccountName, which upstream's conversion copies.
func preparePodCreate(pod *corev1.Pod) {
	pod.Status = corev1.PodStatus{Phase: corev1.PodPending, QOSClass: podspec.QOSClass(&pod.Spec)}
	if len(pod.Spec.SchedulingGates) > 0 {
		pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
			Reason: corev1.PodReasonSchedulingGated, Message: "Scheduling is blocked due to non-empty scheduling gates"}}
	}
	if pod.Spec.DeprecatedServiceAccount == "" {
		pod.Spec.DeprecatedServiceAccount = pod.Spec.ServiceAccountName
	}
}

// preparePodStatusUpdate keeps the QoS class, which only the API server sets.
func preparePodStatusUpdate(obj, old runtime.Object) {
	pod, oldPod := obj.(*corev1.Pod), old.(*corev1.Pod)
	if pod.Status.QOSClass == "" {
		pod.Status.QOSClass = oldPod.Status.QOSClass
	}
	if pod.Status.ObservedGeneration == 0 {
		pod.Status.ObservedGeneration = oldPod.Status.ObservedGeneration
	}
}

func validatePodCreate(obj runtime.Object) field.ErrorList {
	pod := obj.(*corev1.Pod)
	errs := podspec.ValidatePod(pod)
	spec := field.NewPath("spec")
	if len(pod.Spec.EphemeralContainers) > 0 {
		errs = append(errs, field.Forbidden(spec.Child("ephemeralContainers"), "cannot be set on create"))
	}
	if pod.Spec.NodeName != "" && len(pod.Spec.SchedulingGates) != 0 {
		errs = append(errs, field.Forbidden(spec.Child("nodeName"), "cannot be set until all schedulingGates have been cleared"))
	}
	return errs
}

// podFields are the field selectors upstream supports for pods.
func podFields(obj runtime.Object) map[string]string {
	pod := obj.(*corev1.Pod)
	podIP := ""
	if len(pod.Status.PodIPs) > 0 {
		podIP = pod.Status.PodIPs[0].IP
	}
	return map[string]string{
		"spec.nodeName":            pod.Spec.NodeName,
		"spec.host":                pod.Spec.NodeName, // the old name of spec.nodeName
		"spec.restartPolicy":       string(pod.Spec.RestartPolicy),
		"spec.schedulerName":       pod.Spec.SchedulerName,
		"spec.serviceAccountName":  pod.Spec.ServiceAccountName,
		"spec.hostNetwork":         strconv.FormatBool(pod.Spec.HostNetwork),
		"status.phase":             string(pod.Status.Phase),
		"status.podIP":             podIP,
		"status.podIPs":            "", // accepted, but upstream never fills it
		"status.nominatedNodeName": pod.Status.NominatedNodeName,
	}
}
