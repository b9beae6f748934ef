package proxy

import (
	"net/netip"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/minik8s/minik8s/pkg/proxy/nft"
	"github.com/minik8s/minik8s/pkg/proxy/rules"
)

// portEndpoints is one service port of a family with its endpoints.
type portEndpoints struct {
	port      rules.ServicePort
	endpoints []rules.Endpoint
}

// defaultAffinityTimeout is sessionAffinityConfig's default, 3 hours.
const defaultAffinityTimeout = 10800 * time.Second

// servicePorts turns a Service and its EndpointSlices into the service ports
// of one family, as kube-proxy reads them: ExternalName and headless
// Services have none; only slices of the family count; an endpoint belongs
// to a service port when the slice's port has the same name and protocol.
func servicePorts(svc *corev1.Service, slices []*discoveryv1.EndpointSlice, node string, family nft.Family) []portEndpoints {
	if svc == nil || svc.Spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	clusterIP := familyAddr(append([]string{svc.Spec.ClusterIP}, svc.Spec.ClusterIPs...), family)
	if !clusterIP.IsValid() {
		return nil // headless (None), or no ClusterIP of this family
	}
	var externalIPs, lbIPs []netip.Addr
	for _, s := range svc.Spec.ExternalIPs {
		if a, ok := parseFamily(s, family); ok {
			externalIPs = append(externalIPs, a)
		}
	}
	if svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
		for _, in := range svc.Status.LoadBalancer.Ingress {
			// ipMode Proxy: the load balancer sends traffic to the node, not
			// to the VIP, so the VIP is not captured here.
			if in.IPMode != nil && *in.IPMode == corev1.LoadBalancerIPModeProxy {
				continue
			}
			if a, ok := parseFamily(in.IP, family); ok {
				lbIPs = append(lbIPs, a)
			}
		}
	}
	var affinity time.Duration
	if svc.Spec.SessionAffinity == corev1.ServiceAffinityClientIP {
		affinity = defaultAffinityTimeout
		if c := svc.Spec.SessionAffinityConfig; c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil {
			affinity = time.Duration(*c.ClientIP.TimeoutSeconds) * time.Second
		}
	}
	externalLocal := svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal &&
		(svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer)
	internalLocal := svc.Spec.InternalTrafficPolicy != nil && *svc.Spec.InternalTrafficPolicy == corev1.ServiceInternalTrafficPolicyLocal

	var out []portEndpoints
	for _, p := range svc.Spec.Ports {
		proto := p.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		sp := rules.ServicePort{
			Name:            rules.ServicePortName{Namespace: svc.Namespace, Name: svc.Name, Port: p.Name, Protocol: proto},
			ClusterIP:       clusterIP,
			Port:            uint16(p.Port),
			ExternalIPs:     externalIPs,
			LoadBalancerIPs: lbIPs,
			AffinityTimeout: affinity,
			ExternalLocal:   externalLocal,
			InternalLocal:   internalLocal,
		}
		if svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
			sp.NodePort = uint16(p.NodePort)
		}
		if externalLocal {
			sp.HealthCheckNodePort = uint16(svc.Spec.HealthCheckNodePort)
		}
		out = append(out, portEndpoints{port: sp, endpoints: endpointsOf(slices, p.Name, proto, node, family)})
	}
	return out
}

// endpointsOf collects a service port's endpoints from slices; an address
// and port listed twice (in two slices while they are rebalanced) counts once.
func endpointsOf(slices []*discoveryv1.EndpointSlice, portName string, proto corev1.Protocol, node string, family nft.Family) []rules.Endpoint {
	want := discoveryv1.AddressTypeIPv4
	if family == nft.IPv6 {
		want = discoveryv1.AddressTypeIPv6
	}
	var out []rules.Endpoint
	seen := map[netip.AddrPort]bool{}
	for _, s := range slices {
		if s.AddressType != want {
			continue
		}
		for _, sp := range s.Ports {
			name := ""
			if sp.Name != nil {
				name = *sp.Name
			}
			p := corev1.ProtocolTCP
			if sp.Protocol != nil {
				p = *sp.Protocol
			}
			if name != portName || p != proto || sp.Port == nil || *sp.Port <= 0 || *sp.Port > 65535 {
				continue
			}
			for _, e := range s.Endpoints {
				if len(e.Addresses) == 0 {
					continue
				}
				addr, ok := parseFamily(e.Addresses[0], family)
				if !ok {
					continue
				}
				ap := netip.AddrPortFrom(addr, uint16(*sp.Port))
				if seen[ap] {
					continue
				}
				seen[ap] = true
				// Unset conditions: ready unless told otherwise; serving as ready.
				ready := e.Conditions.Ready == nil || *e.Conditions.Ready
				serving := ready
				if e.Conditions.Serving != nil {
					serving = *e.Conditions.Serving
				}
				out = append(out, rules.Endpoint{Addr: addr, Port: uint16(*sp.Port), Ready: ready, Serving: serving,
					Terminating: e.Conditions.Terminating != nil && *e.Conditions.Terminating,
					Local:       e.NodeName != nil && *e.NodeName == node})
			}
		}
	}
	return out
}

func familyAddr(ips []string, family nft.Family) netip.Addr {
	for _, s := range ips {
		if a, ok := parseFamily(s, family); ok {
			return a
		}
	}
	return netip.Addr{}
}

func parseFamily(s string, family nft.Family) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	a = a.Unmap()
	if a.Is4() != (family == nft.IPv4) {
		return netip.Addr{}, false
	}
	return a, true
}
