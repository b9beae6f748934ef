package nodelifecycle

import (
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Reasons and messages the controller writes into conditions it takes over
// from a silent kubelet, as upstream's.
const (
	reasonNeverUpdated  = "NodeStatusNeverUpdated"
	messageNeverUpdated = "Kubelet never posted node status."
	reasonUnknown       = "NodeStatusUnknown"
	messageUnknown      = "Kubelet stopped posting node status."
)

// silencedConditions are set to Unknown when the kubelet goes quiet.
// NetworkUnavailable is left alone: the network plugin, not the kubelet, owns it.
var silencedConditions = []corev1.NodeConditionType{
	corev1.NodeReady, corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure,
}

// health is what the controller remembers of a node between passes. Times are
// the controller's own clock: a node's clock may be skewed, so only changes of
// the node's heartbeat values count, not their values.
type health struct {
	// probe is when a sign of life (a new heartbeat or lease renewal) was last seen.
	probe time.Time
	// readyTransition is when the Ready condition was last seen changing.
	readyTransition time.Time
	// status is the node status the heartbeat was compared against.
	status *corev1.NodeStatus
	// leaseRenew is the renewTime of the last lease seen; zero before any.
	leaseRenew time.Time
}

// assessment is what one look at a node concludes.
type assessment struct {
	// next is what to remember of the node.
	next *health
	// observed is the Ready condition as the node carried it (a made-up Unknown
	// one, dated at creation, when it has none).
	observed corev1.NodeCondition
	// current points at the node's Ready condition after the controller's
	// changes; nil when the node has none yet.
	current *corev1.NodeCondition
	// write is set when the controller changed the node's conditions and must
	// store its status; afterWrite is then what to remember once it is stored.
	write      bool
	afterWrite *health
}

// assess looks at a node (which it may change: conditions taken over from a
// silent kubelet) with its lease, given what was remembered of it. A node's
// kubelet is alive while its Ready heartbeat changes or its lease is renewed;
// after grace without either (startupGrace for a node that never reported),
// Ready, MemoryPressure, DiskPressure and PIDPressure become Unknown.
func assess(saved *health, node *corev1.Node, lease *coordinationv1.Lease, now time.Time, grace, startupGrace time.Duration) assessment {
	var a assessment
	h := saved.copy()
	ready := findCondition(&node.Status, corev1.NodeReady)
	if ready == nil {
		// Never reported: judge from creation, with the longer startup grace.
		created := node.CreationTimestamp
		a.observed = corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionUnknown, LastHeartbeatTime: created, LastTransitionTime: created}
		grace = startupGrace
		if h == nil {
			h = &health{probe: created.Time, readyTransition: created.Time}
		}
		h.status = &node.Status
	} else {
		a.observed = *ready
		var savedReady *corev1.NodeCondition
		if h != nil {
			savedReady = findCondition(h.status, corev1.NodeReady)
		}
		switch {
		case h == nil || savedReady == nil:
			// First sight of the node, or of its Ready condition.
			h = &health{probe: now, readyTransition: now, status: &node.Status, leaseRenew: leaseRenewOf(h)}
		case !savedReady.LastHeartbeatTime.Equal(&ready.LastHeartbeatTime):
			transition := h.readyTransition
			if !savedReady.LastTransitionTime.Equal(&ready.LastTransitionTime) {
				transition = now
			}
			h = &health{probe: now, readyTransition: transition, status: &node.Status, leaseRenew: h.leaseRenew}
		}
	}
	// A renewed lease is a sign of life even when the status is not posted.
	if lease != nil && lease.Spec.RenewTime != nil && (h.leaseRenew.IsZero() || h.leaseRenew.Before(lease.Spec.RenewTime.Time)) {
		h.leaseRenew = lease.Spec.RenewTime.Time
		h.probe = now
	}
	a.next = h
	if now.After(h.probe.Add(grace)) {
		silence(node, now)
		current := findCondition(&node.Status, corev1.NodeReady)
		if !apiequality.Semantic.DeepEqual(current, &a.observed) {
			a.write = true
			a.afterWrite = &health{probe: h.probe, readyTransition: now, status: &node.Status, leaseRenew: h.leaseRenew}
		}
	}
	a.current = findCondition(&node.Status, corev1.NodeReady)
	return a
}

// silence marks the kubelet's conditions Unknown, as the controller does for a
// node whose kubelet stopped reporting.
func silence(node *corev1.Node, now time.Time) {
	stamp := metav1.NewTime(now)
	for _, t := range silencedConditions {
		c := findCondition(&node.Status, t)
		switch {
		case c == nil:
			node.Status.Conditions = append(node.Status.Conditions, corev1.NodeCondition{
				Type: t, Status: corev1.ConditionUnknown, Reason: reasonNeverUpdated, Message: messageNeverUpdated,
				LastHeartbeatTime: node.CreationTimestamp, LastTransitionTime: stamp,
			})
		case c.Status != corev1.ConditionUnknown:
			c.Status, c.Reason, c.Message, c.LastTransitionTime = corev1.ConditionUnknown, reasonUnknown, messageUnknown, stamp
		}
	}
}

func (h *health) copy() *health {
	if h == nil {
		return nil
	}
	c := *h
	return &c
}

func leaseRenewOf(h *health) time.Time {
	if h == nil {
		return time.Time{}
	}
	return h.leaseRenew
}

// findCondition returns a pointer into status's conditions, or nil.
func findCondition(status *corev1.NodeStatus, t corev1.NodeConditionType) *corev1.NodeCondition {
	if status == nil {
		return nil
	}
	for i := range status.Conditions {
		if status.Conditions[i].Type == t {
			return &status.Conditions[i]
		}
	}
	return nil
}
