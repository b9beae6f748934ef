package dns

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// compile builds the answering form of a Service from the Service and its
// EndpointSlices. Only ready endpoints are served (not-ready ones are ready in
// the slices of a Service that publishes not-ready addresses); an endpoint
// listed in several slices of one address type is served once.
func compile(svc *corev1.Service, slices_ []*discoveryv1.EndpointSlice, zone string) *service {
	s := &service{name: svc.Name, namespace: svc.Namespace,
		fqdn: wireName(strings.ToLower(svc.Name + "." + svc.Namespace + ".svc." + zone))}
	switch {
	case svc.Spec.Type == corev1.ServiceTypeExternalName:
		s.kind = kindExternalName
		target := strings.ToLower(strings.TrimSuffix(svc.Spec.ExternalName, "."))
		if target != "" {
			if _, err := netip.ParseAddr(target); err != nil { // CoreDNS serves names only, not IPs
				s.external, s.externalText = wireName(target), target+"."
			}
		}
	case svc.Spec.ClusterIP == corev1.ClusterIPNone:
		s.kind = kindHeadless
	default:
		ips := svc.Spec.ClusterIPs
		if len(ips) == 0 && svc.Spec.ClusterIP != "" {
			ips = []string{svc.Spec.ClusterIP}
		}
		for _, ip := range ips {
			if a, err := netip.ParseAddr(ip); err == nil {
				s.clusterIPs = append(s.clusterIPs, a.Unmap())
			}
		}
		if len(s.clusterIPs) == 0 {
			s.kind = kindHeadless // no address yet: behaves as CoreDNS does for "None"
		}
	}
	for _, ip := range svc.Spec.ExternalIPs {
		if a, err := netip.ParseAddr(ip); err == nil {
			s.externalIPs = append(s.externalIPs, a.Unmap())
		}
	}
	for _, in := range svc.Status.LoadBalancer.Ingress {
		if a, err := netip.ParseAddr(in.IP); err == nil {
			s.externalIPs = append(s.externalIPs, a.Unmap())
		}
	}
	for _, p := range svc.Spec.Ports {
		s.ports = append(s.ports, port{name: strings.ToLower(p.Name), protocol: strings.ToLower(string(p.Protocol)), number: p.Port})
	}
	if len(s.ports) == 0 {
		s.ports = []port{{number: -1}}
	}
	if s.kind == kindExternalName {
		return s
	}
	type seenKey struct {
		addr  netip.Addr
		ports string
	}
	seen := map[seenKey]bool{}
	ordered := slices.Clone(slices_)
	slices.SortFunc(ordered, func(a, b *discoveryv1.EndpointSlice) int { return strings.Compare(a.Name, b.Name) })
	for _, sl := range ordered {
		if sl.AddressType != discoveryv1.AddressTypeIPv4 && sl.AddressType != discoveryv1.AddressTypeIPv6 {
			continue
		}
		ports := slicePorts(sl)
		pk := portsKey(ports)
		for _, e := range sl.Endpoints {
			if e.Conditions.Ready != nil && !*e.Conditions.Ready {
				continue
			}
			for _, a := range e.Addresses {
				ip, err := netip.ParseAddr(a)
				if err != nil {
					continue
				}
				ip = ip.Unmap()
				k := seenKey{ip, pk}
				if seen[k] {
					continue
				}
				seen[k] = true
				label := dashed(ip)
				if e.Hostname != nil && *e.Hostname != "" {
					label = strings.ToLower(*e.Hostname)
				}
				s.endpoints = append(s.endpoints, endpoint{addr: ip, label: []byte(label), ports: ports})
			}
		}
	}
	return s
}

func slicePorts(sl *discoveryv1.EndpointSlice) []port {
	if len(sl.Ports) == 0 {
		return []port{{number: -1}}
	}
	out := make([]port, 0, len(sl.Ports))
	for _, p := range sl.Ports {
		pp := port{number: -1}
		if p.Name != nil {
			pp.name = strings.ToLower(*p.Name)
		}
		if p.Protocol != nil {
			pp.protocol = strings.ToLower(string(*p.Protocol))
		}
		if p.Port != nil {
			pp.number = *p.Port
		}
		out = append(out, pp)
	}
	return out
}

func portsKey(ps []port) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.name)
		b.WriteByte('/')
		b.WriteString(p.protocol)
		b.WriteByte('/')
		b.WriteString(strconv.Itoa(int(p.number)))
		b.WriteByte(',')
	}
	return b.String()
}
