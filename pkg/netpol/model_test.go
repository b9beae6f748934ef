package netpol

import (
	"net/netip"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/minik8s/minik8s/pkg/proxy/nft"
)

// The cluster of the tests. This node is node-a, whose gateway is 10.244.0.1.
//
//	default/a  node-a 10.244.0.10  app=a role=frontend
//	default/b  node-a 10.244.0.11  app=b role=db  ports http=8080/TCP dns=53/UDP
//	default/c  node-b 10.244.1.10  app=c  port http=9090/TCP
//	other/d    node-a 10.244.0.12  app=d         (namespace other: project=myproject)
//	other/e    node-b 10.244.1.11  app=e role=frontend
//	third/f    node-b 10.244.1.12  app=a
//	default/h  node-a host network (10.244.0.1) app=a
const (
	ipA, ipB, ipC, ipD, ipE, ipF = "10.244.0.10", "10.244.0.11", "10.244.1.10", "10.244.0.12", "10.244.1.11", "10.244.1.12"
	ipNode, ipOutside            = "10.244.0.1", "192.168.7.7"
)

func testPod(ns, name, node, ip string, labels map[string]string, ports ...corev1.ContainerPort) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec:   corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Ports: ports}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}}}
}

func testCluster() Input {
	hostNet := testPod("default", "h", "node-a", ipNode, map[string]string{"app": "a"})
	hostNet.Spec.HostNetwork = true
	return Input{
		NodeName: "node-a",
		Namespaces: []*corev1.Namespace{
			{ObjectMeta: metav1.ObjectMeta{Name: "default"}},
			{ObjectMeta: metav1.ObjectMeta{Name: "other", Labels: map[string]string{"project": "myproject"}}},
			{ObjectMeta: metav1.ObjectMeta{Name: "third"}},
		},
		Pods: []*corev1.Pod{
			testPod("default", "a", "node-a", ipA, map[string]string{"app": "a", "role": "frontend"}),
			testPod("default", "b", "node-a", ipB, map[string]string{"app": "b", "role": "db"},
				corev1.ContainerPort{Name: "http", ContainerPort: 8080}, corev1.ContainerPort{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP}),
			testPod("default", "c", "node-b", ipC, map[string]string{"app": "c"}, corev1.ContainerPort{Name: "http", ContainerPort: 9090}),
			testPod("other", "d", "node-a", ipD, map[string]string{"app": "d"}),
			testPod("other", "e", "node-b", ipE, map[string]string{"app": "e", "role": "frontend"}),
			testPod("third", "f", "node-b", ipF, map[string]string{"app": "a"}),
			hostNet,
		},
	}
}

func sel(kv ...string) *metav1.LabelSelector {
	s := &metav1.LabelSelector{MatchLabels: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		s.MatchLabels[kv[i]] = kv[i+1]
	}
	return s
}

func netpol(ns, name string, podSelector *metav1.LabelSelector, types []networkingv1.PolicyType,
	ingress []networkingv1.NetworkPolicyIngressRule, egress []networkingv1.NetworkPolicyEgressRule) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: networkingv1.NetworkPolicySpec{PodSelector: *podSelector, PolicyTypes: types, Ingress: ingress, Egress: egress}}
}

var (
	ingressOnly = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	egressOnly  = []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
	both        = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}
)

func from(peers ...networkingv1.NetworkPolicyPeer) []networkingv1.NetworkPolicyIngressRule {
	return []networkingv1.NetworkPolicyIngressRule{{From: peers}}
}

func podsPeer(s *metav1.LabelSelector) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{PodSelector: s}
}

func nsPeer(s *metav1.LabelSelector) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{NamespaceSelector: s}
}

func blockPeer(cidr string, except ...string) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: cidr, Except: except}}
}

func port(proto corev1.Protocol, p intstr.IntOrString, end ...int32) networkingv1.NetworkPolicyPort {
	np := networkingv1.NetworkPolicyPort{Protocol: &proto, Port: &p}
	if len(end) > 0 {
		np.EndPort = &end[0]
	}
	return np
}

func tcp(src, dst string, p uint16) packet {
	return packet{src: src, dst: dst, proto: nft.TCP, port: p}
}
func udp(src, dst string, p uint16) packet {
	return packet{src: src, dst: dst, proto: nft.UDP, port: p}
}

type check struct {
	p    packet
	want bool
}

func TestBuildEnforcesUpstreamSemantics(t *testing.T) {
	num, name := intstr.FromInt32, intstr.FromString
	cases := []struct {
		name     string
		policies []*networkingv1.NetworkPolicy
		checks   []check
	}{
		{
			name: "without any policy every pod is open both ways",
			checks: []check{{tcp(ipA, ipB, 80), true}, {tcp(ipC, ipA, 22), true}, {udp(ipOutside, ipD, 53), true},
				{packet{src: ipA, dst: ipNode, proto: nft.TCP, port: 6443, toHost: true}, true}},
		},
		{
			name:     "a default-deny ingress policy isolates every pod of its namespace and no other",
			policies: []*networkingv1.NetworkPolicy{netpol("default", "deny", sel(), ingressOnly, nil, nil)},
			checks: []check{{tcp(ipD, ipA, 80), false}, {tcp(ipC, ipB, 80), false}, {udp(ipOutside, ipA, 53), false},
				{tcp(ipA, ipD, 80), true}, {tcp(ipE, ipD, 80), true}},
		},
		{
			name:     "a default-deny ingress policy leaves egress of the isolated pods open",
			policies: []*networkingv1.NetworkPolicy{netpol("default", "deny", sel(), ingressOnly, nil, nil)},
			checks:   []check{{tcp(ipA, ipC, 80), true}, {tcp(ipA, ipOutside, 443), true}},
		},
		{
			name:     "packets of established connections pass whatever the policies say",
			policies: []*networkingv1.NetworkPolicy{netpol("default", "deny", sel(), both, nil, nil)},
			checks: []check{{packet{src: ipD, dst: ipA, proto: nft.TCP, port: 80, established: true}, true},
				{packet{src: ipA, dst: ipD, proto: nft.TCP, port: 80, established: true}, true}},
		},
		{
			name: "an allow-all ingress rule beside a default deny allows everything: the rules are a union",
			policies: []*networkingv1.NetworkPolicy{netpol("default", "deny", sel(), ingressOnly, nil, nil),
				netpol("default", "allow", sel(), ingressOnly, []networkingv1.NetworkPolicyIngressRule{{}}, nil)},
			checks: []check{{tcp(ipD, ipA, 80), true}, {udp(ipOutside, ipB, 9), true}},
		},
		{
			name: "a pod selector peer admits only the selected pods of the policy's namespace on the listed port",
			policies: []*networkingv1.NetworkPolicy{netpol("default", "db", sel("role", "db"), ingressOnly,
				[]networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{podsPeer(sel("role", "frontend"))},
					Ports: []networkingv1.NetworkPolicyPort{port(corev1.ProtocolTCP, num(6379))}}}, nil)},
			checks: []check{{tcp(ipA, ipB, 6379), true}, {tcp(ipA, ipB, 6380), false}, {udp(ipA, ipB, 6379), false},
				{tcp(ipE, ipB, 6379), false}, {tcp(ipC, ipB, 6379), false}, {tcp(ipC, ipA, 80), true}},
		},
		{
			name: "a namespace selector peer admits every pod of the matching namespaces",
			policies: []*networkingv1.NetworkPolicy{netpol("default", "ns", sel(), ingressOnly,
				from(nsPeer(sel("project", "myproject"))), nil)},
			checks: []check{{tcp(ipD, ipA, 80), true}, {tcp(ipE, ipB, 80), true}, {tcp(ipF, ipA, 80), false}, {tcp(ipC, ipA, 80), false}},
		},
		{
			name: "a namespace selector matches the name label the API server sets",
			policies: []*networkingv1.NetworkPolicy{netpol("default", "ns", sel(), ingressOnly,
				from(nsPeer(sel(nsNameLabel, "third"))), nil)},
			checks: []check{{tcp(ipF, ipA, 80), true}, {tcp(ipD, ipA, 80), false}},
		},
		{
			name: "namespace and pod selectors in one peer must both match",
			policies: []*networkingv1.NetworkPolicy{netpol("default", "and", sel(), ingressOnly,
				from(networkingv1.NetworkPolicyPeer{NamespaceSelector: sel("project", "myproject"), PodSelector: sel("role", "frontend")}), nil)},
			checks: []check{{tcp(ipE, ipA, 80), true}, {tcp(ipD, ipA, 80), false}, {tcp(ipA, ipB, 80), false}},
		},
		{
			name: "namespace and pod selectors in two peers are alternatives",
			policies: []*networkingv1.NetworkPolicy{netpol("default", "or", sel(), ingressOnly,
				from(nsPeer(sel("project", "myproject")), podsPeer(sel("role", "frontend"))), nil)},
			checks: []check{{tcp(ipE, ipB, 80), true}, {tcp(ipD, ipB, 80), true}, {tcp(ipA, ipB, 80), true}, {tcp(ipC, ipB, 80), false}},
		},
		{
			name: "an empty namespace selector admits matching pods of every namespace",
			policies: []*networkingv1.NetworkPolicy{netpol("default", "all-ns", sel(), ingressOnly,
				from(networkingv1.NetworkPolicyPeer{NamespaceSelector: sel(), PodSelector: sel("app", "a")}), nil)},
			checks: []check{{tcp(ipF, ipB, 80), true}, {tcp(ipA, ipB, 80), true}, {tcp(ipE, ipB, 80), false}},
		},
		{
			name: "an ipBlock admits its CIDR but not its exceptions",
			policies: []*networkingv1.NetworkPolicy{netpol("default", "block", sel("app", "a"), ingressOnly,
				from(blockPeer("192.168.0.0/16", "192.168.7.0/24", "192.168.200.0/21")), nil)},
			checks: []check{{tcp("192.168.1.1", ipA, 80), true}, {tcp("192.168.255.255", ipA, 80), true},
				{tcp(ipOutside, ipA, 80), false}, {tcp("192.168.201.3", ipA, 80), false}, {tcp("10.1.1.1", ipA, 80), false}},
		},
		{
			name: "an egress ipBlock with a port allows only that destination and port; the rest of egress is denied",
			policies: []*networkingv1.NetworkPolicy{netpol("default", "egress", sel("app", "a"), egressOnly, nil,
				[]networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{blockPeer("10.0.0.0/24")},
					Ports: []networkingv1.NetworkPolicyPort{port(corev1.ProtocolTCP, num(5978))}}})},
			checks: []check{{tcp(ipA, "10.0.0.9", 5978), true}, {tcp(ipA, "10.0.0.9", 5979), false}, {tcp(ipA, "10.0.1.9", 5978), false},
				{tcp(ipA, ipB, 80), false}, {tcp(ipB, ipA, 80), true}, {tcp(ipB, ipOutside, 80), true}},
		},
		{
			name: "endPort allows the whole range and nothing past it",
			policies: []*networkingv1.NetworkPolicy{netpol("default", "range", sel("app", "b"), ingressOnly,
				[]networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{port(corev1.ProtocolTCP, num(32000), 32768)}}}, nil)},
			checks: []check{{tcp(ipA, ipB, 32000), true}, {tcp(ipA, ipB, 32768), true}, {tcp(ipA, ipB, 32500), true},
				{tcp(ipA, ipB, 31999), false}, {tcp(ipA, ipB, 32769), false}, {udp(ipA, ipB, 32100), false}},
		},
		{
			name: "a port without a number allows every port of its protocol",
			policies: []*networkingv1.NetworkPolicy{netpol("default", "udp", sel("app", "b"), ingressOnly,
				[]networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{{Protocol: ptr(corev1.ProtocolUDP)}}}}, nil)},
			checks: []check{{udp(ipA, ipB, 1), true}, {udp(ipC, ipB, 65000), true}, {tcp(ipA, ipB, 80), false}},
		},
		{
			name: "an ingress named port resolves to the selected pod's container port of that name and protocol",
			policies: []*networkingv1.NetworkPolicy{netpol("default", "named", sel("app", "b"), ingressOnly,
				[]networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{port(corev1.ProtocolTCP, name("http")),
					port(corev1.ProtocolUDP, name("dns"))}}}, nil)},
			checks: []check{{tcp(ipA, ipB, 8080), true}, {udp(ipA, ipB, 53), true}, {tcp(ipA, ipB, 53), false},
				{tcp(ipA, ipB, 9090), false}, {tcp(ipA, ipB, 80), false}},
		},
		{
			name: "an egress named port resolves on the destination pod",
			policies: []*networkingv1.NetworkPolicy{netpol("default", "named", sel("app", "a"), egressOnly, nil,
				[]networkingv1.NetworkPolicyEgressRule{{Ports: []networkingv1.NetworkPolicyPort{port(corev1.ProtocolTCP, name("http"))}}})},
			checks: []check{{tcp(ipA, ipB, 8080), true}, {tcp(ipA, ipC, 9090), true}, {tcp(ipA, ipC, 8080), false},
				{tcp(ipA, ipOutside, 8080), false}},
		},
		{
			name:     "a default-deny egress policy stops new connections out of the pods, to the node too, but not into them",
			policies: []*networkingv1.NetworkPolicy{netpol("default", "deny-egress", sel(), egressOnly, nil, nil)},
			checks: []check{{tcp(ipA, ipB, 80), false}, {tcp(ipA, ipC, 80), false}, {tcp(ipA, ipOutside, 80), false},
				{packet{src: ipA, dst: ipNode, proto: nft.UDP, port: 53, toHost: true}, false},
				{tcp(ipD, ipA, 80), true}, {tcp(ipD, ipC, 80), true}},
		},
		{
			name: "policy types default to ingress, plus egress when the policy has egress rules",
			policies: []*networkingv1.NetworkPolicy{netpol("default", "implicit", sel("app", "a"), nil, nil,
				[]networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{podsPeer(sel("app", "b"))}}})},
			checks: []check{{tcp(ipA, ipB, 80), true}, {tcp(ipA, ipC, 80), false}, {tcp(ipB, ipA, 80), false}},
		},
		{
			name: "between two local pods the source's egress and the destination's ingress must both allow",
			policies: []*networkingv1.NetworkPolicy{
				netpol("default", "a-out", sel("app", "a"), egressOnly, nil,
					[]networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{podsPeer(sel("app", "b"))}}}),
				netpol("other", "d-in", sel("app", "d"), ingressOnly, from(podsPeer(sel())), nil),
			},
			checks: []check{{tcp(ipA, ipB, 80), true}, {tcp(ipA, ipD, 80), false}, {tcp(ipB, ipD, 80), false}, {tcp(ipD, ipD, 80), true}},
		},
		{
			name: "a destination whose ingress denies wins over a source whose egress allows",
			policies: []*networkingv1.NetworkPolicy{
				netpol("default", "a-out", sel("app", "a"), egressOnly, nil, []networkingv1.NetworkPolicyEgressRule{{}}),
				netpol("default", "b-in", sel("app", "b"), ingressOnly, nil, nil),
			},
			checks: []check{{tcp(ipA, ipB, 80), false}, {tcp(ipA, ipC, 80), true}},
		},
		{
			name:     "pods on other nodes are left to their own node's ingress rules",
			policies: []*networkingv1.NetworkPolicy{netpol("default", "deny", sel(), ingressOnly, nil, nil)},
			checks:   []check{{tcp(ipD, ipC, 80), true}},
		},
		{
			name: "a policy selects pods only in its own namespace",
			policies: []*networkingv1.NetworkPolicy{netpol("third", "deny", sel(), both, nil, nil),
				netpol("other", "deny-a", sel("app", "a"), both, nil, nil)},
			checks: []check{{tcp(ipD, ipA, 80), true}, {tcp(ipA, ipD, 80), true}},
		},
		{
			name:     "a host-network pod is not selected: it is the node",
			policies: []*networkingv1.NetworkPolicy{netpol("default", "deny-a", sel("app", "a"), both, nil, nil)},
			checks:   []check{{packet{src: ipNode, dst: ipOutside, proto: nft.TCP, port: 80}, true}, {tcp(ipA, ipB, 80), false}},
		},
		{
			name: "two policies selecting one pod allow the union of their peers",
			policies: []*networkingv1.NetworkPolicy{
				netpol("default", "from-a", sel("app", "b"), ingressOnly, from(podsPeer(sel("app", "a"))), nil),
				netpol("default", "from-c", sel("app", "b"), ingressOnly, from(podsPeer(sel("app", "c"))), nil),
			},
			checks: []check{{tcp(ipA, ipB, 80), true}, {tcp(ipC, ipB, 80), true}, {tcp(ipD, ipB, 80), false}},
		},
		{
			name: "a selector with expressions selects as the API documents",
			policies: []*networkingv1.NetworkPolicy{netpol("default", "expr",
				&metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpIn, Values: []string{"b", "x"}}}},
				ingressOnly, from(podsPeer(&metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "role", Operator: metav1.LabelSelectorOpExists}}})), nil)},
			checks: []check{{tcp(ipA, ipB, 80), true}, {tcp(ipC, ipB, 80), false}, {tcp(ipC, ipA, 80), true}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := testCluster()
			in.Policies = tc.policies
			tbl, errs := Build(nft.IPv4, "minik8s-netpol", in)
			if len(errs) > 0 {
				t.Fatalf("Build: %v", errs)
			}
			for _, c := range tc.checks {
				if got := allowed(t, tbl, c.p); got != c.want {
					t.Errorf("%v: allowed = %v, want %v\ntable:\n%s", c.p, got, c.want, tbl)
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestBuildReportsAnUnreadablePolicyAndAppliesTheOthers(t *testing.T) {
	in := testCluster()
	bad := netpol("default", "bad", &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: "Sometimes"}}},
		ingressOnly, nil, nil)
	in.Policies = []*networkingv1.NetworkPolicy{bad, netpol("default", "deny-b", sel("app", "b"), ingressOnly, nil, nil)}
	tbl, errs := Build(nft.IPv4, "t", in)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "default/bad") {
		t.Fatalf("errors = %v, want one naming default/bad", errs)
	}
	if allowed(t, tbl, tcp(ipA, ipB, 80)) || !allowed(t, tbl, tcp(ipB, ipA, 80)) {
		t.Errorf("the valid policy is not applied alone:\n%s", tbl)
	}
}

func TestBuildPutsOnlyTheFamilysAddressesInItsTable(t *testing.T) {
	in := testCluster()
	in.Pods[0].Status.PodIPs = append(in.Pods[0].Status.PodIPs, corev1.PodIP{IP: "fd00::10"})
	in.Policies = []*networkingv1.NetworkPolicy{netpol("default", "deny", sel(), ingressOnly, from(blockPeer("fd00::/64"), blockPeer("10.0.0.0/8")), nil)}
	v6, _ := Build(nft.IPv6, "t", in)
	if got := len(v6.Sets[mapIngressPods].Elements); got != 1 {
		t.Errorf("ip6 table has %d local pod addresses, want 1:\n%s", got, v6)
	}
	if s := v6.String(); strings.Contains(s, "10.244.") || strings.Contains(s, "10.0.0.0/8") {
		t.Errorf("ip6 table holds IPv4 addresses:\n%s", s)
	}
	if !allowedV6(t, v6, "fd00::99", "fd00::10") || allowedV6(t, v6, "fd01::1", "fd00::10") {
		t.Errorf("ip6 ipBlock not applied:\n%s", v6)
	}
}

func allowedV6(t *testing.T, tbl *nft.Table, src, dst string) bool {
	return allowed(t, tbl, packet{src: src, dst: dst, proto: nft.TCP, port: 80})
}

func TestWithoutSplitsAPrefixAroundAnException(t *testing.T) {
	cases := []struct{ name, p, e, want string }{
		{"an exception outside the prefix leaves it whole", "10.0.0.0/8", "11.0.0.0/8", "10.0.0.0/8"},
		{"an exception covering the prefix leaves nothing", "10.1.0.0/16", "10.0.0.0/8", ""},
		{"an exception one bit longer leaves the other half", "10.0.0.0/8", "10.128.0.0/9", "10.0.0.0/9"},
		{"a deep exception leaves one prefix per level", "10.0.0.0/24", "10.0.0.4/30", "10.0.0.128/25 10.0.0.64/26 10.0.0.32/27 10.0.0.16/28 10.0.0.8/29 10.0.0.0/30"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, p := range without(mustPrefix(tc.p), mustPrefix(tc.e)) {
				got = append(got, p.String())
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("without(%s, %s) = %v, want %s", tc.p, tc.e, got, tc.want)
			}
		})
	}
}

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
