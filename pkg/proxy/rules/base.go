package rules

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/minik8s/minik8s/pkg/proxy/nft"
)

// Config describes the rules of one family.
type Config struct {
	Family nft.Family
	// Table is the nftables table the rules live in.
	Table string
	// MasqueradeBit is the packet mark bit that asks for masquerading (14,
	// as kube-proxy's default).
	MasqueradeBit int
	// LocalCIDR is this node's pod range (kube-proxy's detect-local-mode
	// NodeCIDR): traffic from elsewhere to a ClusterIP is masqueraded, and
	// pods skip externalTrafficPolicy Local. Invalid (zero) means none.
	LocalCIDR netip.Prefix
	// LocalhostNodePorts answers NodePorts on 127.0.0.1 (IPv4 only), as
	// kube-proxy's iptables mode does; it needs route_localnet.
	LocalhostNodePorts bool
	// ServiceCIDRs are the family's Service IP ranges (the ServiceCIDR
	// objects): new connections to an address of them that no Service holds
	// are dropped, as kube-proxy does, rather than routed off the node.
	ServiceCIDRs []netip.Prefix
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.Table == "" || strings.ContainsAny(c.Table, " \t\n\"") {
		return fmt.Errorf("nftables table name %q is not valid", c.Table)
	}
	if c.MasqueradeBit < 0 || c.MasqueradeBit > 31 {
		return fmt.Errorf("masquerade bit %d is not in 0..31", c.MasqueradeBit)
	}
	if c.LocalCIDR.IsValid() && c.LocalCIDR.Addr().Is4() != (c.Family == nft.IPv4) {
		return errors.New("the local CIDR is not of the table's family")
	}
	for _, p := range c.ServiceCIDRs {
		if !p.IsValid() || p.Addr().Is4() != (c.Family == nft.IPv4) {
			return fmt.Errorf("service CIDR %s is not of the table's family", p)
		}
	}
	return nil
}

func (c *Config) mark() uint32 { return 1 << uint(c.MasqueradeBit) }

func (c *Config) localhostNodePorts() bool { return c.LocalhostNodePorts && c.Family == nft.IPv4 }

// The table's fixed chains and sets, named as kube-proxy's nftables mode names them.
const (
	chainFilterInput        = "filter-input"
	chainFilterForward      = "filter-forward"
	chainFilterOutput       = "filter-output"
	chainNATPrerouting      = "nat-prerouting"
	chainNATOutput          = "nat-output"
	chainNATPostrouting     = "nat-postrouting"
	chainServices           = "services"
	chainMasquerading       = "masquerading"
	chainMarkMasq           = "mark-for-masquerade"
	chainServiceCheck       = "service-endpoints-check"
	chainNodePortCheck      = "nodeport-endpoints-check"
	chainClusterIPsCheck    = "cluster-ips-check"
	chainReject             = "reject-chain"
	setClusterIPs           = "cluster-ips"
	mapServiceIPs           = "service-ips"
	mapServiceNodePorts     = "service-nodeports"
	mapNoEndpointServices   = "no-endpoint-services"
	mapNoEndpointNodePorts  = "no-endpoint-nodeports"
	setHairpin              = "hairpin"
	dispatchServicePrefix   = "service-endpoints-"
	dispatchExternalPrefix  = "external-endpoints-"
	dispatchNodePortPrefix  = "nodeport-endpoints-"
	localhostDropComment    = "block incoming localnet connections"
	clusterIPsRejectComment = "Reject traffic to invalid ports of ClusterIPs"
	unallocatedDropComment  = "Drop traffic to unallocated ClusterIPs"
)

var loopback4 = netip.MustParsePrefix("127.0.0.0/8")

func (c *Config) ipKey(k nft.Key) []any { return []any{k, nft.L4Proto, nft.Dport} }

// Base is the table without any Service: hooks, dispatch and the shared sets.
func Base(c *Config) *nft.Table {
	f := c.Family
	t := nft.NewTable(f, c.Table)
	addr := nft.AddrType(f, "daddr")
	t.AddSet(&nft.Set{Name: setClusterIPs, Key: []nft.Type{addr}, Comment: "Active ClusterIPs"})
	t.AddSet(&nft.Set{Name: mapServiceIPs, Key: []nft.Type{addr, nft.ProtoType, nft.PortType}, Verdict: true,
		Comment: "ClusterIP, ExternalIP and LoadBalancer IP traffic"})
	t.AddSet(&nft.Set{Name: mapServiceNodePorts, Key: []nft.Type{nft.ProtoType, nft.PortType}, Verdict: true,
		Comment: "NodePort traffic"})
	t.AddSet(&nft.Set{Name: mapNoEndpointServices, Key: []nft.Type{addr, nft.ProtoType, nft.PortType}, Verdict: true,
		Comment: "vmap to drop or reject packets to services with no endpoints"})
	t.AddSet(&nft.Set{Name: mapNoEndpointNodePorts, Key: []nft.Type{nft.ProtoType, nft.PortType}, Verdict: true,
		Comment: "vmap to drop or reject packets to service nodeports with no endpoints"})
	t.AddSet(&nft.Set{Name: setHairpin, Key: []nft.Type{nft.AddrType(f, "saddr"), addr},
		Comment: "endpoints reaching themselves through a Service"})

	base := func(name, typ string, hook nft.Hook, prio int, rules ...nft.Rule) {
		t.AddChain(&nft.Chain{Name: name, Base: &nft.BaseChain{Type: typ, Hook: hook, Priority: prio}, Rules: rules})
	}
	newConn := nft.CtState{Mask: nft.CtStateNew}
	input := []nft.Rule{
		nft.R(newConn, nft.Jump(chainNodePortCheck)),
		nft.R(newConn, nft.Jump(chainServiceCheck)),
	}
	if c.localhostNodePorts() {
		// route_localnet lets other hosts reach 127.0.0.1 services; only
		// connections this table rewrote may (kube-proxy's CVE-2020-8558 rule).
		input = append(input, nft.Rule{Exprs: []nft.Expr{nft.MatchAddr{Prefix: loopback4},
			nft.MatchAddr{Src: true, Not: true, Prefix: loopback4},
			nft.CtState{Mask: nft.CtStateEstablished | nft.CtStateRelated, Not: true}, nft.CtDNAT{Not: true}, nft.Drop},
			Comment: localhostDropComment})
	}
	base(chainFilterInput, "filter", nft.Input, nft.PriorityFilter, input...)
	base(chainFilterForward, "filter", nft.Forward, nft.PriorityFilter,
		nft.R(newConn, nft.Jump(chainServiceCheck)), nft.R(newConn, nft.Jump(chainClusterIPsCheck)))
	base(chainFilterOutput, "filter", nft.Output, nft.PriorityFilter,
		nft.R(newConn, nft.Jump(chainServiceCheck)), nft.R(newConn, nft.Jump(chainClusterIPsCheck)))
	base(chainNATPrerouting, "nat", nft.Prerouting, nft.PriorityDstNAT, nft.R(nft.Jump(chainServices)))
	base(chainNATOutput, "nat", nft.Output, nft.PriorityDstNAT, nft.R(nft.Jump(chainServices)))
	base(chainNATPostrouting, "nat", nft.Postrouting, nft.PrioritySrcNAT, nft.R(nft.Jump(chainMasquerading)))

	var services []nft.Rule
	if c.LocalCIDR.IsValid() {
		// Traffic from outside the pods of this node to a ClusterIP may go to
		// another node's endpoint: masquerade it so replies come back here.
		services = append(services, nft.R(nft.Lookup{Keys: []any{nft.Daddr}, Set: setClusterIPs},
			nft.MatchAddr{Src: true, Not: true, Prefix: c.LocalCIDR}, nft.Jump(chainMarkMasq)))
	}
	services = append(services, nft.R(nft.VMap{Keys: c.ipKey(nft.Daddr), Map: mapServiceIPs}))
	nodePorts := []nft.Expr{nft.FibLocal{}}
	if np := c.notLocalhost(); np != nil {
		nodePorts = append(nodePorts, np)
	}
	nodePorts = append(nodePorts, nft.VMap{Keys: []any{nft.L4Proto, nft.Dport}, Map: mapServiceNodePorts})
	services = append(services, nft.R(nodePorts...))
	t.AddChain(&nft.Chain{Name: chainServices, Rules: services})

	mark := c.mark()
	t.AddChain(&nft.Chain{Name: chainMarkMasq, Rules: []nft.Rule{nft.R(nft.MarkOr{Bits: mark})}})
	t.AddChain(&nft.Chain{Name: chainMasquerading, Rules: []nft.Rule{
		// A pod sent to itself through its Service: its own address as the
		// source would make it answer itself directly.
		nft.R(nft.CtDNAT{}, nft.Lookup{Keys: []any{nft.Saddr, nft.Daddr}, Set: setHairpin}, nft.Masquerade{}),
		nft.R(nft.MarkClear{Mask: mark}, nft.Return),
		// Cleared so a packet that is encapsulated and comes back is not masqueraded twice.
		nft.R(nft.MarkXor{Bits: mark}),
		nft.R(nft.Masquerade{}),
	}})
	t.AddChain(&nft.Chain{Name: chainServiceCheck, Rules: []nft.Rule{
		nft.R(nft.VMap{Keys: c.ipKey(nft.Daddr), Map: mapNoEndpointServices})}})
	npCheck := []nft.Expr{}
	if np := c.notLocalhost(); np != nil {
		npCheck = append(npCheck, np)
	}
	npCheck = append(npCheck, nft.VMap{Keys: []any{nft.L4Proto, nft.Dport}, Map: mapNoEndpointNodePorts})
	t.AddChain(&nft.Chain{Name: chainNodePortCheck, Rules: []nft.Rule{nft.R(npCheck...)}})
	ipsCheck := []nft.Rule{{
		Exprs: []nft.Expr{nft.Lookup{Keys: []any{nft.Daddr}, Set: setClusterIPs}, nft.Reject{}}, Comment: clusterIPsRejectComment}}
	for _, p := range c.ServiceCIDRs {
		ipsCheck = append(ipsCheck, nft.Rule{Exprs: []nft.Expr{nft.MatchAddr{Prefix: p.Masked()}, nft.Drop},
			Comment: unallocatedDropComment})
	}
	t.AddChain(&nft.Chain{Name: chainClusterIPsCheck, Rules: ipsCheck})
	t.AddChain(&nft.Chain{Name: chainReject, Rules: []nft.Rule{nft.R(nft.Reject{})}})
	return t
}

// notLocalhost excludes loopback destinations from NodePorts when they are
// not answered there.
func (c *Config) notLocalhost() nft.Expr {
	if c.localhostNodePorts() {
		return nil
	}
	if c.Family == nft.IPv6 {
		return nft.MatchAddr{Not: true, Prefix: netip.MustParsePrefix("::1/128")}
	}
	return nft.MatchAddr{Not: true, Prefix: loopback4}
}

// dispatch is a shared way to pick one of n endpoints: by destination
// (ClusterIPs, external and load-balancer IPs) or by port (NodePorts).
type dispatch struct {
	kind string // one of the dispatch*Prefix
	n    int
}

func (d dispatch) name() string { return d.kind + strconv.Itoa(d.n) }

// mapName is the map of endpoints the dispatch reads; external traffic reads
// the service map, after marking for masquerade.
func (d dispatch) mapName() string {
	if d.kind == dispatchExternalPrefix {
		return dispatchServicePrefix + strconv.Itoa(d.n)
	}
	return d.name()
}

// parseDispatch recognises a dispatch chain or map name.
func parseDispatch(name string) (dispatch, bool) {
	for _, kind := range []string{dispatchServicePrefix, dispatchExternalPrefix, dispatchNodePortPrefix} {
		if rest, ok := strings.CutPrefix(name, kind); ok {
			if n, err := strconv.Atoi(rest); err == nil && n > 0 {
				return dispatch{kind: kind, n: n}, true
			}
		}
	}
	return dispatch{}, false
}

// dispatchSet declares the map of endpoints of a dispatch that has one.
func (c *Config) dispatchSet(d dispatch) *nft.Set {
	f := c.Family
	data := []nft.Type{nft.AddrType(f, "daddr"), nft.PortType}
	switch d.kind {
	case dispatchServicePrefix:
		return &nft.Set{Name: d.name(), Key: []nft.Type{nft.AddrType(f, "daddr"), nft.ProtoType, nft.PortType, nft.SlotType(d.n)}, Data: data}
	case dispatchNodePortPrefix:
		return &nft.Set{Name: d.name(), Key: []nft.Type{nft.ProtoType, nft.PortType, nft.SlotType(d.n)}, Data: data}
	}
	return nil
}

// dispatchChain is the chain of a dispatch: numgen picks a slot of the map,
// whose element for (destination or port, slot) is the endpoint.
func (c *Config) dispatchChain(d dispatch) *nft.Chain {
	ch := &nft.Chain{Name: d.name()}
	var keys []any
	switch d.kind {
	case dispatchExternalPrefix:
		ch.Rules = []nft.Rule{nft.R(nft.Jump(chainMarkMasq)), nft.R(nft.Goto(dispatchServicePrefix + strconv.Itoa(d.n)))}
		return ch
	case dispatchServicePrefix:
		keys = []any{nft.Daddr, nft.L4Proto, nft.Dport, nft.NumgenKey(d.n)}
	case dispatchNodePortPrefix:
		// From outside, or from this host: masquerade so replies return here.
		ch.Rules = append(ch.Rules, nft.R(nft.Jump(chainMarkMasq)))
		keys = []any{nft.L4Proto, nft.Dport, nft.NumgenKey(d.n)}
	}
	for _, p := range []nft.Proto{nft.TCP, nft.UDP, nft.SCTP} {
		ch.Rules = append(ch.Rules, nft.R(nft.MatchProto{Proto: p}, nft.DNATMap{Keys: keys, Map: d.mapName()}))
	}
	return ch
}
