package endpointslice

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/utils/ptr"

	"github.com/minik8s/minik8s/pkg/controller/servicepods"
)

// addressTypes are the slice address types a Service gets, from its IP
// families. A Service read before its families were defaulted falls back to
// its ClusterIP's family, or both for a headless one, as upstream.
func addressTypes(svc *corev1.Service) []discoveryv1.AddressType {
	var out []discoveryv1.AddressType
	for _, f := range svc.Spec.IPFamilies {
		switch f {
		case corev1.IPv4Protocol:
			out = appendType(out, discoveryv1.AddressTypeIPv4)
		case corev1.IPv6Protocol:
			out = appendType(out, discoveryv1.AddressTypeIPv6)
		}
	}
	if len(out) > 0 {
		return out
	}
	if ip := svc.Spec.ClusterIP; ip != "" && ip != corev1.ClusterIPNone {
		if a, err := netip.ParseAddr(ip); err == nil && a.Is6() && !a.Is4In6() {
			return []discoveryv1.AddressType{discoveryv1.AddressTypeIPv6}
		}
		return []discoveryv1.AddressType{discoveryv1.AddressTypeIPv4}
	}
	return []discoveryv1.AddressType{discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6}
}

func appendType(list []discoveryv1.AddressType, t discoveryv1.AddressType) []discoveryv1.AddressType {
	if slices.Contains(list, t) {
		return list
	}
	return append(list, t)
}

// podAddresses are the pod's IPs of one family, in canonical form.
func podAddresses(pod *corev1.Pod, at discoveryv1.AddressType) []string {
	ips := pod.Status.PodIPs
	if len(ips) == 0 && pod.Status.PodIP != "" {
		ips = []corev1.PodIP{{IP: pod.Status.PodIP}}
	}
	var out []string
	for _, p := range ips {
		a, err := parseSloppyIP(p.IP)
		if err != nil {
			continue
		}
		if v6 := a.Is6() && !a.Is4In6(); v6 == (at == discoveryv1.AddressTypeIPv6) {
			out = append(out, a.Unmap().String())
		}
	}
	return out
}

// parseSloppyIP accepts the leading zeros old clients wrote ("010.0.0.1"), as
// upstream's ParseIPSloppy does.
func parseSloppyIP(s string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a, nil
	}
	parts := strings.Split(s, ".")
	if len(parts) == 4 {
		for i, p := range parts {
			n, err := strconv.Atoi(p)
			if err != nil || n < 0 || n > 255 {
				return netip.Addr{}, err
			}
			parts[i] = strconv.Itoa(n)
		}
		return netip.ParseAddr(strings.Join(parts, "."))
	}
	return netip.ParseAddr(s)
}

// podEndpoint is the endpoint of one pod in a Service's slice of one address
// type. Ready follows the pod's readiness unless the pod is terminating;
// publishNotReadyAddresses makes every endpoint ready.
func podEndpoint(pod *corev1.Pod, zone string, svc *corev1.Service, at discoveryv1.AddressType) discoveryv1.Endpoint {
	serving := servicepods.Ready(pod)
	terminating := pod.DeletionTimestamp != nil
	ready := svc.Spec.PublishNotReadyAddresses || (serving && !terminating)
	ep := discoveryv1.Endpoint{
		Addresses:  podAddresses(pod, at),
		Conditions: discoveryv1.EndpointConditions{Ready: &ready, Serving: &serving, Terminating: &terminating},
		TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
	}
	if pod.Spec.NodeName != "" {
		ep.NodeName = ptr.To(pod.Spec.NodeName)
	}
	if zone != "" {
		ep.Zone = ptr.To(zone)
	}
	if servicepods.SetsHostname(pod, svc) {
		ep.Hostname = ptr.To(pod.Spec.Hostname)
	}
	return ep
}

// endpointPorts are the Service's ports as they land on one pod: a named
// targetPort no container of the pod has leaves that port out for the pod,
// which puts the pod in a slice with the ports it does have.
func endpointPorts(svc *corev1.Service, pod *corev1.Pod) []discoveryv1.EndpointPort {
	out := []discoveryv1.EndpointPort{}
	for i := range svc.Spec.Ports {
		sp := &svc.Spec.Ports[i]
		n, ok := servicepods.FindPort(pod, sp)
		if !ok {
			continue
		}
		out = append(out, discoveryv1.EndpointPort{Name: ptr.To(sp.Name), Port: ptr.To(n), Protocol: ptr.To(sp.Protocol), AppProtocol: sp.AppProtocol})
	}
	return out
}

// PortsKey identifies a set of ports regardless of their order: slices are
// grouped by it.
func PortsKey(ports []discoveryv1.EndpointPort) string {
	keys := make([]string, 0, len(ports))
	for _, p := range ports {
		var b strings.Builder
		b.WriteString(ptr.Deref(p.Name, ""))
		b.WriteByte('/')
		if p.Protocol != nil {
			b.WriteString(string(*p.Protocol))
		}
		b.WriteByte('/')
		if p.Port != nil {
			b.WriteString(strconv.Itoa(int(*p.Port)))
		}
		b.WriteByte('/')
		b.WriteString(ptr.Deref(p.AppProtocol, ""))
		keys = append(keys, b.String())
	}
	slices.Sort(keys)
	return strings.Join(keys, ",")
}

// EndpointKey identifies an endpoint across syncs by what cannot change in
// place: its addresses, hostname and target. Conditions, node, zone and hints
// are updated in place.
func EndpointKey(ep *discoveryv1.Endpoint) string {
	addrs := slices.Clone(ep.Addresses)
	slices.Sort(addrs)
	var b strings.Builder
	b.WriteString(strings.Join(addrs, ","))
	b.WriteByte('|')
	b.WriteString(ptr.Deref(ep.Hostname, ""))
	b.WriteByte('|')
	if ep.TargetRef != nil {
		b.WriteString(ep.TargetRef.Namespace)
		b.WriteByte('/')
		b.WriteString(ep.TargetRef.Name)
	}
	return b.String()
}

// EqualBeyondKey reports whether two endpoints with the same key also agree on
// what can change in place (the target's resourceVersion aside).
func EqualBeyondKey(a, b *discoveryv1.Endpoint) bool {
	if ptr.Deref(a.NodeName, "\x00") != ptr.Deref(b.NodeName, "\x00") || ptr.Deref(a.Zone, "\x00") != ptr.Deref(b.Zone, "\x00") {
		return false
	}
	if !boolPtrEqual(a.Conditions.Ready, b.Conditions.Ready) || !boolPtrEqual(a.Conditions.Serving, b.Conditions.Serving) ||
		!boolPtrEqual(a.Conditions.Terminating, b.Conditions.Terminating) {
		return false
	}
	if (a.TargetRef == nil) != (b.TargetRef == nil) {
		return false
	}
	if a.TargetRef != nil {
		ra, rb := *a.TargetRef, *b.TargetRef
		ra.ResourceVersion, rb.ResourceVersion = "", ""
		if ra != rb {
			return false
		}
	}
	return true
}

func boolPtrEqual(a, b *bool) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// EndpointSet is an ordered set of endpoints by key. Order makes reconciling
// deterministic (upstream picks arbitrarily).
type EndpointSet struct {
	order []string
	byKey map[string]*discoveryv1.Endpoint
}

// NewEndpointSet returns an empty set.
func NewEndpointSet() *EndpointSet { return &EndpointSet{byKey: map[string]*discoveryv1.Endpoint{}} }

// Insert adds an endpoint, replacing one with the same key.
func (s *EndpointSet) Insert(ep *discoveryv1.Endpoint) {
	k := EndpointKey(ep)
	if _, ok := s.byKey[k]; !ok {
		s.order = append(s.order, k)
	}
	s.byKey[k] = ep
}

// Get returns the endpoint with ep's key, or nil.
func (s *EndpointSet) Get(ep *discoveryv1.Endpoint) *discoveryv1.Endpoint {
	return s.byKey[EndpointKey(ep)]
}

// Delete removes the endpoint with ep's key.
func (s *EndpointSet) Delete(ep *discoveryv1.Endpoint) { delete(s.byKey, EndpointKey(ep)) }

// Len is the number of endpoints in the set.
func (s *EndpointSet) Len() int { return len(s.byKey) }

// Pop removes and returns the first endpoint still in the set.
func (s *EndpointSet) Pop() *discoveryv1.Endpoint {
	for len(s.order) > 0 {
		k := s.order[0]
		s.order = s.order[1:]
		if ep, ok := s.byKey[k]; ok {
			delete(s.byKey, k)
			return ep
		}
	}
	return nil
}
