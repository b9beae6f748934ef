package proxy

import (
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/minik8s/minik8s/pkg/proxy/nft"
)

func service(name string, mutate ...func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", ResourceVersion: "1"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.96.0.20", ClusterIPs: []string{"10.96.0.20"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}}}}
	for _, m := range mutate {
		m(s)
	}
	return s
}

type ep struct {
	addr, node      string
	ready, terminat bool
}

func slice(svc, name string, addrType discoveryv1.AddressType, portName string, port int32, proto corev1.Protocol, eps ...ep) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", ResourceVersion: "1",
		Labels: map[string]string{discoveryv1.LabelServiceName: svc}}, AddressType: addrType,
		Ports: []discoveryv1.EndpointPort{{Name: ptr.To(portName), Port: ptr.To(port), Protocol: ptr.To(proto)}}}
	for _, e := range eps {
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{e.addr}, NodeName: ptr.To(e.node),
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(e.ready), Serving: ptr.To(e.ready || e.terminat),
				Terminating: ptr.To(e.terminat)}})
	}
	return s
}

func TestServicePortsReadServicesAsKubeProxyDoes(t *testing.T) {
	v4 := discoveryv1.AddressTypeIPv4
	web := slice("web", "web-1", v4, "http", 8080, corev1.ProtocolTCP, ep{"10.244.0.5", "node-a", true, false}, ep{"10.244.1.5", "node-b", true, false})
	cases := []struct {
		name    string
		svc     *corev1.Service
		slices  []*discoveryv1.EndpointSlice
		family  nft.Family
		check   func(t *testing.T, got []portEndpoints)
		wantLen int
	}{
		{"a ClusterIP Service has one port with its endpoints, the local one marked", service("web"),
			[]*discoveryv1.EndpointSlice{web}, nft.IPv4, func(t *testing.T, got []portEndpoints) {
				if len(got[0].endpoints) != 2 || !got[0].endpoints[0].Local || got[0].endpoints[1].Local {
					t.Errorf("endpoints %+v", got[0].endpoints)
				}
				if got[0].port.NodePort != 0 || got[0].port.ClusterIP != netip.MustParseAddr("10.96.0.20") {
					t.Errorf("port %+v", got[0].port)
				}
			}, 1},
		{"a headless Service has none", service("web", func(s *corev1.Service) { s.Spec.ClusterIP, s.Spec.ClusterIPs = "None", []string{"None"} }),
			[]*discoveryv1.EndpointSlice{web}, nft.IPv4, nil, 0},
		{"an ExternalName Service has none", service("web", func(s *corev1.Service) {
			s.Spec.Type, s.Spec.ExternalName, s.Spec.ClusterIP, s.Spec.ClusterIPs = corev1.ServiceTypeExternalName, "example.com", "", nil
		}), nil, nft.IPv4, nil, 0},
		{"an IPv4 Service has no IPv6 ports", service("web"), []*discoveryv1.EndpointSlice{web}, nft.IPv6, nil, 0},
		{"endpoints of a slice port with another name are not this port's", service("web"),
			[]*discoveryv1.EndpointSlice{slice("web", "web-1", v4, "metrics", 9090, corev1.ProtocolTCP, ep{"10.244.0.5", "node-a", true, false})},
			nft.IPv4, func(t *testing.T, got []portEndpoints) {
				if len(got[0].endpoints) != 0 {
					t.Errorf("endpoints %+v", got[0].endpoints)
				}
			}, 1},
		{"an address listed in two slices counts once", service("web"),
			[]*discoveryv1.EndpointSlice{web, slice("web", "web-2", v4, "http", 8080, corev1.ProtocolTCP, ep{"10.244.0.5", "node-a", true, false})},
			nft.IPv4, func(t *testing.T, got []portEndpoints) {
				if len(got[0].endpoints) != 2 {
					t.Errorf("endpoints %+v", got[0].endpoints)
				}
			}, 1},
		{"a NodePort Service with externalTrafficPolicy Local carries the policy and no health check port",
			service("web", func(s *corev1.Service) {
				s.Spec.Type, s.Spec.ExternalTrafficPolicy = corev1.ServiceTypeNodePort, corev1.ServiceExternalTrafficPolicyLocal
				s.Spec.Ports[0].NodePort = 30080
			}), []*discoveryv1.EndpointSlice{web}, nft.IPv4, func(t *testing.T, got []portEndpoints) {
				if !got[0].port.ExternalLocal || got[0].port.NodePort != 30080 || got[0].port.HealthCheckNodePort != 0 {
					t.Errorf("port %+v", got[0].port)
				}
			}, 1},
		{"a LoadBalancer Service takes its VIP ingress IPs but not ipMode Proxy ones, and its health check port",
			service("web", func(s *corev1.Service) {
				s.Spec.Type, s.Spec.ExternalTrafficPolicy = corev1.ServiceTypeLoadBalancer, corev1.ServiceExternalTrafficPolicyLocal
				s.Spec.HealthCheckNodePort = 32000
				s.Spec.Ports[0].NodePort = 30080
				s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.1"},
					{IP: "192.0.2.2", IPMode: ptr.To(corev1.LoadBalancerIPModeProxy)}, {Hostname: "lb.example.com"}}
			}), []*discoveryv1.EndpointSlice{web}, nft.IPv4, func(t *testing.T, got []portEndpoints) {
				p := got[0].port
				if len(p.LoadBalancerIPs) != 1 || p.LoadBalancerIPs[0] != netip.MustParseAddr("192.0.2.1") || p.HealthCheckNodePort != 32000 {
					t.Errorf("port %+v", p)
				}
			}, 1},
		{"sessionAffinity ClientIP defaults to three hours", service("web", func(s *corev1.Service) {
			s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
		}), nil, nft.IPv4, func(t *testing.T, got []portEndpoints) {
			if got[0].port.AffinityTimeout != 3*time.Hour {
				t.Errorf("timeout %v", got[0].port.AffinityTimeout)
			}
		}, 1},
		{"sessionAffinityConfig sets the timeout", service("web", func(s *corev1.Service) {
			s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
			s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr.To[int32](60)}}
		}), nil, nft.IPv4, func(t *testing.T, got []portEndpoints) {
			if got[0].port.AffinityTimeout != time.Minute {
				t.Errorf("timeout %v", got[0].port.AffinityTimeout)
			}
		}, 1},
		{"internalTrafficPolicy Local is carried", service("web", func(s *corev1.Service) {
			s.Spec.InternalTrafficPolicy = ptr.To(corev1.ServiceInternalTrafficPolicyLocal)
		}), nil, nft.IPv4, func(t *testing.T, got []portEndpoints) {
			if !got[0].port.InternalLocal {
				t.Errorf("port %+v", got[0].port)
			}
		}, 1},
		{"a terminating endpoint is serving but not ready", service("web"),
			[]*discoveryv1.EndpointSlice{slice("web", "web-1", v4, "http", 8080, corev1.ProtocolTCP, ep{"10.244.0.5", "node-a", false, true})},
			nft.IPv4, func(t *testing.T, got []portEndpoints) {
				e := got[0].endpoints[0]
				if e.Ready || !e.Serving || !e.Terminating {
					t.Errorf("endpoint %+v", e)
				}
			}, 1},
		{"a deleted Service has no ports", nil, []*discoveryv1.EndpointSlice{web}, nft.IPv4, nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := servicePorts(c.svc, c.slices, "node-a", c.family)
			if len(got) != c.wantLen {
				t.Fatalf("got %d ports, want %d: %+v", len(got), c.wantLen, got)
			}
			if c.check != nil {
				c.check(t, got)
			}
		})
	}
}
