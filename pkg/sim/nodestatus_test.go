package sim

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestHealthyConditions(t *testing.T) {
	then := time.Unix(1_000_000, 0)
	now := then.Add(time.Hour)
	old := []corev1.NodeCondition{
		{Type: corev1.NodeReady, Status: corev1.ConditionUnknown, Reason: "NodeStatusUnknown", LastTransitionTime: metav1.NewTime(then)},
		{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientMemory", LastTransitionTime: metav1.NewTime(then)},
		{Type: "KernelDeadlock", Status: corev1.ConditionFalse, Reason: "KernelHasNoDeadlock", LastTransitionTime: metav1.NewTime(then)},
	}
	got := healthyConditions(old, now)
	byType := map[corev1.NodeConditionType]corev1.NodeCondition{}
	for _, c := range got {
		byType[c.Type] = c
	}
	cases := []struct {
		name       string
		typ        corev1.NodeConditionType
		status     corev1.ConditionStatus
		transition time.Time
		heartbeat  time.Time
	}{
		{"Ready that was Unknown becomes True and transitions now", corev1.NodeReady, corev1.ConditionTrue, now, now},
		{"MemoryPressure that stays False keeps its transition time", corev1.NodeMemoryPressure, corev1.ConditionFalse, then, now},
		{"a missing DiskPressure is added", corev1.NodeDiskPressure, corev1.ConditionFalse, now, now},
		{"a missing PIDPressure is added", corev1.NodePIDPressure, corev1.ConditionFalse, now, now},
		{"a condition another component owns is left as it was", "KernelDeadlock", corev1.ConditionFalse, then, time.Time{}},
	}
	for _, c := range cases {
		g, ok := byType[c.typ]
		if !ok || g.Status != c.status || !g.LastTransitionTime.Time.Equal(c.transition) || !g.LastHeartbeatTime.Time.Equal(c.heartbeat) {
			t.Errorf("%s: got %+v", c.name, g)
		}
	}
	if len(got) != 5 || got[len(got)-1].Type != corev1.NodeReady {
		t.Errorf("want the foreign condition then the kubelet's four ending with Ready, got %v", got)
	}
	if byType[corev1.NodeReady].Reason != "KubeletReady" || byType[corev1.NodeReady].Message != "kubelet is posting ready status" {
		t.Errorf("Ready has not the kubelet's reason and message: %+v", byType[corev1.NodeReady])
	}
}

func TestNodeStatusDue(t *testing.T) {
	base := time.Unix(1_000_200, 0) // a multiple of 5 minutes
	period, phase := 5*time.Minute, time.Minute
	healthyAt := func(beat time.Time) []corev1.NodeCondition { return healthyConditions(nil, beat) }
	notReady := healthyAt(base)
	notReady[3].Status, notReady[3].Reason = corev1.ConditionUnknown, "NodeStatusUnknown"
	cases := []struct {
		name  string
		conds []corev1.NodeCondition
		now   time.Time
		due   bool
	}{
		{"a healthy status reported in this slot is not due", healthyAt(base.Add(90 * time.Second)), base.Add(4 * time.Minute), false},
		{"a healthy status from the previous slot is due", healthyAt(base.Add(30 * time.Second)), base.Add(2 * time.Minute), true},
		{"a node without conditions is due at once", nil, base.Add(90 * time.Second), true},
		{"a node marked Unknown by the lifecycle controller is due at once", notReady, base.Add(2 * time.Second), true},
	}
	for _, c := range cases {
		n := &corev1.Node{Status: corev1.NodeStatus{Conditions: c.conds}}
		due, next := nodeStatusDue(n, c.now, period, phase)
		if due != c.due {
			t.Errorf("%s: due %v", c.name, due)
		}
		if !next.After(c.now) || next.Sub(c.now) > period {
			t.Errorf("%s: next look at %s is not within one period of now", c.name, next.Sub(c.now))
		}
	}
}
