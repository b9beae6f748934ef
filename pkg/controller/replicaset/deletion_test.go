package replicaset

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// p builds a pod from a few words: node, phase, readiness since, created ago.
type podSpec struct {
	name       string
	node       string
	phase      corev1.PodPhase
	readyAgo   time.Duration // 0: not ready
	createdAgo time.Duration
	restarts   int32
	cost       string
}

func (s podSpec) pod() *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: s.name, Namespace: "ns", UID: types.UID(s.name),
		CreationTimestamp: metav1.NewTime(now.Add(-s.createdAgo))},
		Spec: corev1.PodSpec{NodeName: s.node}, Status: corev1.PodStatus{Phase: s.phase}}
	if s.readyAgo > 0 {
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(now.Add(-s.readyAgo))}}
	}
	if s.restarts > 0 {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{RestartCount: s.restarts}}
	}
	if s.cost != "" {
		p.Annotations = map[string]string{deletionCostAnnotation: s.cost}
	}
	return p
}

func TestPodsToDeleteRanksAsUpstream(t *testing.T) {
	h := time.Hour
	cases := []struct {
		name  string
		pods  []podSpec
		extra []podSpec // related pods of sibling sets
		want  string    // the first pod chosen
	}{
		{"a pod on no node goes before one on a node",
			[]podSpec{{name: "placed", node: "n1", phase: corev1.PodPending}, {name: "unplaced", phase: corev1.PodPending}}, nil, "unplaced"},
		{"a pending pod goes before an unknown one, and that before a running one",
			[]podSpec{{name: "running", node: "n", phase: corev1.PodRunning}, {name: "unknown", node: "n", phase: corev1.PodUnknown}, {name: "pending", node: "n", phase: corev1.PodPending}}, nil, "pending"},
		{"an unknown pod goes before a running one",
			[]podSpec{{name: "running", node: "n", phase: corev1.PodRunning}, {name: "unknown", node: "n", phase: corev1.PodUnknown}}, nil, "unknown"},
		{"a pod not ready goes before a ready one",
			[]podSpec{{name: "ready", node: "n", phase: corev1.PodRunning, readyAgo: h}, {name: "notready", node: "n", phase: corev1.PodRunning}}, nil, "notready"},
		{"a lower deletion cost goes first",
			[]podSpec{{name: "dear", node: "n", phase: corev1.PodRunning, readyAgo: h, cost: "100"}, {name: "cheap", node: "n", phase: corev1.PodRunning, readyAgo: h, cost: "-5"}}, nil, "cheap"},
		{"a malformed deletion cost counts as zero",
			[]podSpec{{name: "bad", node: "n", phase: corev1.PodRunning, readyAgo: h, cost: "lots"}, {name: "neg", node: "n", phase: corev1.PodRunning, readyAgo: h, cost: "-1"}}, nil, "neg"},
		{"a pod doubled up on its node goes before a lone one",
			[]podSpec{{name: "alone", node: "a", phase: corev1.PodRunning, readyAgo: h}, {name: "crowded", node: "b", phase: corev1.PodRunning, readyAgo: h}},
			[]podSpec{{name: "sibling", node: "b", phase: corev1.PodRunning}}, "crowded"},
		{"a pod ready for less time goes first",
			[]podSpec{{name: "old", node: "n", phase: corev1.PodRunning, readyAgo: 8 * h}, {name: "young", node: "n", phase: corev1.PodRunning, readyAgo: time.Minute}}, nil, "young"},
		{"a pod with more restarts goes first",
			[]podSpec{{name: "steady", node: "n", phase: corev1.PodRunning, readyAgo: h}, {name: "flaky", node: "n", phase: corev1.PodRunning, readyAgo: h, restarts: 5}}, nil, "flaky"},
		{"a newer pod goes first",
			[]podSpec{{name: "elder", node: "n", phase: corev1.PodRunning, createdAgo: 10 * h}, {name: "newer", node: "n", phase: corev1.PodRunning, createdAgo: time.Minute}}, nil, "newer"},
		{"pods of a similar age tie and go by UID",
			[]podSpec{{name: "b", node: "n", phase: corev1.PodRunning, createdAgo: 65 * time.Minute}, {name: "a", node: "n", phase: corev1.PodRunning, createdAgo: 70 * time.Minute}}, nil, "a"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var pods, related []*corev1.Pod
			for _, s := range c.pods {
				pods = append(pods, s.pod())
			}
			related = append(related, pods...)
			for _, s := range c.extra {
				related = append(related, s.pod())
			}
			got := podsToDelete(pods, related, 1, now)
			if len(got) != 1 || got[0].Name != c.want {
				t.Errorf("chose %s, want %s", got[0].Name, c.want)
			}
		})
	}
}

func TestPodsToDeleteReturnsAllWhenAllMustGo(t *testing.T) {
	pods := []*corev1.Pod{podSpec{name: "a"}.pod(), podSpec{name: "b"}.pod()}
	if got := podsToDelete(pods, nil, 5, now); len(got) != 2 {
		t.Errorf("got %d", len(got))
	}
}

func TestNextAvailabilityCheck(t *testing.T) {
	pods := []*corev1.Pod{
		podSpec{name: "long", readyAgo: time.Hour}.pod(),
		podSpec{name: "recent", readyAgo: 3 * time.Second}.pod(),
		podSpec{name: "later", readyAgo: time.Second}.pod(),
		podSpec{name: "notready"}.pod(),
	}
	if d, ok := nextAvailabilityCheck(pods, 10, now); !ok || d != 7*time.Second {
		t.Errorf("got %s, %v; want 7s", d, ok)
	}
	if _, ok := nextAvailabilityCheck(pods, 0, now); ok {
		t.Error("a check without minReadySeconds")
	}
	if _, ok := nextAvailabilityCheck(pods[:1], 10, now); ok {
		t.Error("a check with every ready pod available")
	}
}
