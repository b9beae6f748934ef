package podautoscaler

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var t0 = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

// A pod started long ago, Ready since long ago, requesting 1 CPU.
func runningPod(name string) *corev1.Pod {
	start := metav1.NewTime(t0.Add(-time.Hour))
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("100Mi")}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, StartTime: &start,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: start}}}}
}

func withPhase(p *corev1.Pod, phase corev1.PodPhase) *corev1.Pod { p.Status.Phase = phase; return p }

func notReady(p *corev1.Pod, since time.Time) *corev1.Pod {
	p.Status.Conditions[0].Status = corev1.ConditionFalse
	p.Status.Conditions[0].LastTransitionTime = metav1.NewTime(since)
	return p
}

func deleting(p *corev1.Pod) *corev1.Pod { p.DeletionTimestamp = &metav1.Time{Time: t0}; return p }

func usage(milli ...int64) podMetrics {
	out := podMetrics{}
	for i, m := range milli {
		out[string(rune('a'+i))] = podMetric{value: m, timestamp: t0, window: 30 * time.Second}
	}
	return out
}

func pods(ps ...*corev1.Pod) []*corev1.Pod { return ps }

func named(names string) []*corev1.Pod {
	var out []*corev1.Pod
	for _, n := range strings.Split(names, ",") {
		out = append(out, runningPod(n))
	}
	return out
}

var tm = timing{cpuInitialization: 5 * time.Minute, readinessDelay: 30 * time.Second, now: t0}

func TestUtilizationReplicas(t *testing.T) {
	cases := []struct {
		name            string
		current, target int32
		pods            []*corev1.Pod
		metrics         podMetrics
		want            int32
		wantUtilization int32
		wantErr         string
	}{
		{name: "usage far above the target scales up in proportion", current: 3, target: 50, pods: named("a,b,c"), metrics: usage(900, 900, 900),
			want: 6, wantUtilization: 90},
		{name: "usage within 10% of the target changes nothing", current: 3, target: 50, pods: named("a,b,c"), metrics: usage(540, 540, 540),
			want: 3, wantUtilization: 54},
		{name: "usage just beyond the tolerance scales", current: 10, target: 50, pods: named("a,b,c,d,e,f,g,h,i,j"),
			metrics: usage(560, 560, 560, 560, 560, 560, 560, 560, 560, 560), want: 12, wantUtilization: 56},
		{name: "low usage scales down", current: 3, target: 50, pods: named("a,b,c"), metrics: usage(100, 100, 100),
			want: 1, wantUtilization: 10},
		{name: "on a scale-up, pods without metrics count as idle", current: 3, target: 50, pods: named("a,b,c"), metrics: usage(900, 900),
			want: 4, wantUtilization: 90},
		{name: "on a scale-down, pods without metrics count as using their whole request", current: 3, target: 50, pods: named("a,b,c"),
			metrics: usage(100, 100), want: 3, wantUtilization: 10},
		{name: "on a scale-up, unready pods count as idle", current: 3, target: 50,
			pods: pods(runningPod("a"), runningPod("b"), notReady(runningPod("c"), t0.Add(-time.Hour))), metrics: usage(900, 900, 900),
			want: 4, wantUtilization: 90},
		{name: "pending pods count as unready", current: 2, target: 50, pods: pods(runningPod("a"), withPhase(runningPod("b"), corev1.PodPending)),
			metrics: usage(900), want: 2, wantUtilization: 90},
		{name: "pods being deleted or failed are ignored", current: 3, target: 50,
			pods: pods(runningPod("a"), deleting(runningPod("b")), withPhase(runningPod("c"), corev1.PodFailed)), metrics: usage(900, 10, 10),
			want: 2, wantUtilization: 90},
		{name: "a starting pod's sample taken before a full window of readiness is left out", current: 2, target: 50,
			pods: func() []*corev1.Pod {
				b := runningPod("b")
				b.Status.StartTime = &metav1.Time{Time: t0.Add(-time.Minute)}
				b.Status.Conditions[0].LastTransitionTime = metav1.NewTime(t0.Add(-10 * time.Second))
				return pods(runningPod("a"), b)
			}(), metrics: usage(1500, 2000), want: 3, wantUtilization: 150},
		{name: "no usable sample at all is an error", current: 1, target: 50, pods: pods(withPhase(runningPod("a"), corev1.PodPending)), metrics: usage(500),
			wantErr: "did not receive metrics for targeted pods (pods might be unready)"},
		{name: "no pods is an error", current: 1, target: 50, metrics: usage(500),
			wantErr: "no pods returned by selector while calculating replica count"},
		{name: "a container without a request is an error", current: 1, target: 50,
			pods: func() []*corev1.Pod {
				p := runningPod("a")
				p.Spec.Containers[0].Resources.Requests = nil
				return pods(p)
			}(), metrics: usage(500), wantErr: "missing request for cpu in container c of Pod a"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := utilizationReplicas(c.current, c.target, corev1.ResourceCPU, "", DefaultTolerance, c.pods, c.metrics, tm)
			if c.wantErr != "" {
				if err == nil || err.Error() != c.wantErr {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.replicas != c.want || p.utilization != c.wantUtilization {
				t.Errorf("got %d replicas at %d%%, want %d at %d%%", p.replicas, p.utilization, c.want, c.wantUtilization)
			}
		})
	}
}

func TestValueReplicas(t *testing.T) {
	cases := []struct {
		name    string
		current int32
		target  int64
		pods    []*corev1.Pod
		metrics podMetrics
		want    int32
		wantRaw int64
	}{
		{"an average above the target value scales up", 2, 100_000, named("a,b"), usage(200_000, 200_000), 4, 200_000},
		{"an average within tolerance changes nothing", 2, 100_000, named("a,b"), usage(105_000, 105_000), 2, 105_000},
		{"on a scale-down, pods without metrics count as using the target", 4, 100_000, named("a,b,c,d"), usage(10_000, 10_000), 3, 10_000},
		{"memory is judged without regard to readiness", 2, 100_000,
			pods(runningPod("a"), notReady(runningPod("b"), t0)), usage(300_000, 300_000), 6, 300_000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := valueReplicas(c.current, c.target, corev1.ResourceMemory, DefaultTolerance, c.pods, c.metrics, tm)
			if err != nil {
				t.Fatal(err)
			}
			if p.replicas != c.want || p.raw != c.wantRaw {
				t.Errorf("got %d replicas at %d, want %d at %d", p.replicas, p.raw, c.want, c.wantRaw)
			}
		})
	}
}

func TestPodRequestsPreferPodLevelRequestsUnlessAContainerIsNamed(t *testing.T) {
	p := runningPod("a")
	p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "side", Resources: corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")}}})
	got, err := podRequests(pods(p), "", corev1.ResourceCPU)
	if err != nil || got["a"] != 1500 {
		t.Errorf("containers' sum = %v, %v", got, err)
	}
	got, _ = podRequests(pods(p), "side", corev1.ResourceCPU)
	if got["a"] != 500 {
		t.Errorf("named container = %v", got)
	}
	p.Spec.Resources = &corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")}}
	got, _ = podRequests(pods(p), "", corev1.ResourceCPU)
	if got["a"] != 2000 {
		t.Errorf("pod-level = %v", got)
	}
}
