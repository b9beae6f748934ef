package netpol

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/minik8s/minik8s/pkg/proxy/nft"
)

// Input is what one node's rules are computed from.
type Input struct {
	// NodeName picks the local pods: only they get ingress and egress chains.
	NodeName   string
	Policies   []*networkingv1.NetworkPolicy
	Pods       []*corev1.Pod
	Namespaces []*corev1.Namespace
}

// Names of the table's fixed chains and maps.
const (
	chainForward     = "forward"
	chainInput       = "input"
	chainIngress     = "ingress"
	chainEgress      = "egress"
	mapIngressPods   = "ingress-pods"
	mapEgressPods    = "egress-pods"
	nsNameLabel      = "kubernetes.io/metadata.name"
	maxCommentLength = 120
)

// Build computes the table of family f, named name, that enforces the
// policies on the node's pods. A policy that cannot be read (a selector or
// CIDR the API should have refused) is reported and left out, the rest apply.
func Build(f nft.Family, name string, in Input) (*nft.Table, []error) {
	b := &builder{f: f, t: nft.NewTable(f, name), peerSets: map[string]string{}, portSets: map[string]string{},
		nsLabels: map[string]labels.Set{}}
	for _, ns := range in.Namespaces {
		b.nsLabels[ns.Name] = namespaceLabels(ns)
	}
	for _, p := range in.Pods {
		if live(p) && len(podAddrs(p, f)) > 0 {
			b.pods = append(b.pods, p)
		}
	}
	sort.Slice(b.pods, func(i, j int) bool { return podKey(b.pods[i]) < podKey(b.pods[j]) })
	var errs []error
	var policies []*policy
	for _, np := range in.Policies {
		p, err := compilePolicy(np)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		policies = append(policies, p)
	}
	sort.Slice(policies, func(i, j int) bool { return policies[i].key < policies[j].key })

	b.base()
	ingress := b.t.AddSet(&nft.Set{Name: mapIngressPods, Key: []nft.Type{nft.AddrType(f, "daddr")}, Verdict: true})
	egress := b.t.AddSet(&nft.Set{Name: mapEgressPods, Key: []nft.Type{nft.AddrType(f, "saddr")}, Verdict: true})
	ingressChains, egressChains := map[string]string{}, map[string]string{}
	for _, pod := range b.pods {
		if pod.Spec.NodeName != in.NodeName {
			continue
		}
		var in, out []*policy
		for _, p := range policies {
			if !p.selects(pod) {
				continue
			}
			if p.ingress {
				in = append(in, p)
			}
			if p.egress {
				out = append(out, p)
			}
		}
		if len(in) > 0 {
			chain := b.groupChain(ingressChains, "ingress", in)
			b.addVerdicts(ingress, pod, chain)
		}
		if len(out) > 0 {
			chain := b.groupChain(egressChains, "egress", out)
			b.addVerdicts(egress, pod, chain)
		}
	}
	return b.t, errs
}

// builder accumulates one table.
type builder struct {
	f        nft.Family
	t        *nft.Table
	nsLabels map[string]labels.Set
	// pods are the running pods with an address of the family, by key.
	pods []*corev1.Pod
	// peerSets and portSets name the sets made so far by what they hold.
	peerSets map[string]string
	portSets map[string]string
}

// base adds the hooked chains and the chains that dispatch to a pod's rules.
func (b *builder) base() {
	established := nft.Rule{Exprs: []nft.Expr{nft.CtState{Mask: nft.CtStateEstablished | nft.CtStateRelated}, nft.Accept},
		Comment: "connections already allowed"}
	b.t.AddChain(&nft.Chain{Name: chainForward, Base: &nft.BaseChain{Type: "filter", Hook: nft.Forward, Priority: nft.PriorityFilter},
		Rules: []nft.Rule{established, nft.R(nft.Jump(chainEgress)), nft.R(nft.Jump(chainIngress))}})
	b.t.AddChain(&nft.Chain{Name: chainInput, Base: &nft.BaseChain{Type: "filter", Hook: nft.Input, Priority: nft.PriorityFilter},
		Rules: []nft.Rule{established, nft.R(nft.Jump(chainEgress))}})
	b.t.AddChain(&nft.Chain{Name: chainIngress, Rules: []nft.Rule{nft.R(nft.VMap{Keys: []any{nft.Daddr}, Map: mapIngressPods})}})
	b.t.AddChain(&nft.Chain{Name: chainEgress, Rules: []nft.Rule{nft.R(nft.VMap{Keys: []any{nft.Saddr}, Map: mapEgressPods})}})
}

// groupChain returns the chain checking a direction for pods selected by
// exactly these policies, making it the first time: each allowing rule
// returns (the packet goes on), and the chain ends in a drop.
func (b *builder) groupChain(made map[string]string, dir string, ps []*policy) string {
	keys := make([]string, len(ps))
	for i, p := range ps {
		keys[i] = p.key
	}
	group := strings.Join(keys, ",")
	if name, ok := made[group]; ok {
		return name
	}
	name := fmt.Sprintf("%s-%d", dir, len(made))
	made[group] = name
	c := b.t.AddChain(&nft.Chain{Name: name})
	for _, p := range ps {
		if dir == "ingress" {
			for i, r := range p.np.Spec.Ingress {
				b.allow(c, fmt.Sprintf("%s ingress %d", p.key, i), p.np.Namespace, true, r.From, r.Ports)
			}
		} else {
			for i, r := range p.np.Spec.Egress {
				b.allow(c, fmt.Sprintf("%s egress %d", p.key, i), p.np.Namespace, false, r.To, r.Ports)
			}
		}
	}
	c.Rules = append(c.Rules, nft.Rule{Exprs: []nft.Expr{nft.Drop}, Comment: clip(dir + " not allowed by " + group)})
	return name
}

// allow appends the rules of one policy rule: any of its peers and any of its
// ports (none listed: all of them).
func (b *builder) allow(c *nft.Chain, comment, namespace string, ingress bool, peers []networkingv1.NetworkPolicyPeer, ports []networkingv1.NetworkPolicyPort) {
	peerMatches := [][]nft.Expr{nil}
	if len(peers) > 0 {
		peerMatches = nil
		for _, peer := range peers {
			peerMatches = append(peerMatches, b.peerMatches(namespace, ingress, peer)...)
		}
	}
	portMatches := [][]nft.Expr{nil}
	if len(ports) > 0 {
		portMatches = nil
		for _, port := range ports {
			portMatches = append(portMatches, b.portMatch(port))
		}
	}
	for _, peer := range peerMatches {
		for _, port := range portMatches {
			exprs := append(append(append([]nft.Expr{}, peer...), port...), nft.Return)
			c.Rules = append(c.Rules, nft.Rule{Exprs: exprs, Comment: clip(comment)})
		}
	}
}

// addVerdicts sends the pod's addresses of the family to chain.
func (b *builder) addVerdicts(m *nft.Set, pod *corev1.Pod, chain string) {
	v := nft.Goto(chain)
	for _, a := range podAddrs(pod, b.f) {
		m.Add(nft.Element{Key: []nft.Value{nft.Addr(a)}, Verdict: &v, Comment: clip(podKey(pod))})
	}
}

func podKey(p *corev1.Pod) string { return p.Namespace + "/" + p.Name }

// live reports whether the pod has a network of its own that may carry
// traffic: host-network pods share the node's address and are not selected,
// as upstream leaves them out; finished pods have given their address back.
func live(p *corev1.Pod) bool {
	return !p.Spec.HostNetwork && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
}

// podAddrs returns the pod's addresses of the family.
func podAddrs(p *corev1.Pod, f nft.Family) []netip.Addr {
	ips := make([]string, 0, len(p.Status.PodIPs)+1)
	for _, ip := range p.Status.PodIPs {
		ips = append(ips, ip.IP)
	}
	if len(ips) == 0 && p.Status.PodIP != "" {
		ips = append(ips, p.Status.PodIP)
	}
	var out []netip.Addr
	for _, s := range ips {
		a, err := netip.ParseAddr(s)
		if err != nil {
			continue
		}
		a = a.Unmap()
		if a.Is4() == (f == nft.IPv4) {
			out = append(out, a)
		}
	}
	return out
}

// namespaceLabels are the namespace's labels with the name label the API
// server always sets, in case the object predates it.
func namespaceLabels(ns *corev1.Namespace) labels.Set {
	l := labels.Set{}
	for k, v := range ns.Labels {
		l[k] = v
	}
	l[nsNameLabel] = ns.Name
	return l
}

func clip(s string) string {
	if len(s) > maxCommentLength {
		return s[:maxCommentLength-1] + "…"
	}
	return s
}
