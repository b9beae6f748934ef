package netpol

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/minik8s/minik8s/pkg/proxy/netnstest"
	"github.com/minik8s/minik8s/pkg/proxy/nft"
)

// The table Build makes, with every kind of peer and port, installs through
// netlink exactly as nft installs its text: the kernel holds what the
// model's tests evaluated.
func TestBuiltTableInstallsTheSameThroughNetlinkAndNft(t *testing.T) {
	netnstest.Require(t)
	in := testCluster()
	in.Policies = []*networkingv1.NetworkPolicy{
		netpol("default", "db", sel("role", "db"), both,
			[]networkingv1.NetworkPolicyIngressRule{{
				From: []networkingv1.NetworkPolicyPeer{podsPeer(sel("role", "frontend")), nsPeer(sel("project", "myproject")),
					blockPeer("192.168.0.0/16", "192.168.7.0/24")},
				Ports: []networkingv1.NetworkPolicyPort{port(corev1.ProtocolTCP, intstr.FromInt32(6379)),
					port(corev1.ProtocolTCP, intstr.FromInt32(32000), 32768), port(corev1.ProtocolUDP, intstr.FromString("dns")),
					{Protocol: ptr(corev1.ProtocolSCTP)}}}},
			[]networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{podsPeer(sel("app", "a"))},
				Ports: []networkingv1.NetworkPolicyPort{port(corev1.ProtocolTCP, intstr.FromString("http"))}}}),
		netpol("default", "deny", sel(), ingressOnly, nil, nil),
	}
	tbl, errs := Build(nft.IPv4, "netpol-sample", in)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	viaNft, viaNetlink := netnstest.New(t, "npnft"), netnstest.New(t, "npnl")
	if err := (&nft.Command{Wrap: viaNft.Wrap()}).Apply(nft.Replace(tbl)); err != nil {
		t.Fatalf("nft -f: %v\nscript:\n%s", err, nft.Replace(tbl).Script())
	}
	if err := (&nft.Netlink{NetNS: viaNetlink.Fd()}).Apply(nft.Replace(tbl)); err != nil {
		t.Fatalf("netlink: %v", err)
	}
	want := viaNft.Run("nft", "list", "table", "ip", "netpol-sample")
	got := viaNetlink.Run("nft", "list", "table", "ip", "netpol-sample")
	if withoutDecls(got) != withoutDecls(want) {
		t.Errorf("netlink table differs from nft's:\n--- nft -f\n%s\n--- netlink\n%s", want, got)
	}
}

// withoutDecls drops the type lines, which nft words from its own
// declarations (typeof) and netlink cannot carry.
func withoutDecls(listing string) string {
	var out []string
	for _, line := range strings.Split(listing, "\n") {
		l := strings.TrimSpace(line)
		if strings.HasPrefix(l, "typeof ") || strings.HasPrefix(l, "type ") {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}
