package dns

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// The kube-dns Service, as kubeadm and k3s name it, so that tools and
// NetworkPolicies that look for it find it.
const (
	ServiceName      = "kube-dns"
	ServiceNamespace = metav1.NamespaceSystem
	// managedBy marks the EndpointSlice as ours: the EndpointSlice
	// controllers leave it alone.
	managedBy = "minik8s-dns"
)

// KubeDNS describes the kube-dns objects: the Service at ClusterIP, and its
// endpoints at the DNS server's node address and port. The Service has no
// selector: the server writes the endpoints itself, as the API server does
// for the kubernetes Service.
type KubeDNS struct {
	ClusterIP netip.Addr
	// Endpoint is where the DNS server listens; invalid publishes no endpoints.
	Endpoint netip.AddrPort
}

func (k KubeDNS) labels() map[string]string {
	return map[string]string{"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "KubeDNS"}
}

// Service is the kube-dns Service.
func (k KubeDNS) Service() *corev1.Service {
	target := intstr.FromInt32(53)
	if k.Endpoint.IsValid() {
		target = intstr.FromInt32(int32(k.Endpoint.Port()))
	}
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: ServiceName, Namespace: ServiceNamespace, Labels: k.labels()},
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, ClusterIP: k.ClusterIP.String(), ClusterIPs: []string{k.ClusterIP.String()},
			Ports: []corev1.ServicePort{
				{Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53, TargetPort: target},
				{Name: "dns-tcp", Protocol: corev1.ProtocolTCP, Port: 53, TargetPort: target},
			},
		},
	}
}

// Endpoints is the kube-dns Endpoints; the skip-mirror label keeps the
// mirroring controller from making a second slice of it.
func (k KubeDNS) Endpoints() *corev1.Endpoints {
	labels := k.labels()
	labels[discoveryv1.LabelSkipMirror] = "true"
	port := int32(k.Endpoint.Port())
	return &corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{Name: ServiceName, Namespace: ServiceNamespace, Labels: labels},
		Subsets: []corev1.EndpointSubset{{
			Addresses: []corev1.EndpointAddress{{IP: k.Endpoint.Addr().String()}},
			Ports: []corev1.EndpointPort{
				{Name: "dns", Protocol: corev1.ProtocolUDP, Port: port},
				{Name: "dns-tcp", Protocol: corev1.ProtocolTCP, Port: port},
			},
		}},
	}
}

// EndpointSlice is the kube-dns EndpointSlice.
func (k KubeDNS) EndpointSlice() *discoveryv1.EndpointSlice {
	labels := k.labels()
	labels[discoveryv1.LabelServiceName] = ServiceName
	labels[discoveryv1.LabelManagedBy] = managedBy
	port := int32(k.Endpoint.Port())
	addrType := discoveryv1.AddressTypeIPv4
	if !k.Endpoint.Addr().Is4() {
		addrType = discoveryv1.AddressTypeIPv6
	}
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: ServiceName, Namespace: ServiceNamespace, Labels: labels},
		AddressType: addrType,
		Endpoints: []discoveryv1.Endpoint{{Addresses: []string{k.Endpoint.Addr().String()},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true), Serving: ptr.To(true), Terminating: ptr.To(false)}}},
		Ports: []discoveryv1.EndpointPort{
			{Name: ptr.To("dns"), Protocol: ptr.To(corev1.ProtocolUDP), Port: ptr.To(port)},
			{Name: ptr.To("dns-tcp"), Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(port)},
		},
	}
}

// Reconcile makes the cluster's kube-dns objects match k: it creates what is
// missing and puts back ports, labels and endpoints that were changed. A
// kube-dns Service with another ClusterIP is left as it is (ClusterIPs cannot
// change) and reported.
func (k KubeDNS) Reconcile(ctx context.Context, client kubernetes.Interface) error {
	want := k.Service()
	svcs := client.CoreV1().Services(ServiceNamespace)
	cur, err := svcs.Get(ctx, ServiceName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		if _, err := svcs.Create(ctx, want, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create the kube-dns Service at %s: %w", k.ClusterIP, err)
		}
	case err != nil:
		return fmt.Errorf("read the kube-dns Service: %w", err)
	default:
		if cur.Spec.ClusterIP != want.Spec.ClusterIP {
			return fmt.Errorf("the kube-dns Service has ClusterIP %s, not %s: delete it to have it recreated", cur.Spec.ClusterIP, want.Spec.ClusterIP)
		}
		if !sameServicePorts(cur.Spec.Ports, want.Spec.Ports) || !hasLabels(cur.Labels, want.Labels) || len(cur.Spec.Selector) > 0 {
			upd := cur.DeepCopy()
			upd.Spec.Ports, upd.Spec.Selector = want.Spec.Ports, nil
			upd.Labels = mergeLabels(upd.Labels, want.Labels)
			if _, err := svcs.Update(ctx, upd, metav1.UpdateOptions{}); err != nil {
				return fmt.Errorf("update the kube-dns Service: %w", err)
			}
		}
	}
	if !k.Endpoint.IsValid() {
		return nil
	}
	if err := k.reconcileEndpoints(ctx, client); err != nil {
		return err
	}
	return k.reconcileSlice(ctx, client)
}

func (k KubeDNS) reconcileEndpoints(ctx context.Context, client kubernetes.Interface) error {
	want := k.Endpoints()
	eps := client.CoreV1().Endpoints(ServiceNamespace)
	cur, err := eps.Get(ctx, ServiceName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		if _, err := eps.Create(ctx, want, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create the kube-dns Endpoints: %w", err)
		}
	case err != nil:
		return fmt.Errorf("read the kube-dns Endpoints: %w", err)
	case !equality.Semantic.DeepEqual(cur.Subsets, want.Subsets) || !hasLabels(cur.Labels, want.Labels):
		upd := cur.DeepCopy()
		upd.Subsets = want.Subsets
		upd.Labels = mergeLabels(upd.Labels, want.Labels)
		if _, err := eps.Update(ctx, upd, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("update the kube-dns Endpoints: %w", err)
		}
	}
	return nil
}

func (k KubeDNS) reconcileSlice(ctx context.Context, client kubernetes.Interface) error {
	want := k.EndpointSlice()
	slices := client.DiscoveryV1().EndpointSlices(ServiceNamespace)
	cur, err := slices.Get(ctx, ServiceName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		if _, err := slices.Create(ctx, want, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create the kube-dns EndpointSlice: %w", err)
		}
	case err != nil:
		return fmt.Errorf("read the kube-dns EndpointSlice: %w", err)
	case cur.AddressType != want.AddressType:
		// The address type is immutable: replace the slice.
		if err := slices.Delete(ctx, ServiceName, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("replace the kube-dns EndpointSlice: %w", err)
		}
		if _, err := slices.Create(ctx, want, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create the kube-dns EndpointSlice: %w", err)
		}
	case !equality.Semantic.DeepEqual(cur.Endpoints, want.Endpoints) || !equality.Semantic.DeepEqual(cur.Ports, want.Ports) ||
		!hasLabels(cur.Labels, want.Labels):
		upd := cur.DeepCopy()
		upd.Endpoints, upd.Ports = want.Endpoints, want.Ports
		upd.Labels = mergeLabels(upd.Labels, want.Labels)
		if _, err := slices.Update(ctx, upd, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("update the kube-dns EndpointSlice: %w", err)
		}
	}
	return nil
}

// KeepReconciled reconciles now and then every period until ctx ends, so a
// deleted or edited kube-dns object comes back.
func (k KubeDNS) KeepReconciled(ctx context.Context, client kubernetes.Interface, period time.Duration, log *slog.Logger) {
	t := time.NewTicker(period)
	defer t.Stop()
	var last string
	for {
		err := k.Reconcile(ctx, client)
		switch {
		case err != nil && ctx.Err() == nil && err.Error() != last:
			log.Warn("kube-dns Service", "err", err)
			last = err.Error()
		case err == nil && last != "":
			log.Info("kube-dns Service reconciled")
			last = ""
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func sameServicePorts(a, b []corev1.ServicePort) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || a[i].Protocol != b[i].Protocol || a[i].Port != b[i].Port || a[i].TargetPort != b[i].TargetPort {
			return false
		}
	}
	return true
}

func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

func mergeLabels(have, want map[string]string) map[string]string {
	out := make(map[string]string, len(have)+len(want))
	for k, v := range have {
		out[k] = v
	}
	for k, v := range want {
		out[k] = v
	}
	return out
}
