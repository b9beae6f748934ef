package sim

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The conditions a healthy kubelet posts, with its reasons and messages.
var healthy = []corev1.NodeCondition{
	{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientMemory", Message: "kubelet has sufficient memory available"},
	{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasNoDiskPressure", Message: "kubelet has no disk pressure"},
	{Type: corev1.NodePIDPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientPID", Message: "kubelet has sufficient PID available"},
	{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubelet is posting ready status"},
}

// healthyConditions returns old's conditions with the kubelet's four made healthy
// and heartbeating now. A condition whose status does not change keeps its
// transition time; conditions others own (a node problem detector's) are kept.
func healthyConditions(old []corev1.NodeCondition, now time.Time) []corev1.NodeCondition {
	t := metav1.NewTime(now)
	out := make([]corev1.NodeCondition, 0, len(old)+len(healthy))
	for _, c := range old {
		if !kubeletCondition(c.Type) {
			out = append(out, c)
		}
	}
	for _, want := range healthy {
		c := want
		c.LastHeartbeatTime, c.LastTransitionTime = t, t
		for _, o := range old {
			if o.Type == c.Type && o.Status == c.Status {
				c.LastTransitionTime = o.LastTransitionTime
			}
		}
		out = append(out, c)
	}
	return out
}

func kubeletCondition(t corev1.NodeConditionType) bool {
	for _, h := range healthy {
		if h.Type == t {
			return true
		}
	}
	return false
}

// nodeStatusDue tells whether a simulated node's status must be written now: when
// its kubelet conditions are not the healthy ones (new, or marked Unknown by a
// node lifecycle controller while it was failed), or when a report slot has passed
// since the last heartbeat. Like upstream's kubelet, an unchanged status is only
// reported every period (5 minutes there); the lease is the frequent heartbeat.
// next is when to look again.
func nodeStatusDue(node *corev1.Node, now time.Time, period, phase time.Duration) (due bool, next time.Time) {
	var beat time.Time
	for _, want := range healthy {
		found := false
		for _, c := range node.Status.Conditions {
			if c.Type == want.Type {
				found = c.Status == want.Status && c.Reason == want.Reason
				if c.Type == corev1.NodeReady {
					beat = c.LastHeartbeatTime.Time
				}
			}
		}
		if !found {
			_, next = beatDue(now, now, period, phase, time.Second)
			return true, next
		}
	}
	return beatDue(beat, now, period, phase, time.Second)
}
