package queue

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/minik8s/minik8s/pkg/scheduler/framework"
)

func pendingPod(name, nominated string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID("uid-" + name)},
		Status: corev1.PodStatus{NominatedNodeName: nominated}}
}

func TestNominatorUpdate(t *testing.T) {
	cases := []struct {
		name     string
		inMemory string
		old, new string
		want     string
	}{
		{"a nomination made in memory survives an update that raced with its status patch", "n1", "", "", "n1"},
		{"a nominated node in the new status replaces the one in memory", "n1", "", "n2", "n2"},
		{"a nomination the new status drops is forgotten", "n1", "n1", "", ""},
		{"a changed nomination follows the new status", "n1", "n1", "n3", "n3"},
		{"a pod never nominated stays so", "", "", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := NewNominator()
			p := pendingPod("p", "")
			if c.inMemory != "" {
				n.Nominate(p, c.inMemory)
			}
			n.Update(pendingPod("p", c.old), pendingPod("p", c.new))
			if got := n.NominatedNode(p); got != c.want {
				t.Fatalf("nominated to %q, want %q", got, c.want)
			}
			if c.want != "" && len(n.NominatedPodsForNode(c.want)) != 1 {
				t.Fatalf("node %s lists %d nominated pods, want 1", c.want, len(n.NominatedPodsForNode(c.want)))
			}
		})
	}
}

// A preemptor parked by NodeResourcesFit comes back when a pod is deleted (its
// victim), and straight to the active queue once its back-off is over.
func TestPreemptorMovesWhenAVictimIsDeleted(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Now())
	fit := "NodeResourcesFit"
	q := New(Config{Clock: clk, Less: func(a, b *framework.QueuedPodInfo) bool { return false },
		Profiles: map[string]*Profile{"": {Events: map[string][]framework.ClusterEventWithHint{
			fit: {{Event: framework.ClusterEvent{Resource: framework.AssignedPod, ActionType: framework.Delete}}},
		}}}})
	ctx := context.Background()
	p := pendingPod("preemptor", "")
	q.Add(ctx, p)
	qpi := q.Pop()
	cycle := q.SchedulingCycle()
	qpi.UnschedulablePlugins = sets.New(fit)
	q.AddUnschedulable(ctx, qpi, cycle)
	if got := q.RejectedBy(p); !got.Has(fit) {
		t.Fatalf("preemptor not parked as rejected by %s: %v", fit, got)
	}
	q.MoveOnEvent(ctx, framework.ClusterEvent{Resource: framework.Node, ActionType: framework.UpdateNodeLabel}, nil, nil)
	if _, _, parked := q.Len(); parked != 1 {
		t.Fatalf("a node label change moved the preemptor")
	}
	clk.Step(2 * time.Second)
	q.MoveOnEvent(ctx, framework.ClusterEvent{Resource: framework.AssignedPod, ActionType: framework.Delete}, &corev1.Pod{}, nil)
	if active, _, parked := q.Len(); active != 1 || parked != 0 {
		t.Fatalf("after the victim's deletion: %d active, %d parked; want 1 active", active, parked)
	}
}
