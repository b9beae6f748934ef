package core

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func newTestAllocator(t *testing.T) *serviceAllocator {
	t.Helper()
	a, err := newServiceAllocator("10.0.0.0/24", "30000-30010")
	if err != nil {
		t.Fatal(err)
	}
	a.loaded = true // nothing stored
	return a
}

func svc(name string, typ corev1.ServiceType, ports ...corev1.ServicePort) *corev1.Service {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.ServiceSpec{Type: typ, Ports: ports, Selector: map[string]string{"app": name}}}
	defaultService(s)
	return s
}

func TestServiceDefaults(t *testing.T) {
	s := svc("web", "", corev1.ServicePort{Port: 80})
	if s.Spec.Type != corev1.ServiceTypeClusterIP || s.Spec.SessionAffinity != corev1.ServiceAffinityNone {
		t.Errorf("type %q affinity %q", s.Spec.Type, s.Spec.SessionAffinity)
	}
	if p := s.Spec.Ports[0]; p.Protocol != corev1.ProtocolTCP || p.TargetPort != intstr.FromInt32(80) {
		t.Errorf("port defaults: %+v", p)
	}
	if s.Spec.InternalTrafficPolicy == nil || *s.Spec.InternalTrafficPolicy != corev1.ServiceInternalTrafficPolicyCluster {
		t.Errorf("internalTrafficPolicy not defaulted")
	}
	lb := svc("lb", corev1.ServiceTypeLoadBalancer, corev1.ServicePort{Port: 80})
	if lb.Spec.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyCluster || lb.Spec.AllocateLoadBalancerNodePorts == nil || !*lb.Spec.AllocateLoadBalancerNodePorts {
		t.Errorf("load balancer defaults: %+v", lb.Spec)
	}
	aff := svc("aff", "", corev1.ServicePort{Port: 80})
	aff.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
	defaultService(aff)
	if c := aff.Spec.SessionAffinityConfig; c == nil || *c.ClientIP.TimeoutSeconds != 10800 {
		t.Errorf("client IP affinity timeout not defaulted: %+v", c)
	}
}

func TestServiceAllocation(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name  string
		first *corev1.Service
		then  *corev1.Service
		want  string // the 422 message of the second create; "" means it succeeds
	}{
		{"two services get different cluster IPs", svc("a", ""), svc("b", ""), ""},
		{"a requested cluster IP in use is refused",
			func() *corev1.Service { s := svc("a", ""); s.Spec.ClusterIP = "10.0.0.9"; defaultService(s); return s }(),
			func() *corev1.Service { s := svc("b", ""); s.Spec.ClusterIP = "10.0.0.9"; defaultService(s); return s }(),
			`spec.clusterIPs: Invalid value: ["10.0.0.9"]: failed to allocate IP 10.0.0.9: provided IP is already allocated`},
		{"a cluster IP outside the range is refused", svc("a", ""),
			func() *corev1.Service { s := svc("b", ""); s.Spec.ClusterIP = "10.96.0.1"; defaultService(s); return s }(),
			`failed to allocate IP 10.96.0.1: the provided network does not match the current range`},
		{"a requested node port in use is refused",
			svc("a", corev1.ServiceTypeNodePort, corev1.ServicePort{Port: 80, NodePort: 30005}),
			svc("b", corev1.ServiceTypeNodePort, corev1.ServicePort{Port: 80, NodePort: 30005}),
			`spec.ports[0].nodePort: Invalid value: 30005: provided port is already allocated`},
		{"a node port outside the range is refused", svc("a", ""),
			svc("b", corev1.ServiceTypeNodePort, corev1.ServicePort{Port: 80, NodePort: 80}),
			`spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-30010`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := newTestAllocator(t)
			if _, err := a.BeforeCreate(ctx, tc.first, false); err != nil {
				t.Fatalf("first create: %v", err)
			}
			_, err := a.BeforeCreate(ctx, tc.then, false)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("second create: %v", err)
				}
				if tc.first.Spec.ClusterIP == tc.then.Spec.ClusterIP || tc.then.Spec.ClusterIP == "10.0.0.1" {
					t.Errorf("cluster IPs %s and %s", tc.first.Spec.ClusterIP, tc.then.Spec.ClusterIP)
				}
				return
			}
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want 422 with %q", err, tc.want)
			}
		})
	}
}

func TestServiceAllocationFillsFamiliesAndNodePorts(t *testing.T) {
	a := newTestAllocator(t)
	np := svc("np", corev1.ServiceTypeNodePort, corev1.ServicePort{Name: "tcp", Port: 53}, corev1.ServicePort{Name: "udp", Port: 53, Protocol: corev1.ProtocolUDP})
	if _, err := a.BeforeCreate(context.Background(), np, false); err != nil {
		t.Fatal(err)
	}
	if len(np.Spec.ClusterIPs) != 1 || np.Spec.ClusterIPs[0] != np.Spec.ClusterIP {
		t.Errorf("clusterIPs %v clusterIP %s", np.Spec.ClusterIPs, np.Spec.ClusterIP)
	}
	if *np.Spec.IPFamilyPolicy != corev1.IPFamilyPolicySingleStack || len(np.Spec.IPFamilies) != 1 || np.Spec.IPFamilies[0] != corev1.IPv4Protocol {
		t.Errorf("families %v policy %v", np.Spec.IPFamilies, *np.Spec.IPFamilyPolicy)
	}
	if p := np.Spec.Ports; p[0].NodePort == 0 || p[0].NodePort != p[1].NodePort {
		t.Errorf("TCP and UDP on one port should share a node port: %d %d", p[0].NodePort, p[1].NodePort)
	}
	headless := svc("hl", "")
	headless.Spec.ClusterIP, headless.Spec.Selector = "None", nil
	defaultService(headless)
	if _, err := a.BeforeCreate(context.Background(), headless, false); err != nil {
		t.Fatal(err)
	}
	if *headless.Spec.IPFamilyPolicy != corev1.IPFamilyPolicyRequireDualStack || len(headless.Spec.IPFamilies) != 2 {
		t.Errorf("a selectorless headless service asks for both families: %v %v", headless.Spec.IPFamilies, *headless.Spec.IPFamilyPolicy)
	}
}

func TestServiceAllocationUndoAndRelease(t *testing.T) {
	ctx := context.Background()
	a := newTestAllocator(t)
	s := svc("a", corev1.ServiceTypeNodePort, corev1.ServicePort{Port: 80, NodePort: 30001})
	s.Spec.ClusterIP = "10.0.0.7"
	defaultService(s)
	undo, err := a.BeforeCreate(ctx, s, true)
	if err != nil {
		t.Fatal(err)
	}
	undo() // a dry run or failed write gives everything back
	again := s.DeepCopy()
	if _, err := a.BeforeCreate(ctx, again, false); err != nil {
		t.Fatalf("after undo: %v", err)
	}
	// Changing to ClusterIP releases the node port once the update is through.
	updated := again.DeepCopy()
	updated.Spec.Type = corev1.ServiceTypeClusterIP
	prepareServiceUpdate(updated, again)
	if updated.Spec.Ports[0].NodePort != 0 {
		t.Fatalf("the node port was not dropped with the type change")
	}
	if _, err := a.BeforeUpdate(ctx, updated, again, false); err != nil {
		t.Fatal(err)
	}
	if a.ports.Has(30001) {
		t.Errorf("node port still held after the type change")
	}
	a.AfterDelete(ctx, updated)
	if a.ips.Has(mustAddr("10.0.0.7")) {
		t.Errorf("cluster IP still held after delete")
	}
}

func TestServiceUpdateKeepsAllocatedValuesAndRefusesChanges(t *testing.T) {
	old := svc("a", corev1.ServiceTypeNodePort, corev1.ServicePort{Name: "http", Port: 80, NodePort: 30002})
	old.Spec.ClusterIP, old.Spec.ClusterIPs = "10.0.0.5", []string{"10.0.0.5"}
	// A client resubmitting its original manifest omits the allocated fields.
	resubmit := svc("a", corev1.ServiceTypeNodePort, corev1.ServicePort{Name: "http", Port: 80})
	prepareServiceUpdate(resubmit, old)
	if resubmit.Spec.ClusterIP != "10.0.0.5" || resubmit.Spec.Ports[0].NodePort != 30002 {
		t.Errorf("allocated values not kept: %s %d", resubmit.Spec.ClusterIP, resubmit.Spec.Ports[0].NodePort)
	}
	changed := old.DeepCopy()
	changed.Spec.ClusterIP, changed.Spec.ClusterIPs = "10.0.0.6", []string{"10.0.0.6"}
	errs := validateServiceUpdate(changed, old)
	if len(errs) == 0 || errs[0].Field != "spec.clusterIPs[0]" || errs[0].Detail != "may not change once set" {
		t.Errorf("changing the cluster IP: %v", errs)
	}
}

func TestValidateService(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*corev1.Service)
		want   string // first error as "field: detail"; "" means valid
	}{
		{"a plain service is valid", func(*corev1.Service) {}, ""},
		{"ports are required", func(s *corev1.Service) { s.Spec.Ports = nil }, "spec.ports: "},
		{"several ports need names", func(s *corev1.Service) {
			s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Port: 81, Protocol: "TCP", TargetPort: intstr.FromInt32(81)})
		},
			"spec.ports[0].name: "},
		{"an ExternalName service needs a name", func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeExternalName
			s.Spec.InternalTrafficPolicy = nil
		}, "spec.externalName: "},
		{"node ports need a NodePort type", func(s *corev1.Service) { s.Spec.Ports[0].NodePort = 30000 },
			"spec.ports[0].nodePort: may not be used when `type` is 'ClusterIP'"},
		{"external IPs must be IPs", func(s *corev1.Service) { s.Spec.ExternalIPs = []string{"nope"} },
			"spec.externalIPs[0]: must be a valid IP address"},
		{"NodePort services may not be headless", func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeNodePort
			s.Spec.ClusterIP, s.Spec.ClusterIPs = "None", []string{"None"}
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
		}, "spec.clusterIPs[0]: may not be set to 'None' for NodePort services"},
	}
	for _, tc := range cases {
		s := svc("web", "", corev1.ServicePort{Port: 80})
		tc.mutate(s)
		errs := validateService(s, nil)
		if tc.want == "" {
			if len(errs) > 0 {
				t.Errorf("%s: %v", tc.name, errs)
			}
			continue
		}
		if len(errs) == 0 || !strings.HasPrefix(errs[0].Field+": "+errs[0].Detail, tc.want) {
			t.Errorf("%s: got %v, want %q", tc.name, errs, tc.want)
		}
	}
}

func TestServiceTable(t *testing.T) {
	lb := svc("lb", corev1.ServiceTypeLoadBalancer, corev1.ServicePort{Port: 80, NodePort: 31000})
	lb.Spec.ClusterIPs = []string{"10.0.0.3"}
	ext := svc("ext", corev1.ServiceTypeExternalName)
	ext.Spec.ExternalName = "example.com"
	cases := []struct {
		svc  *corev1.Service
		want []interface{}
	}{
		{lb, []interface{}{"lb", "LoadBalancer", "10.0.0.3", "<pending>", "80:31000/TCP"}},
		{ext, []interface{}{"ext", "ExternalName", "<none>", "example.com", "<none>"}},
	}
	for _, tc := range cases {
		got := serviceTable.Cells(tc.svc)
		for i, w := range tc.want {
			if got[i] != w {
				t.Errorf("%s cell %d = %v, want %v", tc.svc.Name, i, got[i], w)
			}
		}
		if got[6] != "app="+tc.svc.Name {
			t.Errorf("%s selector cell = %v", tc.svc.Name, got[6])
		}
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestChangingAClusterIPIsAValidationErrorNotAnAllocationOne(t *testing.T) {
	a := newTestAllocator(t)
	old := svc("a", "")
	if _, err := a.BeforeCreate(context.Background(), old, false); err != nil {
		t.Fatal(err)
	}
	changed := old.DeepCopy()
	changed.Spec.ClusterIP, changed.Spec.ClusterIPs = "10.96.0.5", []string{"10.96.0.5"}
	if errs := a.precheck(changed, old); len(errs) > 0 {
		t.Errorf("precheck refused what validation should: %v", errs)
	}
}
