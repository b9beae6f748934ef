package endpointslice

import (
	"fmt"
	"sort"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func testService(mods ...func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "svc-uid", Labels: map[string]string{"app": "web"},
			CreationTimestamp: metav1.NewTime(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, ClusterIP: "10.96.0.20", ClusterIPs: []string{"10.96.0.20"},
			IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol},
			Ports:      []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(8080)}}},
	}
	for _, m := range mods {
		m(s)
	}
	return s
}

type podOpt func(*corev1.Pod)

func notReady(p *corev1.Pod) { p.Status.Conditions[0].Status = corev1.ConditionFalse }
func terminating(p *corev1.Pod) {
	now := metav1.Now()
	p.DeletionTimestamp = &now
}
func onNode(n string) podOpt { return func(p *corev1.Pod) { p.Spec.NodeName = n } }
func withIPs(ips ...string) podOpt {
	return func(p *corev1.Pod) {
		p.Status.PodIPs = nil
		p.Status.PodIP = ""
		for _, ip := range ips {
			p.Status.PodIPs = append(p.Status.PodIPs, corev1.PodIP{IP: ip})
		}
		if len(ips) > 0 {
			p.Status.PodIP = ips[0]
		}
	}
}
func withPort(name string, n int32) podOpt {
	return func(p *corev1.Pod) {
		p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports, corev1.ContainerPort{Name: name, ContainerPort: n, Protocol: corev1.ProtocolTCP})
	}
}

func testPod(i int, opts ...podOpt) *corev1.Pod {
	ip := fmt.Sprintf("10.244.%d.%d", i/250, i%250+1)
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("web-%d", i), Namespace: "ns", UID: types.UID(fmt.Sprintf("pod-%d", i)), Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{NodeName: "node-a", Containers: []corev1.Container{{Name: "c"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}},
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue,
				LastTransitionTime: metav1.NewTime(time.Date(2025, 1, 2, 0, 0, i%60, 0, time.UTC))}}},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func pods(n int, opts ...podOpt) []*corev1.Pod {
	var out []*corev1.Pod
	for i := 0; i < n; i++ {
		out = append(out, testPod(i, opts...))
	}
	return out
}

var zones = map[string]string{"node-a": "zone-a", "node-b": "zone-b", "node-nozone": ""}

func zoneOf(n string) (string, bool) {
	z, ok := zones[n]
	return z, ok
}

// materialize turns a plan's writes into the slices the API would hold, named
// web-1, web-2... in creation order, so a later reconciliation can start from them.
func materialize(existing []*discoveryv1.EndpointSlice, plan Plan) []*discoveryv1.EndpointSlice {
	byName := map[string]*discoveryv1.EndpointSlice{}
	for _, s := range existing {
		byName[s.Name] = s
	}
	for _, s := range plan.Delete {
		delete(byName, s.Name)
	}
	for _, s := range plan.Update {
		c := s.DeepCopy()
		c.Generation++
		byName[s.Name] = c
	}
	n := len(existing) + 100
	for _, s := range plan.Create {
		c := s.DeepCopy()
		n++
		c.Name = fmt.Sprintf("%s%d", c.GenerateName, n)
		c.UID = types.UID(c.Name)
		c.Generation = 1
		byName[c.Name] = c
	}
	var out []*discoveryv1.EndpointSlice
	for _, s := range byName {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func reconcileFrom(svc *corev1.Service, ps []*corev1.Pod, existing []*discoveryv1.EndpointSlice) Plan {
	return Reconcile(Input{Service: svc, Pods: ps, Zone: zoneOf, Existing: existing, MaxPerSlice: 100, Controller: ManagedBy})
}

func sizes(list []*discoveryv1.EndpointSlice) []int {
	var out []int
	for _, s := range list {
		out = append(out, len(s.Endpoints))
	}
	sort.Sort(sort.Reverse(sort.IntSlice(out)))
	return out
}

func endpointByPod(t *testing.T, list []*discoveryv1.EndpointSlice, pod string) (discoveryv1.Endpoint, *discoveryv1.EndpointSlice) {
	t.Helper()
	for _, s := range list {
		for _, ep := range s.Endpoints {
			if ep.TargetRef != nil && ep.TargetRef.Name == pod {
				return ep, s
			}
		}
	}
	t.Fatalf("no endpoint for pod %s", pod)
	return discoveryv1.Endpoint{}, nil
}

func TestReconcileEndpointsFromPods(t *testing.T) {
	cases := []struct {
		name  string
		svc   *corev1.Service
		pods  []*corev1.Pod
		check func(t *testing.T, p Plan)
	}{
		{
			name: "a service without pods gets one empty placeholder slice with the reserved labels and an owner reference",
			svc:  testService(),
			check: func(t *testing.T, p Plan) {
				if len(p.Create) != 1 || p.Changes() != 1 {
					t.Fatalf("plan %s", p.describe())
				}
				s := p.Create[0]
				if len(s.Endpoints) != 0 || len(s.Ports) != 0 || s.GenerateName != "web-" || s.AddressType != discoveryv1.AddressTypeIPv4 {
					t.Errorf("placeholder %+v", s)
				}
				if s.Labels[discoveryv1.LabelServiceName] != "web" || s.Labels[discoveryv1.LabelManagedBy] != ManagedBy || s.Labels["app"] != "web" {
					t.Errorf("labels %v", s.Labels)
				}
				if len(s.OwnerReferences) != 1 || s.OwnerReferences[0].UID != "svc-uid" || !*s.OwnerReferences[0].Controller {
					t.Errorf("owner %v", s.OwnerReferences)
				}
			},
		},
		{
			name: "a ready pod is a ready serving endpoint with its node, zone, target and resolved port",
			svc:  testService(),
			pods: []*corev1.Pod{testPod(0)},
			check: func(t *testing.T, p Plan) {
				s := p.Create[0]
				ep := s.Endpoints[0]
				if ep.Addresses[0] != "10.244.0.1" || !*ep.Conditions.Ready || !*ep.Conditions.Serving || *ep.Conditions.Terminating {
					t.Errorf("endpoint %+v", ep)
				}
				if *ep.NodeName != "node-a" || *ep.Zone != "zone-a" || ep.TargetRef.Kind != "Pod" || ep.TargetRef.UID != "pod-0" || ep.Hostname != nil {
					t.Errorf("endpoint %+v", ep)
				}
				if len(s.Ports) != 1 || *s.Ports[0].Name != "http" || *s.Ports[0].Port != 8080 || *s.Ports[0].Protocol != corev1.ProtocolTCP {
					t.Errorf("ports %+v", s.Ports)
				}
			},
		},
		{
			name: "a pod that is not ready is an endpoint neither ready nor serving",
			svc:  testService(),
			pods: []*corev1.Pod{testPod(0, notReady)},
			check: func(t *testing.T, p Plan) {
				c := p.Create[0].Endpoints[0].Conditions
				if *c.Ready || *c.Serving || *c.Terminating {
					t.Errorf("conditions %+v", c)
				}
			},
		},
		{
			name: "a terminating pod that still passes readiness is serving and terminating but not ready",
			svc:  testService(),
			pods: []*corev1.Pod{testPod(0, terminating)},
			check: func(t *testing.T, p Plan) {
				c := p.Create[0].Endpoints[0].Conditions
				if *c.Ready || !*c.Serving || !*c.Terminating {
					t.Errorf("conditions %+v", c)
				}
			},
		},
		{
			name: "publishNotReadyAddresses makes unready and terminating pods ready endpoints",
			svc:  testService(func(s *corev1.Service) { s.Spec.PublishNotReadyAddresses = true }),
			pods: []*corev1.Pod{testPod(0, notReady), testPod(1, terminating)},
			check: func(t *testing.T, p Plan) {
				for _, ep := range p.Create[0].Endpoints {
					if !*ep.Conditions.Ready {
						t.Errorf("%s not ready", ep.TargetRef.Name)
					}
				}
			},
		},
		{
			name: "pods without an IP and pods that finished are left out",
			svc:  testService(),
			pods: []*corev1.Pod{testPod(0, withIPs()), testPod(1, func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded }),
				testPod(2, func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed }), testPod(3)},
			check: func(t *testing.T, p Plan) {
				if len(p.Create) != 1 || len(p.Create[0].Endpoints) != 1 || p.Create[0].Endpoints[0].TargetRef.Name != "web-3" {
					t.Errorf("plan %+v", p.Create)
				}
			},
		},
		{
			name: "a named targetPort is resolved per pod, and a pod without that port name lands in a slice without the port",
			svc: testService(func(s *corev1.Service) {
				s.Spec.Ports = []corev1.ServicePort{
					{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString("web")},
					{Name: "metrics", Port: 9090, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(9090)}}
			}),
			pods: []*corev1.Pod{testPod(0, withPort("web", 8080)), testPod(1, withPort("web", 8081)), testPod(2)},
			check: func(t *testing.T, p Plan) {
				if len(p.Create) != 3 {
					t.Fatalf("want 3 slices (two port sets with http, one without), got %d", len(p.Create))
				}
				for pod, want := range map[string]string{"web-0": "http/TCP/8080/,metrics/TCP/9090/", "web-1": "http/TCP/8081/,metrics/TCP/9090/", "web-2": "metrics/TCP/9090/"} {
					_, s := endpointByPod(t, p.Create, pod)
					if got := PortsKey(s.Ports); got != want {
						t.Errorf("%s: ports %s, want %s", pod, got, want)
					}
				}
			},
		},
		{
			name: "a port name no container has with that protocol does not resolve",
			svc: testService(func(s *corev1.Service) {
				s.Spec.Ports = []corev1.ServicePort{{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromString("web")}}
			}),
			pods: []*corev1.Pod{testPod(0, withPort("web", 8080))},
			check: func(t *testing.T, p Plan) {
				if len(p.Create) != 1 || len(p.Create[0].Ports) != 0 || len(p.Create[0].Endpoints) != 1 {
					t.Errorf("slice %+v", p.Create[0])
				}
			},
		},
		{
			name: "250 pods are spread over slices of 100, 100 and 50",
			svc:  testService(),
			pods: pods(250),
			check: func(t *testing.T, p Plan) {
				if got := fmt.Sprint(sizes(p.Create)); got != "[100 100 50]" {
					t.Errorf("sizes %s", got)
				}
			},
		},
		{
			name: "a dual-stack service gets an IPv4 and an IPv6 slice with each pod's address of that family",
			svc: testService(func(s *corev1.Service) {
				s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
			}),
			pods: []*corev1.Pod{testPod(0, withIPs("10.244.0.9", "fd00::9"))},
			check: func(t *testing.T, p Plan) {
				got := map[discoveryv1.AddressType]string{}
				for _, s := range p.Create {
					got[s.AddressType] = s.Endpoints[0].Addresses[0]
				}
				if got[discoveryv1.AddressTypeIPv4] != "10.244.0.9" || got[discoveryv1.AddressTypeIPv6] != "fd00::9" {
					t.Errorf("addresses %v", got)
				}
			},
		},
		{
			name: "a pod whose hostname and subdomain name the service carries its hostname",
			svc: testService(func(s *corev1.Service) {
				s.Spec.ClusterIP, s.Spec.ClusterIPs = corev1.ClusterIPNone, []string{corev1.ClusterIPNone}
			}),
			pods: []*corev1.Pod{testPod(0, func(p *corev1.Pod) { p.Spec.Hostname, p.Spec.Subdomain = "db-0", "web" }),
				testPod(1, func(p *corev1.Pod) { p.Spec.Hostname, p.Spec.Subdomain = "db-1", "other" })},
			check: func(t *testing.T, p Plan) {
				s := p.Create[0]
				if _, ok := s.Labels[corev1.IsHeadlessService]; !ok {
					t.Errorf("headless label missing: %v", s.Labels)
				}
				e0, _ := endpointByPod(t, p.Create, "web-0")
				e1, _ := endpointByPod(t, p.Create, "web-1")
				if ptr.Deref(e0.Hostname, "") != "db-0" || e1.Hostname != nil {
					t.Errorf("hostnames %v %v", e0.Hostname, e1.Hostname)
				}
			},
		},
		{
			name: "a headless service without ports still lists its pods",
			svc: testService(func(s *corev1.Service) {
				s.Spec.ClusterIP, s.Spec.ClusterIPs, s.Spec.Ports = corev1.ClusterIPNone, []string{corev1.ClusterIPNone}, nil
			}),
			pods: pods(2),
			check: func(t *testing.T, p Plan) {
				if len(p.Create) != 1 || len(p.Create[0].Endpoints) != 2 || len(p.Create[0].Ports) != 0 {
					t.Errorf("slices %+v", p.Create)
				}
			},
		},
		{
			name: "a pod on a node that does not exist is skipped and reported",
			svc:  testService(),
			pods: []*corev1.Pod{testPod(0, onNode("gone")), testPod(1)},
			check: func(t *testing.T, p Plan) {
				if len(p.Create[0].Endpoints) != 1 || fmt.Sprint(p.SkippedPods) != "[web-0]" {
					t.Errorf("endpoints %d skipped %v", len(p.Create[0].Endpoints), p.SkippedPods)
				}
			},
		},
		{
			name: "with publishNotReadyAddresses a pod on an unknown node is kept, without a zone",
			svc:  testService(func(s *corev1.Service) { s.Spec.PublishNotReadyAddresses = true }),
			pods: []*corev1.Pod{testPod(0, onNode("gone"))},
			check: func(t *testing.T, p Plan) {
				if len(p.Create[0].Endpoints) != 1 || len(p.SkippedPods) != 0 || p.Create[0].Endpoints[0].Zone != nil {
					t.Errorf("plan %+v", p)
				}
			},
		},
		{
			name: "trafficDistribution PreferClose gives ready endpoints a hint for their zone",
			svc: testService(func(s *corev1.Service) {
				s.Spec.TrafficDistribution = ptr.To(corev1.ServiceTrafficDistributionPreferClose)
			}),
			pods: []*corev1.Pod{testPod(0), testPod(1, onNode("node-b")), testPod(2, notReady), testPod(3, onNode("node-nozone"))},
			check: func(t *testing.T, p Plan) {
				want := map[string]string{"web-0": "zone-a", "web-1": "zone-b", "web-2": "", "web-3": ""}
				for pod, zone := range want {
					ep, _ := endpointByPod(t, p.Create, pod)
					got := ""
					if ep.Hints != nil {
						got = ep.Hints.ForZones[0].Name
					}
					if got != zone {
						t.Errorf("%s hint %q, want %q", pod, got, zone)
					}
				}
			},
		},
		{
			name: "trafficDistribution PreferSameNode adds node hints",
			svc: testService(func(s *corev1.Service) {
				s.Spec.TrafficDistribution = ptr.To(corev1.ServiceTrafficDistributionPreferSameNode)
			}),
			pods: []*corev1.Pod{testPod(0)},
			check: func(t *testing.T, p Plan) {
				h := p.Create[0].Endpoints[0].Hints
				if h == nil || h.ForZones[0].Name != "zone-a" || h.ForNodes[0].Name != "node-a" {
					t.Errorf("hints %+v", h)
				}
			},
		},
		{
			name: "a service being deleted gets no new slices",
			svc:  testService(func(s *corev1.Service) { now := metav1.Now(); s.DeletionTimestamp = &now }),
			pods: pods(3),
			check: func(t *testing.T, p Plan) {
				if len(p.Create) != 0 {
					t.Errorf("created %d", len(p.Create))
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.check(t, reconcileFrom(c.svc, c.pods, nil))
		})
	}
}

func TestReconcileKeepsChurnLow(t *testing.T) {
	svc := testService()
	cases := []struct {
		name string
		// start are the pods the slices were built from, then pods are the pods now.
		start, now []*corev1.Pod
		check      func(t *testing.T, before []*discoveryv1.EndpointSlice, p Plan)
	}{
		{
			name:  "nothing changed: nothing is written",
			start: pods(150), now: pods(150),
			check: func(t *testing.T, _ []*discoveryv1.EndpointSlice, p Plan) {
				if p.Changes() != 0 {
					t.Errorf("plan %s", p.describe())
				}
			},
		},
		{
			name:  "a pod turning unready updates only its own slice, in place",
			start: pods(150),
			now: func() []*corev1.Pod {
				ps := pods(150)
				notReady(ps[120])
				return ps
			}(),
			check: func(t *testing.T, before []*discoveryv1.EndpointSlice, p Plan) {
				if len(p.Update) != 1 || len(p.Create)+len(p.Delete) != 0 {
					t.Fatalf("plan %s", p.describe())
				}
				ep, _ := endpointByPod(t, p.Update, "web-120")
				if *ep.Conditions.Ready {
					t.Error("still ready")
				}
			},
		},
		{
			name:  "a new pod goes into the unchanged slice closest to full that can take it",
			start: pods(150), now: pods(151),
			check: func(t *testing.T, before []*discoveryv1.EndpointSlice, p Plan) {
				if len(p.Update) != 1 || len(p.Create)+len(p.Delete) != 0 || len(p.Update[0].Endpoints) != 51 {
					t.Errorf("plan %s, sizes %v", p.describe(), sizes(p.Update))
				}
			},
		},
		{
			name:  "a replaced pod takes the place of the removed one in the slice being updated anyway",
			start: pods(150),
			now: func() []*corev1.Pod {
				ps := pods(151)
				return append(ps[:10], ps[11:]...) // web-10 (in a full slice) gone, web-150 new
			}(),
			check: func(t *testing.T, before []*discoveryv1.EndpointSlice, p Plan) {
				if len(p.Update) != 1 || len(p.Create)+len(p.Delete) != 0 {
					t.Fatalf("plan %s", p.describe())
				}
				if got := sizes(p.Update); fmt.Sprint(got) != "[100]" {
					t.Errorf("the updated slice has %v endpoints, want the full slice refilled", got)
				}
			},
		},
		{
			name:  "more new pods than fit in an existing slice go into new slices",
			start: pods(150), now: pods(400),
			check: func(t *testing.T, before []*discoveryv1.EndpointSlice, p Plan) {
				// 250 new: two new full slices, the last 50 fill the half-full one.
				if len(p.Delete) != 0 || fmt.Sprint(sizes(p.Create)) != "[100 100]" || fmt.Sprint(sizes(p.Update)) != "[100]" {
					t.Errorf("plan %s creates %v updates %v", p.describe(), sizes(p.Create), sizes(p.Update))
				}
			},
		},
		{
			name:  "a slice left empty is deleted",
			start: pods(150), now: pods(100),
			check: func(t *testing.T, before []*discoveryv1.EndpointSlice, p Plan) {
				if len(p.Delete) != 1 || len(p.Create)+len(p.Update) != 0 {
					t.Errorf("plan %s", p.describe())
				}
			},
		},
		{
			name:  "all pods gone: the last slice is rewritten as the placeholder rather than deleted and created",
			start: pods(50), now: nil,
			check: func(t *testing.T, before []*discoveryv1.EndpointSlice, p Plan) {
				if len(p.Update) != 1 || len(p.Create)+len(p.Delete) != 0 || len(p.Update[0].Endpoints) != 0 || p.Update[0].Name != before[0].Name {
					t.Errorf("plan %s", p.describe())
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := materialize(nil, reconcileFrom(svc, c.start, nil))
			c.check(t, before, reconcileFrom(svc, c.now, before))
		})
	}
	t.Run("pods moving to another port number rewrite the old slice instead of deleting it and creating one", func(t *testing.T) {
		named := testService(func(s *corev1.Service) { s.Spec.Ports[0].TargetPort = intstr.FromString("web") })
		before := materialize(nil, reconcileFrom(named, pods(10, withPort("web", 8080)), nil))
		p := reconcileFrom(named, pods(10, withPort("web", 9090)), before)
		if len(p.Update) != 1 || len(p.Create)+len(p.Delete) != 0 || len(p.Update[0].Endpoints) != 10 || p.Update[0].Name != before[0].Name ||
			*p.Update[0].Ports[0].Port != 9090 {
			t.Errorf("plan %s", p.describe())
		}
	})
}

func TestReconcileSliceHousekeeping(t *testing.T) {
	svc := testService()
	start := materialize(nil, reconcileFrom(svc, pods(3), nil))

	t.Run("a changed service label is copied to its slices", func(t *testing.T) {
		s2 := testService(func(s *corev1.Service) { s.Labels["tier"] = "front" })
		p := reconcileFrom(s2, pods(3), start)
		if len(p.Update) != 1 || p.Update[0].Labels["tier"] != "front" || p.Update[0].Labels[discoveryv1.LabelManagedBy] != ManagedBy {
			t.Errorf("plan %s %v", p.describe(), p.Update)
		}
	})
	t.Run("a slice owned by an earlier service of the same name is replaced", func(t *testing.T) {
		s2 := testService(func(s *corev1.Service) { s.UID = "new-uid" })
		p := reconcileFrom(s2, pods(3), start)
		if len(p.Create) != 1 || len(p.Delete) != 1 || p.Create[0].OwnerReferences[0].UID != "new-uid" {
			t.Errorf("plan %s", p.describe())
		}
	})
	t.Run("a slice of an address type the service no longer has is recycled", func(t *testing.T) {
		s2 := testService(func(s *corev1.Service) { s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv6Protocol} })
		p := reconcileFrom(s2, pods(3, withIPs("fd00::1")), start)
		if len(p.Delete) != 1 || len(p.Create) != 1 || p.Create[0].AddressType != discoveryv1.AddressTypeIPv6 {
			t.Errorf("plan %s", p.describe())
		}
	})
	t.Run("hints are removed from unchanged slices once trafficDistribution is unset", func(t *testing.T) {
		close := testService(func(s *corev1.Service) {
			s.Spec.TrafficDistribution = ptr.To(corev1.ServiceTrafficDistributionPreferClose)
		})
		hinted := materialize(nil, reconcileFrom(close, pods(3), nil))
		if hinted[0].Endpoints[0].Hints == nil {
			t.Fatal("no hints to begin with")
		}
		p := reconcileFrom(svc, pods(3), hinted)
		if len(p.Update) != 1 || p.Update[0].Endpoints[0].Hints != nil {
			t.Errorf("plan %s", p.describe())
		}
		if again := reconcileFrom(close, pods(3), hinted); again.Changes() != 0 {
			t.Errorf("hinted slices rewritten: %s", again.describe())
		}
	})
	t.Run("written slices carry the trigger time, and lose it when there is none", func(t *testing.T) {
		at := time.Date(2025, 3, 4, 5, 6, 7, 8, time.UTC)
		p := Reconcile(Input{Service: svc, Pods: pods(4), Zone: zoneOf, Existing: start, MaxPerSlice: 100, Controller: ManagedBy, TriggerTime: at})
		if got := p.Update[0].Annotations[corev1.EndpointsLastChangeTriggerTime]; got != "2025-03-04T05:06:07.000000008Z" {
			t.Errorf("annotation %q", got)
		}
		p = reconcileFrom(svc, pods(5), materialize(start, p))
		if _, ok := p.Update[0].Annotations[corev1.EndpointsLastChangeTriggerTime]; ok {
			t.Error("annotation kept")
		}
	})
	t.Run("slices are named after their service", func(t *testing.T) {
		if NamePrefix("web") != "web-" {
			t.Error(NamePrefix("web"))
		}
	})
}
