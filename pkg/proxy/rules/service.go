package rules

import (
	"net/netip"

	"github.com/minik8s/minik8s/pkg/proxy/nft"
)

// Contribution is what one service port adds to the table: elements of the
// shared sets and maps, the shared dispatch chains it sends traffic to, and
// chains and sets of its own (session affinity, externalTrafficPolicy Local).
type Contribution struct {
	Elements []SetElement
	Dispatch []dispatch
	Chains   []*nft.Chain
	Sets     []*nft.Set
}

// SetElement is an element of a named set.
type SetElement struct {
	Set string
	nft.Element
	key string
}

func (c *Contribution) elem(set string, e nft.Element) {
	c.Elements = append(c.Elements, SetElement{Set: set, Element: e, key: e.KeyText()})
}

func (c *Contribution) dispatchTo(kind string, n int) string {
	d := dispatch{kind: kind, n: n}
	c.Dispatch = append(c.Dispatch, d)
	if kind == dispatchExternalPrefix {
		c.Dispatch = append(c.Dispatch, dispatch{kind: dispatchServicePrefix, n: n})
	}
	return d.name()
}

func gotoVerdict(chain string) *nft.Verdict { v := nft.Goto(chain); return &v }

var dropVerdict = &nft.Drop

// Service builds one service port's contribution, given its endpoints.
func Service(c *Config, sp *ServicePort, eps []Endpoint) *Contribution {
	out := &Contribution{}
	if !sp.ClusterIP.IsValid() {
		return out
	}
	s := categorize(sp, eps)
	proto, port := sp.proto(), nft.Port(sp.Port)
	comment := sp.Name.String()

	internal := s.cluster
	if sp.InternalLocal {
		internal = s.local
	}
	external := s.cluster
	if sp.externalLocal() {
		external = s.local
	}
	// Verdicts for the filter chains when traffic finds no endpoint: a
	// Service with none anywhere rejects; one whose Local policy leaves this
	// node without any drops.
	noEndpoints := gotoVerdict(chainReject)
	if s.any {
		noEndpoints = dropVerdict
	}
	vipKey := func(ip netip.Addr) []nft.Value { return []nft.Value{nft.Addr(ip), proto, port} }

	// Session affinity and externalTrafficPolicy Local need per-service chains,
	// as kube-proxy builds them; every other port shares the dispatch chains.
	perService := sp.AffinityTimeout > 0 || sp.externalLocal()
	var clusterChain, localChain string
	if perService {
		clusterChain, localChain = policyChains(c, sp, s, out)
	}

	out.elem(setClusterIPs, nft.Element{Key: []nft.Value{nft.Addr(sp.ClusterIP)}})
	if len(internal) > 0 {
		target := ""
		switch {
		case !perService:
			target = out.dispatchTo(dispatchServicePrefix, len(internal))
			addSlots(out, target, vipKey(sp.ClusterIP), internal)
		case sp.InternalLocal:
			target = localChain
		default:
			target = clusterChain
		}
		out.elem(mapServiceIPs, nft.Element{Key: vipKey(sp.ClusterIP), Verdict: gotoVerdict(target)})
	} else {
		out.elem(mapNoEndpointServices, nft.Element{Key: vipKey(sp.ClusterIP), Verdict: noEndpoints, Comment: comment})
	}

	if !sp.ExternallyAccessible() {
		return out
	}
	vips := append(append([]netip.Addr{}, sp.ExternalIPs...), sp.LoadBalancerIPs...)
	var extTarget, npTarget string
	if s.any && (perService || len(external) > 0) {
		if perService {
			extTarget = externalChain(c, sp, s, clusterChain, localChain, out)
			npTarget = extTarget
		} else {
			extTarget = out.dispatchTo(dispatchExternalPrefix, len(external))
			npTarget = out.dispatchTo(dispatchNodePortPrefix, len(external))
		}
	}
	for _, ip := range vips {
		if extTarget != "" {
			out.elem(mapServiceIPs, nft.Element{Key: vipKey(ip), Verdict: gotoVerdict(extTarget)})
			if !perService {
				addSlots(out, dispatch{kind: dispatchServicePrefix, n: len(external)}.name(), vipKey(ip), external)
			}
		}
		if len(external) == 0 {
			out.elem(mapNoEndpointServices, nft.Element{Key: vipKey(ip), Verdict: noEndpoints, Comment: comment})
		}
	}
	if sp.NodePort != 0 {
		npKey := []nft.Value{proto, nft.Port(sp.NodePort)}
		if npTarget != "" {
			out.elem(mapServiceNodePorts, nft.Element{Key: npKey, Verdict: gotoVerdict(npTarget)})
			if !perService {
				addSlots(out, npTarget, npKey, external)
			}
		}
		if len(external) == 0 {
			out.elem(mapNoEndpointNodePorts, nft.Element{Key: npKey, Verdict: noEndpoints, Comment: comment})
		}
	}
	return out
}

// addSlots maps (key, slot i) to endpoint i in a dispatch map, and lets the
// endpoints reach themselves (hairpin).
func addSlots(out *Contribution, dispatchMap string, key []nft.Value, eps []Endpoint) {
	for i, e := range eps {
		k := append(append([]nft.Value{}, key...), nft.Slot(i))
		out.elem(dispatchMap, nft.Element{Key: k, Data: []nft.Value{nft.Addr(e.Addr), nft.Port(e.Port)}})
		out.elem(setHairpin, nft.Element{Key: []nft.Value{nft.Addr(e.Addr), nft.Addr(e.Addr)}})
	}
}

// policyChains builds the per-service chains that pick among the cluster
// and the local endpoints, returning their names ("" when not built).
func policyChains(c *Config, sp *ServicePort, s endpointSets, out *Contribution) (cluster, local string) {
	base := nameBase(sp)
	if sp.usesClusterEndpoints() && len(s.cluster) > 0 {
		cluster = clusterChainPrefix + base
		out.Chains = append(out.Chains, pickChain(c, sp, cluster, s.cluster))
	}
	if sp.usesLocalEndpoints() && len(s.local) > 0 {
		local = localChainPrefix + base
		out.Chains = append(out.Chains, pickChain(c, sp, local, s.local))
	}
	// One chain (and with affinity, one set) per endpoint either chain uses.
	if sp.AffinityTimeout > 0 {
		for _, e := range s.reachable {
			eb := endpointNameBase(sp, e)
			out.Sets = append(out.Sets, &nft.Set{Name: affinitySetPrefix + eb, Key: []nft.Type{nft.AddrType(c.Family, "saddr")},
				Timeout: sp.AffinityTimeout})
			out.Chains = append(out.Chains, &nft.Chain{Name: endpointChainPrefix + eb, Rules: []nft.Rule{
				nft.R(nft.UpdateSaddr{Set: affinitySetPrefix + eb}),
				nft.R(nft.MatchProto{Proto: sp.proto()}, nft.DNAT{Addr: e.Addr, Port: e.Port}),
			}})
		}
	}
	for _, e := range s.reachable {
		out.elem(setHairpin, nft.Element{Key: []nft.Value{nft.Addr(e.Addr), nft.Addr(e.Addr)}})
	}
	return cluster, local
}

// pickChain chooses one endpoint at random: each rule takes its endpoint with
// probability 1/(endpoints left), so each is picked with 1/n, without sets.
// With session affinity, a client seen recently goes where it went before.
func pickChain(c *Config, sp *ServicePort, name string, eps []Endpoint) *nft.Chain {
	ch := &nft.Chain{Name: name}
	affinity := sp.AffinityTimeout > 0
	if affinity {
		for _, e := range eps {
			eb := endpointNameBase(sp, e)
			ch.Rules = append(ch.Rules, nft.R(nft.Lookup{Keys: []any{nft.Saddr}, Set: affinitySetPrefix + eb}, nft.Goto(endpointChainPrefix+eb)))
		}
	}
	for i, e := range eps {
		var exprs []nft.Expr
		if left := len(eps) - i; left > 1 {
			exprs = append(exprs, nft.OneIn{N: left})
		}
		if affinity {
			exprs = append(exprs, nft.Goto(endpointChainPrefix+endpointNameBase(sp, e)))
		} else {
			exprs = append(exprs, nft.MatchProto{Proto: sp.proto()}, nft.DNAT{Addr: e.Addr, Port: e.Port})
		}
		ch.Rules = append(ch.Rules, nft.R(exprs...))
	}
	return ch
}

// externalChain is where a per-service port's external traffic goes first.
func externalChain(c *Config, sp *ServicePort, s endpointSets, cluster, local string, out *Contribution) string {
	name := externalChainPrefix + nameBase(sp)
	ch := &nft.Chain{Name: name}
	if !sp.externalLocal() {
		// Cluster policy: the endpoint may be on another node.
		ch.Rules = append(ch.Rules, nft.R(nft.Jump(chainMarkMasq)))
		if cluster != "" {
			ch.Rules = append(ch.Rules, nft.R(nft.Goto(cluster)))
		}
		out.Chains = append(out.Chains, ch)
		return name
	}
	// Local policy keeps the client's address. Pods and this host itself are
	// not subject to it (as if they went out to a load balancer and back).
	inside := cluster
	if inside == "" {
		inside = local
	}
	if inside != "" {
		if c.LocalCIDR.IsValid() {
			ch.Rules = append(ch.Rules, nft.Rule{Exprs: []nft.Expr{nft.MatchAddr{Src: true, Prefix: c.LocalCIDR}, nft.Goto(inside)},
				Comment: "short-circuit pod traffic"})
		}
		ch.Rules = append(ch.Rules,
			nft.Rule{Exprs: []nft.Expr{nft.FibLocal{Src: true}, nft.Jump(chainMarkMasq)}, Comment: "masquerade local traffic"},
			nft.Rule{Exprs: []nft.Expr{nft.FibLocal{Src: true}, nft.Goto(inside)}, Comment: "short-circuit local traffic"})
	}
	if local != "" {
		ch.Rules = append(ch.Rules, nft.R(nft.Goto(local)))
	}
	out.Chains = append(out.Chains, ch)
	return name
}
