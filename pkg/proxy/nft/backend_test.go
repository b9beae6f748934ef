package nft

import (
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minik8s/minik8s/pkg/proxy/netnstest"
)

// sampleTable uses every expression and kind of set.
func sampleTable(f Family) *Table {
	t := NewTable(f, "sample")
	addr := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	pfx := netip.MustParsePrefix("10.244.0.0/24")
	loop := netip.MustParsePrefix("127.0.0.0/8")
	clusterIP, ep1, ep2 := addr("10.96.0.10"), addr("10.244.0.5"), addr("10.244.0.6")
	if f == IPv6 {
		pfx, loop = netip.MustParsePrefix("fd00:10:244::/64"), netip.MustParsePrefix("::1/128")
		clusterIP, ep1, ep2 = addr("fd00:10:96::a"), addr("fd00:10:244::5"), addr("fd00:10:244::6")
	}
	cips := t.AddSet(&Set{Name: "cluster-ips", Key: []Type{AddrType(f, "daddr")}, Comment: "Active ClusterIPs"})
	cips.Add(Element{Key: []Value{Addr(clusterIP)}})
	svc := t.AddSet(&Set{Name: "service-ips", Key: []Type{AddrType(f, "daddr"), ProtoType, PortType}, Verdict: true})
	svc.Add(Element{Key: []Value{Addr(clusterIP), TCP, Port(80)}, Verdict: &Verdict{Kind: Goto("endpoints-2").Kind, Chain: "endpoints-2"}})
	noeps := t.AddSet(&Set{Name: "no-endpoint-services", Key: []Type{AddrType(f, "daddr"), ProtoType, PortType}, Verdict: true})
	noeps.Add(Element{Key: []Value{Addr(clusterIP), UDP, Port(53)}, Verdict: &Verdict{Kind: Goto("reject-chain").Kind, Chain: "reject-chain"}, Comment: "ns/svc:dns"})
	eps := t.AddSet(&Set{Name: "endpoints-2", Key: []Type{AddrType(f, "daddr"), ProtoType, PortType, SlotType(2)},
		Data: []Type{AddrType(f, "daddr"), PortType}})
	eps.Add(Element{Key: []Value{Addr(clusterIP), TCP, Port(80), Slot(0)}, Data: []Value{Addr(ep1), Port(8080)}})
	eps.Add(Element{Key: []Value{Addr(clusterIP), TCP, Port(80), Slot(1)}, Data: []Value{Addr(ep2), Port(8080)}})
	hp := t.AddSet(&Set{Name: "hairpin", Key: []Type{AddrType(f, "saddr"), AddrType(f, "daddr")}})
	hp.Add(Element{Key: []Value{Addr(ep1), Addr(ep1)}})
	t.AddSet(&Set{Name: "affinity-x", Key: []Type{AddrType(f, "saddr")}, Timeout: 3 * time.Hour})

	t.AddChain(&Chain{Name: "nat-prerouting", Base: &BaseChain{Type: "nat", Hook: Prerouting, Priority: PriorityDstNAT},
		Rules: []Rule{R(Jump("services"))}})
	t.AddChain(&Chain{Name: "filter-input", Base: &BaseChain{Type: "filter", Hook: Input, Priority: PriorityFilter},
		Rules: []Rule{
			R(CtState{Mask: CtStateNew}, Jump("services-check")),
			{Exprs: []Expr{MatchAddr{Prefix: loop}, MatchAddr{Src: true, Not: true, Prefix: loop},
				CtState{Mask: CtStateEstablished | CtStateRelated, Not: true}, CtDNAT{Not: true}, Drop}, Comment: "block incoming localnet connections"},
		}})
	t.AddChain(&Chain{Name: "pre-dnat", Base: &BaseChain{Type: "filter", Hook: Prerouting, Priority: PriorityDstNAT - 10}})
	t.AddChain(&Chain{Name: "services", Rules: []Rule{
		R(Lookup{Keys: []any{Daddr}, Set: "cluster-ips"}, MatchAddr{Src: true, Not: true, Prefix: pfx}, Jump("mark-for-masquerade")),
		R(VMap{Keys: []any{Daddr, L4Proto, Dport}, Map: "service-ips"}),
		R(FibLocal{}, VMap{Keys: []any{Daddr, L4Proto, Dport}, Map: "service-ips"}),
	}})
	t.AddChain(&Chain{Name: "services-check", Rules: []Rule{R(VMap{Keys: []any{Daddr, L4Proto, Dport}, Map: "no-endpoint-services"})}})
	t.AddChain(&Chain{Name: "endpoints-2", Rules: []Rule{
		R(MatchProto{TCP}, DNATMap{Keys: []any{Daddr, L4Proto, Dport, NumgenKey(2)}, Map: "endpoints-2"}),
	}})
	t.AddChain(&Chain{Name: "mark-for-masquerade", Rules: []Rule{R(MarkOr{0x4000})}})
	t.AddChain(&Chain{Name: "masquerading", Rules: []Rule{
		R(CtDNAT{}, Lookup{Keys: []any{Saddr, Daddr}, Set: "hairpin"}, Masquerade{}),
		R(MarkClear{0x4000}, Return),
		R(MarkXor{0x4000}),
		R(Masquerade{}),
	}})
	t.AddChain(&Chain{Name: "affinity", Rules: []Rule{
		R(Lookup{Keys: []any{Saddr}, Set: "affinity-x"}, Goto("endpoint-x")),
		R(OneIn{2}, Goto("endpoint-x")),
		R(FibLocal{Src: true}, Lookup{Keys: []any{Saddr}, Set: "affinity-x", Not: true}, Accept),
	}})
	t.AddChain(&Chain{Name: "endpoint-x", Rules: []Rule{
		R(UpdateSaddr{Set: "affinity-x"}),
		R(MatchProto{UDP}, DNAT{Addr: ep1, Port: 53}),
	}})
	t.AddChain(&Chain{Name: "ports", Rules: []Rule{
		R(MatchPort{Proto: TCP, Port: 80}, Accept),
		R(MatchPort{Proto: UDP, Port: 5000, End: 5010}, Drop),
	}})
	t.AddChain(&Chain{Name: "reject-chain", Rules: []Rule{R(Reject{})}})
	return t
}

// The two backends must install the same table: what nft lists back is
// compared, so the netlink encoding of every expression matches nft's own.
func TestNetlinkAndNftInstallTheSameTable(t *testing.T) {
	netnstest.Require(t)
	for _, f := range []Family{IPv4, IPv6} {
		t.Run(f.String(), func(t *testing.T) {
			viaNft, viaNetlink := netnstest.New(t, "nft"), netnstest.New(t, "nl")
			tbl := sampleTable(f)
			if err := (&Command{Wrap: viaNft.Wrap()}).Apply(Replace(tbl)); err != nil {
				t.Fatalf("nft -f: %v\nscript:\n%s", err, Replace(tbl).Script())
			}
			if err := (&Netlink{NetNS: viaNetlink.Fd()}).Apply(Replace(tbl)); err != nil {
				t.Fatalf("netlink: %v", err)
			}
			want := viaNft.Run("nft", "list", "table", f.String(), "sample")
			got := viaNetlink.Run("nft", "list", "table", f.String(), "sample")
			if normalize(got) != normalize(want) {
				t.Errorf("netlink table differs from nft's:\n--- nft -f\n%s\n--- netlink\n%s", want, got)
			}
			// Applying again replaces the table: nothing doubles.
			if err := (&Netlink{NetNS: viaNetlink.Fd()}).Apply(Replace(tbl)); err != nil {
				t.Fatalf("netlink again: %v", err)
			}
			if again := viaNetlink.Run("nft", "list", "table", f.String(), "sample"); again != got {
				t.Errorf("second replace changed the table:\n%s", again)
			}
		})
	}
}

// normalize drops what only nft's own declarations carry: typeof and the
// type names nft derives from it. Slots are declared as marks in the kernel,
// which nft prints in hex.
var hexWord = regexp.MustCompile(`0x[0-9a-f]{8}`)

func normalize(listing string) string {
	var out []string
	for _, line := range strings.Split(listing, "\n") {
		l := hexWord.ReplaceAllStringFunc(strings.TrimSpace(line), func(h string) string {
			v, _ := strconv.ParseUint(h[2:], 16, 32)
			return strconv.FormatUint(v, 10)
		})
		if strings.HasPrefix(l, "typeof ") || strings.HasPrefix(l, "type ") {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}
