package dns

import (
	"context"
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestKubeDNSReconcile(t *testing.T) {
	ctx := context.Background()
	kd := KubeDNS{ClusterIP: netip.MustParseAddr("10.96.0.10"), Endpoint: netip.MustParseAddrPort("192.0.2.2:53")}
	client := fake.NewClientset()
	if err := kd.Reconcile(ctx, client); err != nil {
		t.Fatal(err)
	}
	svc, err := client.CoreV1().Services("kube-system").Get(ctx, "kube-dns", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if svc.Spec.ClusterIP != "10.96.0.10" || len(svc.Spec.Selector) != 0 || svc.Labels["k8s-app"] != "kube-dns" ||
		len(svc.Spec.Ports) != 2 || svc.Spec.Ports[0].Name != "dns" || svc.Spec.Ports[0].Protocol != corev1.ProtocolUDP ||
		svc.Spec.Ports[1].Name != "dns-tcp" || svc.Spec.Ports[1].Protocol != corev1.ProtocolTCP {
		t.Errorf("kube-dns Service: %+v", svc)
	}
	slice, err := client.DiscoveryV1().EndpointSlices("kube-system").Get(ctx, "kube-dns", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if slice.Endpoints[0].Addresses[0] != "192.0.2.2" || *slice.Ports[0].Port != 53 || slice.Labels["kubernetes.io/service-name"] != "kube-dns" {
		t.Errorf("kube-dns EndpointSlice: %+v", slice)
	}

	// The server comes back on another port: endpoints follow, the Service keeps its ports.
	kd.Endpoint = netip.MustParseAddrPort("192.0.2.2:5353")
	if err := kd.Reconcile(ctx, client); err != nil {
		t.Fatal(err)
	}
	eps, err := client.CoreV1().Endpoints("kube-system").Get(ctx, "kube-dns", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if eps.Subsets[0].Ports[0].Port != 5353 || eps.Labels["endpointslice.kubernetes.io/skip-mirror"] != "true" {
		t.Errorf("kube-dns Endpoints after a port change: %+v", eps)
	}
	svc, _ = client.CoreV1().Services("kube-system").Get(ctx, "kube-dns", metav1.GetOptions{})
	if svc.Spec.Ports[0].Port != 53 || svc.Spec.Ports[0].TargetPort.IntValue() != 5353 {
		t.Errorf("kube-dns Service after a port change: %+v", svc.Spec.Ports)
	}

	// A kube-dns Service someone else made at another address is reported, not replaced.
	other := fake.NewClientset(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "kube-dns", Namespace: "kube-system"},
		Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.99"}})
	if err := kd.Reconcile(ctx, other); err == nil {
		t.Error("a kube-dns Service at another ClusterIP should be reported")
	}
}
