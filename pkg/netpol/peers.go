package netpol

import (
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/minik8s/minik8s/pkg/proxy/nft"
)

// peerMatches returns the alternatives that match one peer on the packet's
// other end (its source for ingress, destination for egress). A peer that
// can match nothing of this family returns none.
func (b *builder) peerMatches(namespace string, ingress bool, peer networkingv1.NetworkPolicyPeer) [][]nft.Expr {
	if peer.IPBlock != nil {
		var out [][]nft.Expr
		for _, p := range blockPrefixes(peer.IPBlock, b.f) {
			out = append(out, []nft.Expr{nft.MatchAddr{Src: ingress, Prefix: p}})
		}
		return out
	}
	if peer.PodSelector == nil && peer.NamespaceSelector == nil {
		return nil
	}
	set, ok := b.peerSet(namespace, peer)
	if !ok {
		return nil
	}
	key := nft.Daddr
	if ingress {
		key = nft.Saddr
	}
	return [][]nft.Expr{{nft.Lookup{Keys: []any{key}, Set: set}}}
}

// peerSet returns the set of the addresses of the pods a selector peer
// names: pods matching podSelector (all if absent) in the namespaces
// matching namespaceSelector, or in the policy's namespace if it is absent.
// Peers that select the same pods share a set.
func (b *builder) peerSet(namespace string, peer networkingv1.NetworkPolicyPeer) (string, bool) {
	podSel, nsSel := labels.Everything(), labels.Selector(nil)
	var err error
	if peer.PodSelector != nil {
		if podSel, err = metav1.LabelSelectorAsSelector(peer.PodSelector); err != nil {
			return "", false
		}
	}
	if peer.NamespaceSelector != nil {
		if nsSel, err = metav1.LabelSelectorAsSelector(peer.NamespaceSelector); err != nil {
			return "", false
		}
	}
	key := "pods " + selectorText(podSel) + " in namespace " + namespace
	if nsSel != nil {
		key = "pods " + selectorText(podSel) + " in namespaces " + selectorText(nsSel)
	}
	if name, ok := b.peerSets[key]; ok {
		return name, true
	}
	name := fmt.Sprintf("peers-%d", len(b.peerSets))
	b.peerSets[key] = name
	set := b.t.AddSet(&nft.Set{Name: name, Key: []nft.Type{nft.AddrType(b.f, "saddr")}, Comment: clip(key)})
	for _, pod := range b.pods {
		if !b.inNamespaces(pod, namespace, nsSel) || !podSel.Matches(labels.Set(pod.Labels)) {
			continue
		}
		for _, a := range podAddrs(pod, b.f) {
			set.Add(nft.Element{Key: []nft.Value{nft.Addr(a)}})
		}
	}
	return name, true
}

func (b *builder) inNamespaces(pod *corev1.Pod, namespace string, nsSel labels.Selector) bool {
	if nsSel == nil {
		return pod.Namespace == namespace
	}
	l, ok := b.nsLabels[pod.Namespace]
	if !ok {
		l = labels.Set{nsNameLabel: pod.Namespace}
	}
	return nsSel.Matches(l)
}

// blockPrefixes returns the prefixes of the family that make up the block's
// CIDR without its exceptions.
func blockPrefixes(block *networkingv1.IPBlock, f nft.Family) []netip.Prefix {
	cidr, err := netip.ParsePrefix(block.CIDR)
	if err != nil || cidr.Addr().Is4() != (f == nft.IPv4) {
		return nil
	}
	out := []netip.Prefix{cidr.Masked()}
	for _, e := range block.Except {
		ex, err := netip.ParsePrefix(e)
		if err != nil || ex.Addr().Is4() != (f == nft.IPv4) {
			continue
		}
		var rest []netip.Prefix
		for _, p := range out {
			rest = append(rest, without(p, ex.Masked())...)
		}
		out = rest
	}
	return out
}

// without returns the prefixes covering p but not e: walking from p down to
// e, the half that does not hold e is kept at each step.
func without(p, e netip.Prefix) []netip.Prefix {
	if !p.Overlaps(e) {
		return []netip.Prefix{p}
	}
	if e.Bits() <= p.Bits() {
		return nil
	}
	var out []netip.Prefix
	for cur := p; cur.Bits() < e.Bits(); {
		lo, hi := halves(cur)
		if lo.Contains(e.Addr()) {
			out, cur = append(out, hi), lo
		} else {
			out, cur = append(out, lo), hi
		}
	}
	return out
}

// halves splits a prefix into its two prefixes one bit longer.
func halves(p netip.Prefix) (lo, hi netip.Prefix) {
	bits := p.Bits() + 1
	lo = netip.PrefixFrom(p.Addr(), bits).Masked()
	b := lo.Addr().AsSlice()
	b[(bits-1)/8] |= 0x80 >> ((bits - 1) % 8)
	a, _ := netip.AddrFromSlice(b)
	return lo, netip.PrefixFrom(a, bits)
}

func selectorText(s labels.Selector) string {
	if s.Empty() {
		return "(all)"
	}
	return "(" + s.String() + ")"
}
