// Package nodeports is the NodePorts plugin: a pod's host ports must be free on
// the node.
package nodeports

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	"github.com/minik8s/minik8s/pkg/scheduler/plugins/names"
)

// Name is the plugin's name.
const Name = names.NodePorts

// ErrReason is upstream's reason.
const ErrReason = "node(s) didn't have free ports for the requested pod ports"

const preFilterKey fw.StateKey = "PreFilter" + Name

// NodePorts filters nodes whose host ports the pod would clash with.
type NodePorts struct{}

var (
	_ fw.PreFilterPlugin   = &NodePorts{}
	_ fw.FilterPlugin      = &NodePorts{}
	_ fw.EnqueueExtensions = &NodePorts{}
)

// New makes the plugin.
func New(context.Context, runtime.Object, fw.Handle) (fw.Plugin, error) { return &NodePorts{}, nil }

// Name implements fw.Plugin.
func (*NodePorts) Name() string { return Name }

type preFilterState []corev1.ContainerPort

func (s preFilterState) Clone() fw.StateData { return s }

// HostPorts lists the host ports a pod asks for (app containers and restartable
// init containers, which run alongside them).
func HostPorts(pod *corev1.Pod) []corev1.ContainerPort {
	var out []corev1.ContainerPort
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		if c.RestartPolicy == nil || *c.RestartPolicy != corev1.ContainerRestartPolicyAlways {
			continue
		}
		for _, p := range c.Ports {
			if p.HostPort > 0 {
				out = append(out, p)
			}
		}
	}
	for i := range pod.Spec.Containers {
		for _, p := range pod.Spec.Containers[i].Ports {
			if p.HostPort > 0 {
				out = append(out, p)
			}
		}
	}
	return out
}

// PreFilter implements fw.PreFilterPlugin; a pod without host ports skips Filter.
func (*NodePorts) PreFilter(_ context.Context, state *fw.CycleState, pod *corev1.Pod, _ []*fw.NodeInfo) (*fw.PreFilterResult, *fw.Status) {
	ports := HostPorts(pod)
	if len(ports) == 0 {
		return nil, fw.NewStatus(fw.Skip)
	}
	state.Write(preFilterKey, preFilterState(ports))
	return nil, nil
}

// PreFilterExtensions implements fw.PreFilterPlugin.
func (*NodePorts) PreFilterExtensions() fw.PreFilterExtensions { return nil }

// Filter implements fw.FilterPlugin.
func (*NodePorts) Filter(_ context.Context, state *fw.CycleState, _ *corev1.Pod, ni *fw.NodeInfo) *fw.Status {
	d, ok := state.Read(preFilterKey)
	if !ok {
		return fw.AsStatus(fmt.Errorf("reading %q from cycleState: not found", preFilterKey))
	}
	if Fits(d.(preFilterState), ni) {
		return nil
	}
	return fw.NewStatus(fw.Unschedulable, ErrReason)
}

// Fits says whether none of ports is taken on the node.
func Fits(ports []corev1.ContainerPort, ni *fw.NodeInfo) bool {
	for _, p := range ports {
		if ni.UsedPorts.CheckConflict(p.HostIP, string(p.Protocol), p.HostPort) {
			return false
		}
	}
	return true
}

// EventsToRegister implements fw.EnqueueExtensions: a pod holding ports went away,
// or a node came.
func (*NodePorts) EventsToRegister(context.Context) ([]fw.ClusterEventWithHint, error) {
	return []fw.ClusterEventWithHint{
		{Event: fw.ClusterEvent{Resource: fw.AssignedPod, ActionType: fw.Delete}, QueueingHintFn: isSchedulableAfterPodDeleted},
		{Event: fw.ClusterEvent{Resource: fw.Node, ActionType: fw.Add}},
	}, nil
}

func isSchedulableAfterPodDeleted(pod *corev1.Pod, oldObj, _ interface{}) (fw.QueueingHint, error) {
	gone, ok := oldObj.(*corev1.Pod)
	if !ok {
		return fw.Queue, nil
	}
	if gone.Spec.NodeName == "" && gone.Status.NominatedNodeName == "" {
		return fw.QueueSkip, nil
	}
	freed := HostPorts(gone)
	if len(freed) == 0 {
		return fw.QueueSkip, nil
	}
	// Only ports the pod would clash with matter, judged as Filter judges them
	// (an empty IP is 0.0.0.0, an empty protocol TCP).
	var inUse fw.HostPortInfo
	for _, p := range freed {
		inUse.Add(p.HostIP, string(p.Protocol), p.HostPort)
	}
	for _, p := range HostPorts(pod) {
		if inUse.CheckConflict(p.HostIP, string(p.Protocol), p.HostPort) {
			return fw.Queue, nil
		}
	}
	return fw.QueueSkip, nil
}
