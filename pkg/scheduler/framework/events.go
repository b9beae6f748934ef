package framework

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// ActionType is what happened to an object, as a bit set.
type ActionType int64

const (
	Add ActionType = 1 << iota
	Delete
	UpdateNodeAllocatable
	UpdateNodeLabel
	UpdateNodeTaint
	UpdateNodeCondition
	UpdateNodeAnnotation
	UpdatePodLabel
	UpdatePodScaleDown
	UpdatePodToleration
	UpdatePodSchedulingGatesEliminated
	UpdatePodGeneratedResourceClaim
	updatePodOther

	All    ActionType = 1<<iota - 1
	Update            = UpdateNodeAllocatable | UpdateNodeLabel | UpdateNodeTaint | UpdateNodeCondition | UpdateNodeAnnotation |
		UpdatePodLabel | UpdatePodScaleDown | UpdatePodToleration | UpdatePodSchedulingGatesEliminated | UpdatePodGeneratedResourceClaim | updatePodOther
	// None matches no event.
	None ActionType = 0
)

var actionNames = []string{"Add", "Delete", "UpdateNodeAllocatable", "UpdateNodeLabel", "UpdateNodeTaint", "UpdateNodeCondition",
	"UpdateNodeAnnotation", "UpdatePodLabel", "UpdatePodScaleDown", "UpdatePodToleration", "UpdatePodSchedulingGatesEliminated",
	"UpdatePodGeneratedResourceClaim", "UpdatePodOther"}

func (a ActionType) String() string {
	if a == All {
		return "All"
	}
	var parts []string
	for i, n := range actionNames {
		if a&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	return strings.Join(parts, "|")
}

// EventResource is the kind of object an event is about.
type EventResource string

const (
	// Pod is any pod; AssignedPod and UnscheduledPod narrow it down.
	Pod                   EventResource = "Pod"
	AssignedPod           EventResource = "AssignedPod"
	UnscheduledPod        EventResource = "UnscheduledPod"
	Node                  EventResource = "Node"
	PersistentVolume      EventResource = "PersistentVolume"
	PersistentVolumeClaim EventResource = "PersistentVolumeClaim"
	CSINode               EventResource = "CSINode"
	CSIDriver             EventResource = "CSIDriver"
	StorageClass          EventResource = "StorageClass"
	VolumeAttachment      EventResource = "VolumeAttachment"
	WildCard              EventResource = "*"
)

// ClusterEvent is a change in the cluster that may make pods schedulable.
type ClusterEvent struct {
	Resource   EventResource
	ActionType ActionType
	// Label is a name for metrics and logs.
	Label string
}

// Match says whether an event a plugin registered covers the event that happened.
func (registered ClusterEvent) Match(happened ClusterEvent) bool {
	if registered.Resource == WildCard {
		return true
	}
	if registered.ActionType&happened.ActionType == 0 {
		return false
	}
	if registered.Resource == happened.Resource {
		return true
	}
	// A plugin interested in pods hears of assigned and unscheduled ones.
	return registered.Resource == Pod && (happened.Resource == AssignedPod || happened.Resource == UnscheduledPod)
}

// QueueingHint is a plugin's verdict on whether an event may make a pod it rejected
// schedulable.
type QueueingHint int

const (
	// QueueSkip: the event cannot help the pod.
	QueueSkip QueueingHint = iota
	// Queue: the event may help; retry the pod.
	Queue
)

// QueueingHintFn judges an event for a rejected pod; oldObj and newObj are the
// changed object's versions (nil where there is none).
type QueueingHintFn func(pod *corev1.Pod, oldObj, newObj interface{}) (QueueingHint, error)

// ClusterEventWithHint is a registered event with its optional hint.
type ClusterEventWithHint struct {
	Event ClusterEvent
	// QueueingHintFn nil means Queue for every matching event.
	QueueingHintFn QueueingHintFn
}

// Events the scheduler itself raises.
var (
	EventUnschedulableTimeout = ClusterEvent{Resource: WildCard, ActionType: All, Label: "UnschedulableTimeout"}
	EventForceActivate        = ClusterEvent{Resource: WildCard, ActionType: All, Label: "ForceActivate"}
)
