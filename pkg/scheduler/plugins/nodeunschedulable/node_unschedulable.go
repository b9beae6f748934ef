// Package nodeunschedulable is the NodeUnschedulable plugin: cordoned nodes
// (spec.unschedulable) take only pods that tolerate the unschedulable taint.
package nodeunschedulable

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/klog/v2"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/names"
)

// Name is the plugin's name.
const Name = names.NodeUnschedulable

// ErrReasonUnschedulable is upstream's reason.
const ErrReasonUnschedulable = "node(s) were unschedulable"

// NodeUnschedulable filters cordoned nodes.
type NodeUnschedulable struct{}

var (
	_ fw.FilterPlugin      = &NodeUnschedulable{}
	_ fw.EnqueueExtensions = &NodeUnschedulable{}
)

var unschedulableTaint = corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule}

// New makes the plugin.
func New(context.Context, runtime.Object, fw.Handle) (fw.Plugin, error) {
	return &NodeUnschedulable{}, nil
}

// Name implements fw.Plugin.
func (*NodeUnschedulable) Name() string { return Name }

// Filter implements fw.FilterPlugin.
func (*NodeUnschedulable) Filter(_ context.Context, _ *fw.CycleState, pod *corev1.Pod, ni *fw.NodeInfo) *fw.Status {
	if !ni.Unschedulable() {
		return nil
	}
	if corev1helpers.TolerationsTolerateTaint(klog.Background(), pod.Spec.Tolerations, &unschedulableTaint, false) {
		return nil
	}
	return fw.NewStatus(fw.UnschedulableAndUnresolvable, ErrReasonUnschedulable)
}

// EventsToRegister implements fw.EnqueueExtensions: a node added, or uncordoned.
func (*NodeUnschedulable) EventsToRegister(context.Context) ([]fw.ClusterEventWithHint, error) {
	return []fw.ClusterEventWithHint{
		{Event: fw.ClusterEvent{Resource: fw.Node, ActionType: fw.Add | fw.UpdateNodeTaint}, QueueingHintFn: isSchedulableAfterNodeChange},
		{Event: fw.ClusterEvent{Resource: fw.UnscheduledPod, ActionType: fw.UpdatePodToleration}},
	}, nil
}

func isSchedulableAfterNodeChange(_ *corev1.Pod, _, newObj interface{}) (fw.QueueingHint, error) {
	if n, ok := newObj.(*corev1.Node); ok && n.Spec.Unschedulable {
		return fw.QueueSkip, nil
	}
	return fw.Queue, nil
}
