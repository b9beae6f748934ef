package servicepods

import (
	"fmt"
	"sort"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

func pod(mods ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", ResourceVersion: "1", Labels: map[string]string{"app": "a"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Ports: []corev1.ContainerPort{
			{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}, {Name: "dns", ContainerPort: 5353, Protocol: corev1.ProtocolUDP}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.1", PodIPs: []corev1.PodIP{{IP: "10.0.0.1"}},
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
	}
	for _, m := range mods {
		m(p)
	}
	return p
}

func TestIncluded(t *testing.T) {
	now := metav1.Now()
	cases := []struct {
		name                string
		pod                 *corev1.Pod
		terminating, wantIn bool
	}{
		{"a running pod with an IP counts", pod(), false, true},
		{"a pod without an IP does not", pod(func(p *corev1.Pod) { p.Status.PodIP, p.Status.PodIPs = "", nil }), true, false},
		{"a succeeded pod does not", pod(func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded }), true, false},
		{"a terminating pod counts only when terminating pods are wanted", pod(func(p *corev1.Pod) { p.DeletionTimestamp = &now }), false, false},
		{"a terminating pod counts for slices", pod(func(p *corev1.Pod) { p.DeletionTimestamp = &now }), true, true},
	}
	for _, c := range cases {
		if got := Included(c.pod, c.terminating); got != c.wantIn {
			t.Errorf("%s: got %v", c.name, got)
		}
	}
}

func TestFindPort(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	sidecar := pod(func(p *corev1.Pod) {
		p.Spec.InitContainers = []corev1.Container{{Name: "s", RestartPolicy: &always, Ports: []corev1.ContainerPort{{Name: "side", ContainerPort: 7000, Protocol: corev1.ProtocolTCP}}},
			{Name: "i", Ports: []corev1.ContainerPort{{Name: "init", ContainerPort: 7001, Protocol: corev1.ProtocolTCP}}}}
	})
	cases := []struct {
		name   string
		pod    *corev1.Pod
		target intstr.IntOrString
		proto  corev1.Protocol
		want   int32
		ok     bool
	}{
		{"a number is used as it is", pod(), intstr.FromInt32(9999), corev1.ProtocolTCP, 9999, true},
		{"a name is looked up among container ports", pod(), intstr.FromString("http"), corev1.ProtocolTCP, 8080, true},
		{"a name must match the protocol too", pod(), intstr.FromString("http"), corev1.ProtocolUDP, 0, false},
		{"an unknown name does not resolve", pod(), intstr.FromString("nope"), corev1.ProtocolTCP, 0, false},
		{"a sidecar's port resolves", sidecar, intstr.FromString("side"), corev1.ProtocolTCP, 7000, true},
		{"a plain init container's port does not", sidecar, intstr.FromString("init"), corev1.ProtocolTCP, 0, false},
	}
	for _, c := range cases {
		got, ok := FindPort(c.pod, &corev1.ServicePort{TargetPort: c.target, Protocol: c.proto})
		if got != c.want || ok != c.ok {
			t.Errorf("%s: got %d %v", c.name, got, ok)
		}
	}
}

func lister(svcs ...*corev1.Service) corelisters.ServiceLister {
	idx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	for _, s := range svcs {
		_ = idx.Add(s)
	}
	return corelisters.NewServiceLister(idx)
}

func svc(name string, selector map[string]string) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}, Spec: corev1.ServiceSpec{Selector: selector}}
}

func TestChangedServices(t *testing.T) {
	l := lister(svc("a", map[string]string{"app": "a"}), svc("b", map[string]string{"app": "b"}), svc("none", nil),
		svc("all", map[string]string{}))
	bump := func(p *corev1.Pod) { p.ResourceVersion = "2" }
	cases := []struct {
		name string
		cur  *corev1.Pod
		want string
	}{
		{"a resync concerns no service", pod(), "[]"},
		{"an unrelated change concerns no service", pod(bump, func(p *corev1.Pod) { p.Annotations = map[string]string{"x": "y"} }), "[]"},
		{"a readiness change concerns the pod's services", pod(bump, func(p *corev1.Pod) { p.Status.Conditions[0].Status = corev1.ConditionFalse }), "[ns/a ns/all]"},
		{"a new IP concerns the pod's services", pod(bump, func(p *corev1.Pod) { p.Status.PodIPs[0].IP = "10.0.0.2" }), "[ns/a ns/all]"},
		{"a label change alone concerns the services joined and left", pod(bump, func(p *corev1.Pod) { p.Labels["app"] = "b" }), "[ns/a ns/b]"},
		{"a label and readiness change concerns old and new services", pod(bump, func(p *corev1.Pod) {
			p.Labels["app"] = "b"
			p.Status.Conditions[0].Status = corev1.ConditionFalse
		}), "[ns/a ns/all ns/b]"},
		{"a hostname change is like a label change", pod(bump, func(p *corev1.Pod) { p.Spec.Hostname = "h" }), "[]"},
	}
	for _, c := range cases {
		got := ChangedServices(l, pod(), c.cur)
		sort.Strings(got)
		if s := fmt.Sprint(got); s != c.want {
			t.Errorf("%s: got %s, want %s", c.name, s, c.want)
		}
	}
}

func TestSetsHostname(t *testing.T) {
	s := svc("db", nil)
	if !SetsHostname(pod(func(p *corev1.Pod) { p.Spec.Hostname, p.Spec.Subdomain = "db-0", "db" }), s) {
		t.Error("matching subdomain")
	}
	if SetsHostname(pod(func(p *corev1.Pod) { p.Spec.Hostname, p.Spec.Subdomain = "db-0", "x" }), s) {
		t.Error("other subdomain")
	}
}

func TestTriggerTimes(t *testing.T) {
	tt := NewTriggerTimes()
	created := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s := svc("a", nil)
	s.CreationTimestamp = metav1.NewTime(created)
	readyAt := func(at time.Time) *corev1.Pod {
		return pod(func(p *corev1.Pod) { p.Status.Conditions[0].LastTransitionTime = metav1.NewTime(at) })
	}
	t1 := created.Add(time.Minute)
	if got := tt.Compute(s, []*corev1.Pod{readyAt(t1)}); !got.Equal(created) {
		t.Errorf("first sync: %v, want the service's creation", got)
	}
	if got := tt.Compute(s, []*corev1.Pod{readyAt(t1)}); !got.IsZero() {
		t.Errorf("nothing new: %v", got)
	}
	t2 := t1.Add(time.Minute)
	if got := tt.Compute(s, []*corev1.Pod{readyAt(t2)}); !got.Equal(t2) {
		t.Errorf("a readiness change: %v, want %v", got, t2)
	}
	tt.Forget("ns", "a")
	if got := tt.Compute(s, nil); !got.Equal(created) {
		t.Errorf("after forget: %v", got)
	}
}
