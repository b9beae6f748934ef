package server

import (
	"context"
	"fmt"
	"net"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"

	"github.com/minik8s/minik8s/pkg/apiserver"
	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/apiregistration"
)

// reconcileSelf keeps the objects that describe the API server itself: the
// Endpoints and EndpointSlice of the kubernetes Service (pointing at this
// server) and the default ServiceCIDR, as upstream's apiserver does.
func reconcileSelf(ctx context.Context, api *apiserver.Server, reg *registry.Registry, advertise net.IP, port int32, serviceCIDR string) error {
	if err := publishLocalAPIServices(ctx, api, reg); err != nil {
		return err
	}
	cidr := &networkingv1.ServiceCIDR{ObjectMeta: metav1.ObjectMeta{Name: "kubernetes"},
		Spec: networkingv1.ServiceCIDRSpec{CIDRs: []string{serviceCIDR}}}
	if err := api.Ensure(ctx, cidr); err != nil {
		return fmt.Errorf("bootstrap the default ServiceCIDR: %w", err)
	}
	ready := cidr.DeepCopy()
	ready.Status.Conditions = []metav1.Condition{{Type: networkingv1.ServiceCIDRConditionReady, Status: metav1.ConditionTrue,
		Reason: "", Message: "Kubernetes Service CIDR is ready", LastTransitionTime: metav1.Now()}}
	if err := api.Reconcile(ctx, ready, "status", func(existing runtime.Object) bool {
		for _, c := range existing.(*networkingv1.ServiceCIDR).Status.Conditions {
			if c.Type == networkingv1.ServiceCIDRConditionReady && c.Status == metav1.ConditionTrue {
				return true
			}
		}
		return false
	}); err != nil {
		return fmt.Errorf("mark the default ServiceCIDR ready: %w", err)
	}
	if advertise == nil {
		return nil
	}
	ip := advertise.String()
	labels := map[string]string{"endpointslice.kubernetes.io/skip-mirror": "true"}
	ep := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: metav1.NamespaceDefault, Labels: labels},
		Subsets: []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{{IP: ip}},
			Ports: []corev1.EndpointPort{{Name: "https", Port: port, Protocol: corev1.ProtocolTCP}}}}}
	if err := api.Reconcile(ctx, ep, "", func(existing runtime.Object) bool {
		return equality.Semantic.DeepEqual(existing.(*corev1.Endpoints).Subsets, ep.Subsets)
	}); err != nil {
		return fmt.Errorf("reconcile the kubernetes Endpoints: %w", err)
	}
	name, proto, isReady := "https", corev1.ProtocolTCP, true
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: metav1.NamespaceDefault,
			Labels: map[string]string{discoveryv1.LabelServiceName: "kubernetes"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: &isReady}}},
		Ports:       []discoveryv1.EndpointPort{{Name: &name, Port: &port, Protocol: &proto}},
	}
	if advertise.To4() == nil {
		slice.AddressType = discoveryv1.AddressTypeIPv6
	}
	if err := api.Reconcile(ctx, slice, "", func(existing runtime.Object) bool {
		e := existing.(*discoveryv1.EndpointSlice)
		return equality.Semantic.DeepEqual(e.Endpoints, slice.Endpoints) && equality.Semantic.DeepEqual(e.Ports, slice.Ports)
	}); err != nil {
		return fmt.Errorf("reconcile the kubernetes EndpointSlice: %w", err)
	}
	return nil
}

// advertiseAddress is the address other machines and pods reach the API server
// at: the bind address unless it is a wildcard or loopback, else the first
// global unicast address of the host (Endpoints may not hold loopback IPs).
func advertiseAddress(bind string) net.IP {
	if ip := net.ParseIP(bind); ip != nil && !ip.IsLoopback() && !ip.IsUnspecified() {
		return ip
	}
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil
	}
	for _, iface := range ifaces {
		if iface.Flags&net.FlagUp == 0 || iface.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := iface.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && n.IP.IsGlobalUnicast() {
				return n.IP
			}
		}
	}
	return nil
}

// publishLocalAPIServices records, as upstream's aggregator does, a "Local"
// APIService for every built-in group version, marked Available.
func publishLocalAPIServices(ctx context.Context, api *apiserver.Server, reg *registry.Registry) error {
	seen := map[string]bool{}
	for _, r := range reg.All() {
		if r.Custom || seen[r.Version+"."+r.Group] {
			continue
		}
		seen[r.Version+"."+r.Group] = true
		groupPriority, versionPriority := int32(15000), int32(9)
		if r.Group == "" {
			groupPriority = 18000
		}
		if r.Version == "v1" {
			versionPriority = 15
		}
		svc := apiregistration.Local(r.Group, r.Version, groupPriority, versionPriority)
		if err := api.Ensure(ctx, svc); err != nil {
			return fmt.Errorf("publish APIService %s: %w", svc.Name, err)
		}
		avail := svc.DeepCopy()
		avail.Status.Conditions = []apiregistrationv1.APIServiceCondition{{Type: apiregistrationv1.Available,
			Status: apiregistrationv1.ConditionTrue, Reason: "Local", Message: "Local APIServices are always available",
			LastTransitionTime: metav1.Now()}}
		if err := api.Reconcile(ctx, avail, "status", func(existing runtime.Object) bool {
			for _, c := range existing.(*apiregistrationv1.APIService).Status.Conditions {
				if c.Type == apiregistrationv1.Available && c.Status == apiregistrationv1.ConditionTrue {
					return true
				}
			}
			return false
		}); err != nil {
			return fmt.Errorf("mark APIService %s available: %w", svc.Name, err)
		}
	}
	return nil
}
