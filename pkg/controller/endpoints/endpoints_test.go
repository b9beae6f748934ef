package endpoints

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/events"
)

func service(mods ...func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", Labels: map[string]string{"app": "web"},
		CreationTimestamp: metav1.NewTime(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, ClusterIP: "10.96.0.5", IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString("http")}}}}
	for _, m := range mods {
		m(s)
	}
	return s
}

func pod(i int, ready bool, mods ...func(*corev1.Pod)) *corev1.Pod {
	status := corev1.ConditionTrue
	if !ready {
		status = corev1.ConditionFalse
	}
	ip := fmt.Sprintf("10.244.%d.%d", i/200, i%200+1)
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("web-%d", i), Namespace: "ns", UID: types.UID(fmt.Sprintf("u%d", i)), Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c", Ports: []corev1.ContainerPort{
			{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}, {Name: "admin", ContainerPort: 9000, Protocol: corev1.ProtocolTCP}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}},
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: status}}}}
	for _, m := range mods {
		m(p)
	}
	return p
}

func describe(subsets []corev1.EndpointSubset) string {
	s := ""
	for _, ss := range subsets {
		s += "{"
		for _, a := range ss.Addresses {
			s += a.IP + " "
		}
		for _, a := range ss.NotReadyAddresses {
			s += "!" + a.IP + " "
		}
		for _, p := range ss.Ports {
			s += fmt.Sprintf(":%d", p.Port)
		}
		s += "}"
	}
	return s
}

func TestDesiredSubsets(t *testing.T) {
	now := metav1.Now()
	cases := []struct {
		name string
		svc  *corev1.Service
		pods []*corev1.Pod
		want string
	}{
		{"ready and unready pods share one subset as addresses and not-ready addresses",
			service(), []*corev1.Pod{pod(0, true), pod(1, false)}, "{10.244.0.1 !10.244.0.2 :8080}"},
		{"a pod whose named port does not resolve is left out of that port",
			service(), []*corev1.Pod{pod(0, true), pod(1, true, func(p *corev1.Pod) { p.Spec.Containers[0].Ports = nil })}, "{10.244.0.1 :8080}"},
		{"pods serving different port numbers get separate subsets",
			service(), []*corev1.Pod{pod(0, true), pod(1, true, func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = 8081 })},
			"{10.244.0.1 :8080}{10.244.0.2 :8081}"},
		{"two ports served by the same pods share a subset",
			service(func(s *corev1.Service) {
				s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: "admin", Port: 9000, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString("admin")})
			}), []*corev1.Pod{pod(0, true), pod(1, true)}, "{10.244.0.1 10.244.0.2 :9000:8080}"},
		{"terminating pods are dropped", service(), []*corev1.Pod{pod(0, true, func(p *corev1.Pod) { p.DeletionTimestamp = &now })}, ""},
		{"publishNotReadyAddresses lists unready and terminating pods as ready",
			service(func(s *corev1.Service) { s.Spec.PublishNotReadyAddresses = true }),
			[]*corev1.Pod{pod(0, false), pod(1, true, func(p *corev1.Pod) { p.DeletionTimestamp = &now })}, "{10.244.0.1 10.244.0.2 :8080}"},
		{"a headless service without ports lists its pods without ports",
			service(func(s *corev1.Service) { s.Spec.ClusterIP, s.Spec.Ports = corev1.ClusterIPNone, nil }), []*corev1.Pod{pod(0, true)}, "{10.244.0.1 }"},
		{"a service of the other family gets no addresses from single-stack pods",
			service(func(s *corev1.Service) { s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv6Protocol} }), []*corev1.Pod{pod(0, true)}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := describe(desiredSubsets(c.svc, c.pods)); got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	many := func(ready, notReady int) []*corev1.Pod {
		var ps []*corev1.Pod
		for i := 0; i < ready+notReady; i++ {
			ps = append(ps, pod(i, i < ready))
		}
		return ps
	}
	count := func(subsets []corev1.EndpointSubset) (r, n int) {
		for _, s := range subsets {
			r += len(s.Addresses)
			n += len(s.NotReadyAddresses)
		}
		return
	}
	cases := []struct {
		name             string
		ready, notReady  int
		wantR, wantN     int
		wantAnnotateTrim bool
	}{
		{"1000 addresses fit", 600, 400, 600, 400, false},
		{"not-ready addresses are cut first", 900, 300, 900, 100, true},
		{"ready addresses alone over the limit are cut and not-ready ones dropped", 1100, 50, 1000, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			subsets := desiredSubsets(service(), many(c.ready, c.notReady))
			cur := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"}}
			want, _ := desiredEndpoints(cur, service(), subsets, time.Time{})
			r, n := count(want.Subsets)
			if r != c.wantR || n != c.wantN {
				t.Errorf("ready %d not ready %d, want %d %d", r, n, c.wantR, c.wantN)
			}
			if got := want.Annotations[corev1.EndpointsOverCapacity]; (got == "truncated") != c.wantAnnotateTrim {
				t.Errorf("annotation %q", got)
			}
			// A truncated object that is already right is not rewritten.
			want.ResourceVersion = "5"
			if _, change := desiredEndpoints(want, service(), desiredSubsets(service(), many(c.ready, c.notReady)), time.Time{}); change {
				t.Error("rewritten although unchanged")
			}
		})
	}
}

func TestDesiredEndpointsLabels(t *testing.T) {
	cur := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"}}
	headless := service(func(s *corev1.Service) { s.Spec.ClusterIP = corev1.ClusterIPNone })
	want, _ := desiredEndpoints(cur, headless, nil, time.Time{})
	if want.Labels["app"] != "web" || want.Labels[LabelManagedBy] != ManagedBy {
		t.Errorf("labels %v", want.Labels)
	}
	if _, ok := want.Labels[corev1.IsHeadlessService]; !ok {
		t.Errorf("headless label missing: %v", want.Labels)
	}
	want.ResourceVersion = "1"
	if _, change := desiredEndpoints(want, headless, nil, time.Time{}); change {
		t.Error("correct labels rewritten")
	}
	relabelled := service(func(s *corev1.Service) {
		s.Spec.ClusterIP, s.Labels = corev1.ClusterIPNone, map[string]string{"app": "api"}
	})
	if got, change := desiredEndpoints(want, relabelled, nil, time.Time{}); !change || got.Labels["app"] != "api" {
		t.Error("a changed service label was not copied")
	}
}

func newController(t *testing.T, objs ...runtime.Object) (*Controller, *fake.Clientset) {
	t.Helper()
	client := fake.NewSimpleClientset(objs...)
	f := informers.NewSharedInformerFactory(client, 0)
	c, err := New(Config{Client: client, Services: f.Core().V1().Services(), Pods: f.Core().V1().Pods(), Endpoints: f.Core().V1().Endpoints(),
		Recorder: events.NewFakeRecorder(10), Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		switch o := o.(type) {
		case *corev1.Service:
			_ = f.Core().V1().Services().Informer().GetIndexer().Add(o)
		case *corev1.Pod:
			_ = f.Core().V1().Pods().Informer().GetIndexer().Add(o)
		case *corev1.Endpoints:
			_ = f.Core().V1().Endpoints().Informer().GetIndexer().Add(o)
		}
	}
	client.ClearActions()
	return c, client
}

func TestSyncWritesEndpointsForSelectorServicesOnly(t *testing.T) {
	manual := service(func(s *corev1.Service) { s.Name, s.Spec.Selector = "db", nil })
	handWritten := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "ns", ResourceVersion: "3"},
		Subsets: []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{{IP: "192.0.2.10"}}}}}
	orphan := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "gone", Namespace: "ns", ResourceVersion: "4"}}
	c, client := newController(t, service(), pod(0, true), manual, handWritten, orphan)
	for _, key := range []string{"ns/web", "ns/db", "ns/gone"} {
		if err := c.Sync(context.Background(), key); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
	}
	a := client.Actions()
	if len(a) != 2 || !a[0].Matches("create", "endpoints") || !a[1].Matches("delete", "endpoints") {
		t.Fatalf("actions %v", a)
	}
	created := a[0].(clienttesting.CreateAction).GetObject().(*corev1.Endpoints)
	if describe(created.Subsets) != "{10.244.0.1 :8080}" || created.Annotations[corev1.EndpointsLastChangeTriggerTime] == "" {
		t.Errorf("created %+v", created)
	}
	if a[1].(clienttesting.DeleteAction).GetName() != "gone" {
		t.Errorf("deleted %v", a[1])
	}
}
