package proxy

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestSlimKeepsWhatTheProxyReads(t *testing.T) {
	meta := func() metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: "web", Namespace: "default", ResourceVersion: "7",
			Labels:        map[string]string{discoveryv1.LabelServiceName: "web"},
			Annotations:   map[string]string{"kubectl.kubernetes.io/last-applied-configuration": "{…}"},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}}}
	}
	want := func() metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: "web", Namespace: "default", ResourceVersion: "7",
			Labels: map[string]string{discoveryv1.LabelServiceName: "web"}}
	}
	ready, node, zone := true, "node-a", "z1"
	tests := []struct {
		name    string
		in, out any
	}{
		{
			name: "a Service loses its managed fields and annotations and keeps its spec and status",
			in: &corev1.Service{ObjectMeta: meta(), Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.5", Type: corev1.ServiceTypeLoadBalancer},
				Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: "192.0.2.1"}}}}},
			out: &corev1.Service{ObjectMeta: want(), Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.5", Type: corev1.ServiceTypeLoadBalancer},
				Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: "192.0.2.1"}}}}},
		},
		{
			name: "an EndpointSlice keeps its label, addresses, conditions, node and zone but not the pod references",
			in: &discoveryv1.EndpointSlice{ObjectMeta: meta(), AddressType: discoveryv1.AddressTypeIPv4, Endpoints: []discoveryv1.Endpoint{{
				Addresses: []string{"10.244.0.5"}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}, NodeName: &node, Zone: &zone,
				TargetRef: &corev1.ObjectReference{Kind: "Pod", Name: "web-1", Namespace: "default", UID: "u1"}}}},
			out: &discoveryv1.EndpointSlice{ObjectMeta: want(), AddressType: discoveryv1.AddressTypeIPv4, Endpoints: []discoveryv1.Endpoint{{
				Addresses: []string{"10.244.0.5"}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}, NodeName: &node, Zone: &zone}}},
		},
		{
			name: "a Node keeps only its pod ranges and addresses",
			in: &corev1.Node{ObjectMeta: meta(), Spec: corev1.NodeSpec{PodCIDR: "10.244.0.0/24", PodCIDRs: []string{"10.244.0.0/24"}, ProviderID: "x"},
				Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.0.0.1"}},
					Capacity: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")},
					Images:   []corev1.ContainerImage{{Names: []string{"busybox"}}}}},
			out: &corev1.Node{ObjectMeta: want(), Spec: corev1.NodeSpec{PodCIDR: "10.244.0.0/24", PodCIDRs: []string{"10.244.0.0/24"}},
				Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.0.0.1"}}}},
		},
		{
			name: "a tombstone or anything else passes through",
			in:   "not an object",
			out:  "not an object",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := slim(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.out) {
				t.Errorf("slim:\n got %#v\nwant %#v", got, tt.out)
			}
		})
	}
}
