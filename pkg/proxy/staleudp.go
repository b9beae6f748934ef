package proxy

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"

	"github.com/minik8s/minik8s/pkg/proxy/rules"
)

// staleUDPFlows lists the UDP conntrack entries a change of one Service's
// ports leaves wrong, as kube-proxy clears them:
//   - an endpoint that stopped being used: entries the service's addresses
//     (ClusterIP, external and load-balancer IPs, NodePort) sent to it would
//     keep sending a client's datagrams to an address that is gone;
//   - a port that had no endpoint and now has: entries made while nothing
//     answered (no rule yet, or before the Service existed) would keep its
//     datagrams from ever being translated.
//
// UDP has no connection to end, so conntrack would keep such entries for as
// long as the client keeps sending.
func staleUDPFlows(old, cur []portEndpoints) []udpFlow {
	var out []udpFlow
	curByName := map[rules.ServicePortName]portEndpoints{}
	for _, p := range cur {
		curByName[p.port.Name] = p
	}
	oldByName := map[rules.ServicePortName]portEndpoints{}
	for _, p := range old {
		oldByName[p.port.Name] = p
	}
	for _, o := range old {
		if o.port.Name.Protocol != corev1.ProtocolUDP {
			continue
		}
		still := map[netip.Addr]bool{}
		if c, ok := curByName[o.port.Name]; ok {
			for _, e := range c.endpoints {
				if usable(e) {
					still[e.Addr] = true
				}
			}
		}
		gone := map[netip.Addr]bool{}
		for _, e := range o.endpoints {
			if usable(e) && !still[e.Addr] && !gone[e.Addr] {
				gone[e.Addr] = true
				out = append(out, flowsTo(&o.port, e.Addr)...)
			}
		}
	}
	for _, c := range cur {
		if c.port.Name.Protocol != corev1.ProtocolUDP || !anyUsable(c.endpoints) {
			continue
		}
		if o, ok := oldByName[c.port.Name]; ok && anyUsable(o.endpoints) {
			continue
		}
		out = append(out, flowsTo(&c.port, netip.Addr{})...)
	}
	return out
}

// flowsTo selects the entries to a service port's addresses whose replies
// come from ep (any when invalid).
func flowsTo(sp *rules.ServicePort, ep netip.Addr) []udpFlow {
	var out []udpFlow
	v6 := sp.ClusterIP.Is6()
	for _, ip := range append(append([]netip.Addr{sp.ClusterIP}, sp.ExternalIPs...), sp.LoadBalancerIPs...) {
		out = append(out, udpFlow{OrigDst: ip, OrigDstPort: sp.Port, ReplySrc: ep, V6: v6})
	}
	if sp.NodePort != 0 {
		out = append(out, udpFlow{OrigDstPort: sp.NodePort, ReplySrc: ep, V6: v6})
	}
	return out
}

// usable is an endpoint the rules may send to: ready, or serving while
// terminating (the fallback when none is ready).
func usable(e rules.Endpoint) bool { return e.Ready || (e.Serving && e.Terminating) }

func anyUsable(eps []rules.Endpoint) bool {
	for _, e := range eps {
		if usable(e) {
			return true
		}
	}
	return false
}
