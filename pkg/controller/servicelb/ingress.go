package servicelb

import (
	"net/netip"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
)

// Labels that choose the nodes a load balancer uses.
const (
	// LabelExcludeFromLB keeps a node out of every load balancer (upstream's).
	LabelExcludeFromLB = "node.kubernetes.io/exclude-from-external-load-balancers"
	// LabelEnableLB: when some node has it "true", only those nodes are used (k3s').
	LabelEnableLB = "svccontroller.k3s.cattle.io/enablelb"
)

// ours reports whether this load balancer implements the Service: type
// LoadBalancer without a loadBalancerClass (a class names another one).
func ours(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeLoadBalancer && svc.Spec.LoadBalancerClass == nil
}

// eligibleNodes are the nodes whose addresses a load balancer publishes:
// Ready, not being deleted, not excluded; only the enablelb-labelled ones
// when any node carries the label.
func eligibleNodes(nodes []*corev1.Node) []*corev1.Node {
	selective := false
	for _, n := range nodes {
		if n.Labels[LabelEnableLB] == "true" {
			selective = true
		}
	}
	var out []*corev1.Node
	for _, n := range nodes {
		if n.DeletionTimestamp != nil || !nodeReady(n) {
			continue
		}
		if _, excluded := n.Labels[LabelExcludeFromLB]; excluded {
			continue
		}
		if selective && n.Labels[LabelEnableLB] != "true" {
			continue
		}
		out = append(out, n)
	}
	return out
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// ingressFor is the status.loadBalancer.ingress of a Service: the
// InternalIPs of the eligible nodes in the Service's IP families, sorted,
// each once. The node answers the Service's ports on that address (the
// proxy captures traffic to load-balancer IPs), so ipMode is VIP.
func ingressFor(svc *corev1.Service, nodes []*corev1.Node) []corev1.LoadBalancerIngress {
	want4, want6 := false, false
	for _, f := range svc.Spec.IPFamilies {
		want4 = want4 || f == corev1.IPv4Protocol
		want6 = want6 || f == corev1.IPv6Protocol
	}
	if !want4 && !want6 {
		want4 = true
	}
	seen := map[netip.Addr]bool{}
	var addrs []netip.Addr
	for _, n := range eligibleNodes(nodes) {
		for _, a := range n.Status.Addresses {
			if a.Type != corev1.NodeInternalIP {
				continue
			}
			ip, err := netip.ParseAddr(a.Address)
			if err != nil || seen[ip] || (ip.Is4() && !want4) || (ip.Is6() && !want6) {
				continue
			}
			seen[ip] = true
			addrs = append(addrs, ip)
		}
	}
	sort.Slice(addrs, func(i, j int) bool { return addrs[i].Less(addrs[j]) })
	vip := corev1.LoadBalancerIPModeVIP
	out := make([]corev1.LoadBalancerIngress, 0, len(addrs))
	for _, ip := range addrs {
		out = append(out, corev1.LoadBalancerIngress{IP: ip.String(), IPMode: &vip})
	}
	return out
}

// desiredStatus is the status the Service should have, and whether it
// differs from what it has. A Service that is not type LoadBalancer any more
// loses what an earlier sync published; one of another class is left alone.
func desiredStatus(svc *corev1.Service, nodes []*corev1.Node) (corev1.LoadBalancerStatus, bool) {
	switch {
	case ours(svc):
		want := corev1.LoadBalancerStatus{Ingress: ingressFor(svc, nodes)}
		if len(want.Ingress) == 0 {
			want.Ingress = nil
		}
		have := svc.Status.LoadBalancer
		if len(have.Ingress) == 0 {
			have.Ingress = nil
		}
		return want, !equality.Semantic.DeepEqual(want.Ingress, have.Ingress)
	case svc.Spec.Type != corev1.ServiceTypeLoadBalancer && len(svc.Status.LoadBalancer.Ingress) > 0:
		return corev1.LoadBalancerStatus{}, true
	}
	return svc.Status.LoadBalancer, false
}
