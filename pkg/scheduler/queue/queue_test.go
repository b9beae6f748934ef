package queue

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

type gate struct{}

func (gate) Name() string { return "SchedulingGates" }
func (gate) PreEnqueue(_ context.Context, p *corev1.Pod) *fw.Status {
	if len(p.Spec.SchedulingGates) > 0 {
		return fw.NewStatus(fw.UnschedulableAndUnresolvable, "gated")
	}
	return nil
}

func less(a, b *fw.QueuedPodInfo) bool {
	pa, pb := ptr.Deref(a.Pod.Spec.Priority, 0), ptr.Deref(b.Pod.Spec.Priority, 0)
	return pa > pb || (pa == pb && a.Timestamp.Before(b.Timestamp))
}

var (
	nodeAdd   = fw.ClusterEvent{Resource: fw.Node, ActionType: fw.Add, Label: "NodeAdd"}
	podDelete = fw.ClusterEvent{Resource: fw.AssignedPod, ActionType: fw.Delete, Label: "AssignedPodDelete"}
)

func newTestQueue(hint fw.QueueingHintFn) (*Queue, *testingclock.FakeClock) {
	clk := testingclock.NewFakeClock(time.Unix(1_000_000, 0))
	q := New(Config{Clock: clk, Less: less, Profiles: map[string]*Profile{"default-scheduler": {
		PreEnqueue: []fw.PreEnqueuePlugin{gate{}},
		Events: map[string][]fw.ClusterEventWithHint{
			"NodeResourcesFit": {{Event: podDelete}, {Event: nodeAdd, QueueingHintFn: hint}},
			"TaintToleration":  {{Event: nodeAdd}},
		},
	}}})
	return q, clk
}

func pod(name string, prio int32) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID(name)},
		Spec: corev1.PodSpec{SchedulerName: "default-scheduler", Priority: &prio}}
}

func popName(t *testing.T, q *Queue) string {
	t.Helper()
	a, _, _ := q.Len()
	if a == 0 {
		t.Fatalf("active queue is empty")
	}
	return q.Pop().Pod.Name
}

func where(q *Queue, name string) string {
	q.mu.Lock()
	defer q.mu.Unlock()
	k := podKey("ns", name)
	switch {
	case q.active.get(k) != nil:
		return "active"
	case q.backoff.get(k) != nil, q.errBackoff.get(k) != nil:
		return "backoff"
	case q.unschedulable[k] != nil:
		return "unschedulable"
	}
	return "none"
}

// fail pops the named pod and reports it rejected by plugins in the cycle it was popped.
func fail(t *testing.T, q *Queue, name string, plugins ...string) *fw.QueuedPodInfo {
	t.Helper()
	p := q.Pop()
	if p.Pod.Name != name {
		t.Fatalf("popped %s, want %s", p.Pod.Name, name)
	}
	p.UnschedulablePlugins = sets.New(plugins...)
	q.AddUnschedulable(context.Background(), p, q.SchedulingCycle())
	return p
}

func TestPodsPopInPriorityThenArrivalOrder(t *testing.T) {
	q, clk := newTestQueue(nil)
	ctx := context.Background()
	q.Add(ctx, pod("low", 1))
	clk.Step(time.Millisecond)
	q.Add(ctx, pod("high", 10))
	clk.Step(time.Millisecond)
	q.Add(ctx, pod("low2", 1))
	for _, want := range []string{"high", "low", "low2"} {
		if got := popName(t, q); got != want {
			t.Fatalf("popped %s, want %s", got, want)
		}
	}
}

func TestARejectedPodWaitsForAnEventItsRejectingPluginRegistered(t *testing.T) {
	q, clk := newTestQueue(nil)
	ctx := context.Background()
	q.Add(ctx, pod("p", 0))
	fail(t, q, "p", "NodeResourcesFit")
	if got := where(q, "p"); got != "unschedulable" {
		t.Fatalf("after rejection the pod is in %s, want unschedulable", got)
	}
	// An event no rejecting plugin registered leaves it parked, however long we wait.
	q.MoveOnEvent(ctx, fw.ClusterEvent{Resource: fw.PersistentVolume, ActionType: fw.Add}, nil, nil)
	clk.Step(time.Hour)
	q.flushBackoff()
	if got := where(q, "p"); got != "unschedulable" {
		t.Fatalf("an unrelated event moved the pod to %s", got)
	}
	// A pod deleted may free room: back to the active queue (its back-off is long over).
	q.MoveOnEvent(ctx, podDelete, pod("gone", 0), nil)
	if got := where(q, "p"); got != "active" {
		t.Fatalf("after a registered event the pod is in %s, want active", got)
	}
}

func TestAMovedPodStillInBackOffWaitsInTheBackOffQueue(t *testing.T) {
	q, clk := newTestQueue(nil)
	ctx := context.Background()
	q.Add(ctx, pod("p", 0))
	fail(t, q, "p", "TaintToleration")
	clk.Step(500 * time.Millisecond)
	q.MoveOnEvent(ctx, nodeAdd, nil, &corev1.Node{})
	if got := where(q, "p"); got != "backoff" {
		t.Fatalf("pod is in %s, want backoff (1 s back-off not over)", got)
	}
	if d := q.flushBackoff(); d != 500*time.Millisecond {
		t.Fatalf("next back-off expiry in %v, want 500ms", d)
	}
	clk.Step(500 * time.Millisecond)
	q.flushBackoff()
	if got := where(q, "p"); got != "active" {
		t.Fatalf("after back-off the pod is in %s, want active", got)
	}
}

func TestAnIdleSchedulerTakesAnUnschedulablePodFromBackOffBeforeItsTime(t *testing.T) {
	q, _ := newTestQueue(nil)
	ctx := context.Background()
	q.Add(ctx, pod("p", 0))
	fail(t, q, "p", "TaintToleration")
	q.MoveOnEvent(ctx, nodeAdd, nil, &corev1.Node{})
	if got := where(q, "p"); got != "backoff" {
		t.Fatalf("pod is in %s, want backoff", got)
	}
	// Nothing is active: the pod is popped at once, its back-off not over.
	if p := q.Pop(); p == nil || p.Pod.Name != "p" {
		t.Fatalf("popped %v, want p", p)
	}
}

func TestAPodThatFailedWithAnErrorWaitsOutItsBackOff(t *testing.T) {
	q, clk := newTestQueue(nil)
	ctx := context.Background()
	q.Add(ctx, pod("p", 0))
	p := q.Pop()
	p.ConsecutiveErrors = 1
	q.AddUnschedulable(ctx, p, q.SchedulingCycle())
	popped := make(chan *fw.QueuedPodInfo, 1)
	go func() { popped <- q.Pop() }()
	select {
	case p := <-popped:
		t.Fatalf("popped %s during its error back-off", p.Pod.Name)
	case <-time.After(50 * time.Millisecond):
	}
	clk.Step(time.Second)
	q.flushBackoff()
	if p := <-popped; p == nil || p.Pod.Name != "p" {
		t.Fatalf("popped %v after back-off, want p", p)
	}
}

func TestAQueueingHintThatSaysSkipKeepsThePodParked(t *testing.T) {
	calls := 0
	q, _ := newTestQueue(func(*corev1.Pod, interface{}, interface{}) (fw.QueueingHint, error) {
		calls++
		return fw.QueueSkip, nil
	})
	ctx := context.Background()
	q.Add(ctx, pod("p", 0))
	fail(t, q, "p", "NodeResourcesFit")
	q.MoveOnEvent(ctx, nodeAdd, nil, &corev1.Node{})
	if calls != 1 {
		t.Fatalf("hint called %d times, want 1", calls)
	}
	if got := where(q, "p"); got != "unschedulable" {
		t.Fatalf("pod is in %s, want unschedulable", got)
	}
}

func TestAPodThatFailsWhileTheClusterChangedGoesToBackOff(t *testing.T) {
	q, _ := newTestQueue(nil)
	ctx := context.Background()
	q.Add(ctx, pod("p", 0))
	p := q.Pop()
	cycle := q.SchedulingCycle()
	// While p was being scheduled, a node came: it may fit now.
	q.MoveOnEvent(ctx, nodeAdd, nil, &corev1.Node{})
	p.UnschedulablePlugins = sets.New("NodeResourcesFit")
	q.AddUnschedulable(ctx, p, cycle)
	if got := where(q, "p"); got != "backoff" {
		t.Fatalf("pod is in %s, want backoff", got)
	}
}

func TestAnErrorGoesToBackOffNotToTheUnschedulablePods(t *testing.T) {
	q, _ := newTestQueue(nil)
	ctx := context.Background()
	q.Add(ctx, pod("p", 0))
	p := q.Pop()
	p.ConsecutiveErrors = 1
	q.AddUnschedulable(ctx, p, q.SchedulingCycle())
	if got := where(q, "p"); got != "backoff" {
		t.Fatalf("pod is in %s, want backoff", got)
	}
}

func TestBackOffDoublesFromOneSecondToTenSeconds(t *testing.T) {
	q, _ := newTestQueue(nil)
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for i, w := range want {
		p := &fw.QueuedPodInfo{Attempts: i + 1}
		if got := q.backoffDuration(p); got != w {
			t.Errorf("attempt %d: back-off %v, want %v", i+1, got, w)
		}
	}
}

func TestAGatedPodEntersTheQueueWhenItsLastGateIsRemoved(t *testing.T) {
	q, _ := newTestQueue(nil)
	ctx := context.Background()
	gated := pod("g", 0)
	gated.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "example.com/wait"}}
	q.Add(ctx, gated)
	if got := where(q, "g"); got != "unschedulable" {
		t.Fatalf("gated pod is in %s, want unschedulable", got)
	}
	// Cluster events never move a gated pod.
	q.MoveOnEvent(ctx, fw.EventForceActivate, nil, nil)
	if got := where(q, "g"); got != "unschedulable" {
		t.Fatalf("an event moved the gated pod to %s", got)
	}
	open := gated.DeepCopy()
	open.Spec.SchedulingGates = nil
	q.Update(ctx, gated, open)
	if got := where(q, "g"); got != "active" {
		t.Fatalf("ungated pod is in %s, want active", got)
	}
}

func TestAnUnschedulablePodThatChangesIsRetried(t *testing.T) {
	q, clk := newTestQueue(nil)
	ctx := context.Background()
	p := pod("p", 0)
	q.Add(ctx, p)
	fail(t, q, "p", "TaintToleration")
	clk.Step(time.Minute)
	tolerant := p.DeepCopy()
	tolerant.Spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
	q.Update(ctx, p, tolerant)
	if got := where(q, "p"); got != "active" {
		t.Fatalf("updated pod is in %s, want active", got)
	}
	// A status-only update of a parked pod does not retry it.
	fail(t, q, "p", "TaintToleration")
	clk.Step(time.Minute)
	st := tolerant.DeepCopy()
	st.Status.Message = "something"
	q.Update(ctx, tolerant, st)
	if got := where(q, "p"); got != "unschedulable" {
		t.Fatalf("status-only update moved the pod to %s", got)
	}
}

func TestDeletedPodsLeaveEveryQueue(t *testing.T) {
	q, _ := newTestQueue(nil)
	ctx := context.Background()
	for _, n := range []string{"a", "b"} {
		q.Add(ctx, pod(n, 0))
	}
	fail(t, q, "a", "NodeResourcesFit")
	q.Delete(pod("a", 0))
	q.Delete(pod("b", 0))
	if a, b, u := q.Len(); a+b+u != 0 {
		t.Fatalf("queues hold %d active, %d backoff, %d unschedulable after deletes", a, b, u)
	}
}

func TestPopReturnsNilOnceClosed(t *testing.T) {
	q, _ := newTestQueue(nil)
	done := make(chan *fw.QueuedPodInfo)
	go func() { done <- q.Pop() }()
	q.Close()
	if p := <-done; p != nil {
		t.Fatalf("Pop after Close returned %v", p.Pod.Name)
	}
}
