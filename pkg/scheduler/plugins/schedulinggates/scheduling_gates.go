// Package schedulinggates is the SchedulingGates plugin: a pod with scheduling
// gates stays out of the active queue until they are all removed.
package schedulinggates

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/names"
)

// Name is the plugin's name.
const Name = names.SchedulingGates

// SchedulingGates holds gated pods.
type SchedulingGates struct{}

var (
	_ fw.PreEnqueuePlugin  = &SchedulingGates{}
	_ fw.EnqueueExtensions = &SchedulingGates{}
)

// New makes the plugin.
func New(context.Context, runtime.Object, fw.Handle) (fw.Plugin, error) {
	return &SchedulingGates{}, nil
}

// Name implements fw.Plugin.
func (*SchedulingGates) Name() string { return Name }

// PreEnqueue implements fw.PreEnqueuePlugin.
func (*SchedulingGates) PreEnqueue(_ context.Context, pod *corev1.Pod) *fw.Status {
	if len(pod.Spec.SchedulingGates) == 0 {
		return nil
	}
	gates := make([]string, 0, len(pod.Spec.SchedulingGates))
	for _, g := range pod.Spec.SchedulingGates {
		gates = append(gates, g.Name)
	}
	return fw.NewStatus(fw.UnschedulableAndUnresolvable, fmt.Sprintf("waiting for scheduling gates: %v", gates))
}

// EventsToRegister implements fw.EnqueueExtensions: only the pod's own update
// that removes its last gate helps (the queue re-runs PreEnqueue on any update).
func (*SchedulingGates) EventsToRegister(context.Context) ([]fw.ClusterEventWithHint, error) {
	return []fw.ClusterEventWithHint{{Event: fw.ClusterEvent{Resource: fw.UnscheduledPod, ActionType: fw.UpdatePodSchedulingGatesEliminated}}}, nil
}
