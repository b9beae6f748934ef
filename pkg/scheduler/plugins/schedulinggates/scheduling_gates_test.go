package schedulinggates

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

func TestPreEnqueue(t *testing.T) {
	cases := []struct {
		name  string
		gates []string
		want  string
	}{
		{"a pod without gates enters the queue", nil, "Success"},
		{"a gated pod waits, with its gate named", []string{"example.com/foo"}, "UnschedulableAndUnresolvable: waiting for scheduling gates: [example.com/foo]"},
		{"every gate is named, in order", []string{"example.com/foo", "example.com/bar"},
			"UnschedulableAndUnresolvable: waiting for scheduling gates: [example.com/foo example.com/bar]"},
	}
	pl := &SchedulingGates{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pod := &corev1.Pod{}
			for _, g := range c.gates {
				pod.Spec.SchedulingGates = append(pod.Spec.SchedulingGates, corev1.PodSchedulingGate{Name: g})
			}
			st := pl.PreEnqueue(context.Background(), pod)
			got := "Success"
			if !st.IsSuccess() {
				got = st.String()
			}
			if got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestOnlyTheLastGateRemovedWakesThePod(t *testing.T) {
	events, _ := (&SchedulingGates{}).EventsToRegister(context.Background())
	if len(events) != 1 || events[0].Event.Resource != fw.UnscheduledPod || events[0].Event.ActionType != fw.UpdatePodSchedulingGatesEliminated {
		t.Fatalf("events %+v", events)
	}
}
