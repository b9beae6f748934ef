// Package nodename is the NodeName plugin: a pod that names a node fits only there.
package nodename

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/names"
)

// Name is the plugin's name.
const Name = names.NodeName

// ErrReason is upstream's reason.
const ErrReason = "node(s) didn't match the requested node name"

// NodeName filters by spec.nodeName.
type NodeName struct{}

var (
	_ fw.FilterPlugin      = &NodeName{}
	_ fw.EnqueueExtensions = &NodeName{}
)

// New makes the plugin.
func New(context.Context, runtime.Object, fw.Handle) (fw.Plugin, error) { return &NodeName{}, nil }

// Name implements fw.Plugin.
func (*NodeName) Name() string { return Name }

// Filter implements fw.FilterPlugin.
func (*NodeName) Filter(_ context.Context, _ *fw.CycleState, pod *corev1.Pod, ni *fw.NodeInfo) *fw.Status {
	if pod.Spec.NodeName == "" || pod.Spec.NodeName == ni.Node().Name {
		return nil
	}
	return fw.NewStatus(fw.UnschedulableAndUnresolvable, ErrReason)
}

// EventsToRegister implements fw.EnqueueExtensions.
func (*NodeName) EventsToRegister(context.Context) ([]fw.ClusterEventWithHint, error) {
	return []fw.ClusterEventWithHint{{Event: fw.ClusterEvent{Resource: fw.Node, ActionType: fw.Add}}}, nil
}
