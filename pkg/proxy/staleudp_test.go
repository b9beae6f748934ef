package proxy

import (
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/minik8s/minik8s/pkg/proxy/rules"
)

func udpPort(nodePort uint16, eps ...string) portEndpoints {
	pe := portEndpoints{port: rules.ServicePort{Name: rules.ServicePortName{Namespace: "kube-system", Name: "dns", Port: "dns",
		Protocol: corev1.ProtocolUDP}, ClusterIP: netip.MustParseAddr("10.96.0.10"), Port: 53, NodePort: nodePort}}
	for _, e := range eps {
		pe.endpoints = append(pe.endpoints, rules.Endpoint{Addr: netip.MustParseAddr(e), Port: 5353, Ready: true, Serving: true})
	}
	return pe
}

func TestStaleUDPFlowsAreThoseOfGoneEndpointsAndOfPortsThatGotTheirFirst(t *testing.T) {
	tcp := udpPort(0, "10.244.0.5")
	tcp.port.Name.Protocol = corev1.ProtocolTCP
	cases := []struct {
		name     string
		old, cur []portEndpoints
		want     []udpFlow
	}{
		{"an endpoint that goes takes its entries to the ClusterIP", []portEndpoints{udpPort(0, "10.244.0.5", "10.244.0.6")},
			[]portEndpoints{udpPort(0, "10.244.0.6")},
			[]udpFlow{{OrigDst: netip.MustParseAddr("10.96.0.10"), OrigDstPort: 53, ReplySrc: netip.MustParseAddr("10.244.0.5")}}},
		{"and to the NodePort on any address", []portEndpoints{udpPort(30053, "10.244.0.5", "10.244.0.6")},
			[]portEndpoints{udpPort(30053, "10.244.0.6")},
			[]udpFlow{{OrigDst: netip.MustParseAddr("10.96.0.10"), OrigDstPort: 53, ReplySrc: netip.MustParseAddr("10.244.0.5")},
				{OrigDstPort: 30053, ReplySrc: netip.MustParseAddr("10.244.0.5")}}},
		{"a deleted Service's endpoints all go", []portEndpoints{udpPort(0, "10.244.0.5")}, nil,
			[]udpFlow{{OrigDst: netip.MustParseAddr("10.96.0.10"), OrigDstPort: 53, ReplySrc: netip.MustParseAddr("10.244.0.5")}}},
		{"a port that gets its first endpoint clears what was sent before", []portEndpoints{udpPort(0)},
			[]portEndpoints{udpPort(0, "10.244.0.5")},
			[]udpFlow{{OrigDst: netip.MustParseAddr("10.96.0.10"), OrigDstPort: 53}}},
		{"a new Service with endpoints too", nil, []portEndpoints{udpPort(0, "10.244.0.5")},
			[]udpFlow{{OrigDst: netip.MustParseAddr("10.96.0.10"), OrigDstPort: 53}}},
		{"unchanged endpoints leave everything", []portEndpoints{udpPort(0, "10.244.0.5")}, []portEndpoints{udpPort(0, "10.244.0.5")}, nil},
		{"TCP is never cleared: its connections end on their own", []portEndpoints{tcp}, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := staleUDPFlows(c.old, c.cur)
			if len(got) != len(c.want) {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Errorf("flow %d: got %+v, want %+v", i, got[i], c.want[i])
				}
			}
		})
	}
}
