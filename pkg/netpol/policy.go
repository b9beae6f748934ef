package netpol

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// policy is a NetworkPolicy with its pod selector parsed and its policy
// types resolved.
type policy struct {
	np              *networkingv1.NetworkPolicy
	key             string
	selector        labels.Selector
	ingress, egress bool
}

func compilePolicy(np *networkingv1.NetworkPolicy) (*policy, error) {
	key := np.Namespace + "/" + np.Name
	sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
	if err != nil {
		return nil, fmt.Errorf("network policy %s: pod selector: %w", key, err)
	}
	p := &policy{np: np, key: key, selector: sel}
	p.ingress, p.egress = policyTypes(np)
	return p, nil
}

// policyTypes says which directions the policy governs. Without policyTypes
// a policy governs ingress, and egress too when it has egress rules, as the
// API documents the default.
func policyTypes(np *networkingv1.NetworkPolicy) (ingress, egress bool) {
	if len(np.Spec.PolicyTypes) == 0 {
		return true, len(np.Spec.Egress) > 0
	}
	for _, t := range np.Spec.PolicyTypes {
		switch t {
		case networkingv1.PolicyTypeIngress:
			ingress = true
		case networkingv1.PolicyTypeEgress:
			egress = true
		}
	}
	return ingress, egress
}

// selects reports whether the policy applies to the pod.
func (p *policy) selects(pod *corev1.Pod) bool {
	return pod.Namespace == p.np.Namespace && p.selector.Matches(labels.Set(pod.Labels))
}
