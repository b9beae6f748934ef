package netpol

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/minik8s/minik8s/pkg/proxy/nft"
)

// portMatch matches one entry of a rule's ports on the packet's destination:
// a protocol (TCP if unset), with a port, a range up to endPort, or a
// container port name resolved on whichever pod the packet goes to.
func (b *builder) portMatch(port networkingv1.NetworkPolicyPort) []nft.Expr {
	proto := corev1.ProtocolTCP
	if port.Protocol != nil {
		proto = *port.Protocol
	}
	p := protoValue(proto)
	switch {
	case port.Port == nil:
		return []nft.Expr{nft.MatchProto{Proto: p}}
	case port.Port.Type == intstr.String:
		set := b.portSet(proto, port.Port.StrVal)
		return []nft.Expr{nft.Lookup{Keys: []any{nft.Daddr, nft.L4Proto, nft.Dport}, Set: set}}
	}
	m := nft.MatchPort{Proto: p, Port: uint16(port.Port.IntVal)}
	if port.EndPort != nil && *port.EndPort > port.Port.IntVal {
		m.End = uint16(*port.EndPort)
	}
	return []nft.Expr{m}
}

// portSet returns the set of (address, protocol, port) of every pod with a
// container port of that name and protocol.
func (b *builder) portSet(proto corev1.Protocol, name string) string {
	key := string(proto) + "/" + name
	if set, ok := b.portSets[key]; ok {
		return set
	}
	set := fmt.Sprintf("ports-%d", len(b.portSets))
	b.portSets[key] = set
	s := b.t.AddSet(&nft.Set{Name: set, Key: []nft.Type{nft.AddrType(b.f, "daddr"), nft.ProtoType, nft.PortType},
		Comment: clip("container ports named " + key)})
	for _, pod := range b.pods {
		for _, c := range pod.Spec.Containers {
			for _, cp := range c.Ports {
				cproto := cp.Protocol
				if cproto == "" {
					cproto = corev1.ProtocolTCP
				}
				if cp.Name != name || cproto != proto {
					continue
				}
				for _, a := range podAddrs(pod, b.f) {
					s.Add(nft.Element{Key: []nft.Value{nft.Addr(a), protoValue(proto), nft.Port(cp.ContainerPort)}})
				}
			}
		}
	}
	return set
}

func protoValue(p corev1.Protocol) nft.Proto {
	switch p {
	case corev1.ProtocolUDP:
		return nft.UDP
	case corev1.ProtocolSCTP:
		return nft.SCTP
	}
	return nft.TCP
}
