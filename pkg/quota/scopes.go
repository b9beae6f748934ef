package quota

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
)

// Selectors are a quota's scopes and scope selector as one list.
func Selectors(q *corev1.ResourceQuota) []corev1.ScopedResourceSelectorRequirement {
	var out []corev1.ScopedResourceSelectorRequirement
	for _, s := range q.Spec.Scopes {
		out = append(out, corev1.ScopedResourceSelectorRequirement{ScopeName: s, Operator: corev1.ScopeSelectorOpExists})
	}
	if q.Spec.ScopeSelector != nil {
		out = append(out, q.Spec.ScopeSelector.MatchExpressions...)
	}
	return out
}

// Matches says whether quota q charges obj, of resource gr: the quota must
// name something gr is charged for, and every scope must select obj. Only
// pods (and claims, by VolumeAttributesClass) are selected by scopes.
func Matches(q *corev1.ResourceQuota, gr schema.GroupResource, obj runtime.Object) (bool, error) {
	hard := make([]corev1.ResourceName, 0, len(q.Status.Hard))
	for n := range q.Status.Hard {
		hard = append(hard, n)
	}
	if len(Matching(gr, hard)) == 0 {
		return false, nil
	}
	for _, s := range Selectors(q) {
		ok, err := scopeSelects(s, gr, obj)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

func scopeSelects(s corev1.ScopedResourceSelectorRequirement, gr schema.GroupResource, obj runtime.Object) (bool, error) {
	switch gr {
	case podsGR:
		pod, ok := obj.(*corev1.Pod)
		if !ok {
			return false, fmt.Errorf("expect *v1.Pod, got %T", obj)
		}
		return podSelected(s, pod)
	case claimsGR:
		pvc, ok := obj.(*corev1.PersistentVolumeClaim)
		if !ok || s.ScopeName != corev1.ResourceQuotaScopeVolumeAttributesClass {
			return false, nil
		}
		class := ""
		if pvc.Spec.VolumeAttributesClassName != nil {
			class = *pvc.Spec.VolumeAttributesClassName
		}
		return valueSelected(s, class)
	}
	return false, nil
}

func podSelected(s corev1.ScopedResourceSelectorRequirement, pod *corev1.Pod) (bool, error) {
	switch s.ScopeName {
	case corev1.ResourceQuotaScopeTerminating:
		return terminating(pod), nil
	case corev1.ResourceQuotaScopeNotTerminating:
		return !terminating(pod), nil
	case corev1.ResourceQuotaScopeBestEffort:
		return bestEffort(pod), nil
	case corev1.ResourceQuotaScopeNotBestEffort:
		return !bestEffort(pod), nil
	case corev1.ResourceQuotaScopePriorityClass:
		if s.Operator == corev1.ScopeSelectorOpExists {
			return pod.Spec.PriorityClassName != "", nil
		}
		return valueSelected(s, pod.Spec.PriorityClassName)
	case corev1.ResourceQuotaScopeCrossNamespacePodAffinity:
		return crossNamespaceAffinity(pod), nil
	}
	return false, nil
}

// valueSelected applies an In/NotIn/Exists/DoesNotExist requirement to the
// scope's value (a priority class or volume attributes class name).
func valueSelected(s corev1.ScopedResourceSelectorRequirement, value string) (bool, error) {
	var op selection.Operator
	switch s.Operator {
	case corev1.ScopeSelectorOpIn:
		op = selection.In
	case corev1.ScopeSelectorOpNotIn:
		op = selection.NotIn
	case corev1.ScopeSelectorOpExists:
		op = selection.Exists
	case corev1.ScopeSelectorOpDoesNotExist:
		op = selection.DoesNotExist
	default:
		return false, fmt.Errorf("%q is not a valid scope selector operator", s.Operator)
	}
	req, err := labels.NewRequirement(string(s.ScopeName), op, s.Values)
	if err != nil {
		return false, fmt.Errorf("failed to parse and convert selector: %v", err)
	}
	set := labels.Set{}
	if value != "" {
		set[string(s.ScopeName)] = value
	}
	return labels.NewSelector().Add(*req).Matches(set), nil
}

func terminating(pod *corev1.Pod) bool {
	return pod.Spec.ActiveDeadlineSeconds != nil && *pod.Spec.ActiveDeadlineSeconds >= 0
}

// bestEffort: no container (init or app) requests or limits cpu or memory.
func bestEffort(pod *corev1.Pod) bool {
	if pod.Spec.Resources != nil && (len(pod.Spec.Resources.Requests) > 0 || len(pod.Spec.Resources.Limits) > 0) {
		return false
	}
	for _, cs := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for _, c := range cs {
			for _, l := range []corev1.ResourceList{c.Resources.Requests, c.Resources.Limits} {
				for r, q := range l {
					if (r == corev1.ResourceCPU || r == corev1.ResourceMemory) && !q.IsZero() {
						return false
					}
				}
			}
		}
	}
	return true
}

func crossNamespaceAffinity(pod *corev1.Pod) bool {
	a := pod.Spec.Affinity
	if a == nil {
		return false
	}
	var terms []corev1.PodAffinityTerm
	if a.PodAffinity != nil {
		terms = append(terms, a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution...)
		for _, w := range a.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
			terms = append(terms, w.PodAffinityTerm)
		}
	}
	if a.PodAntiAffinity != nil {
		terms = append(terms, a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution...)
		for _, w := range a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
			terms = append(terms, w.PodAffinityTerm)
		}
	}
	for _, t := range terms {
		if len(t.Namespaces) > 0 || t.NamespaceSelector != nil {
			return true
		}
	}
	return false
}
