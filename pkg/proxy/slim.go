package proxy

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// slim drops what the proxy never reads from the objects its informers
// keep: managed fields and annotations of every object (a few hundred bytes
// each, 20,000 objects at 10,000 Services), endpoints' pod references, and
// all of a Node but its pod ranges and addresses (images, conditions,
// capacity). Labels stay: slices are indexed by their Service's. The informers are the proxy's own, so
// the objects are changed in place.
func slim(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
		m.SetAnnotations(nil)
	}
	if n, ok := obj.(*corev1.Node); ok {
		n.Status = corev1.NodeStatus{Addresses: n.Status.Addresses}
		n.Spec = corev1.NodeSpec{PodCIDR: n.Spec.PodCIDR, PodCIDRs: n.Spec.PodCIDRs}
	}
	if s, ok := obj.(*discoveryv1.EndpointSlice); ok {
		for i := range s.Endpoints {
			// The pod each endpoint is (a reference of a hundred bytes or
			// more) and the deprecated topology map are never read.
			s.Endpoints[i].TargetRef = nil
			s.Endpoints[i].DeprecatedTopology = nil
		}
	}
	return obj, nil
}
