package lifecycle

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Upstream's reason and message for a pod stopped at its activeDeadlineSeconds.
const (
	DeadlineExceededReason  = "DeadlineExceeded"
	DeadlineExceededMessage = "Pod was active on the node longer than the specified deadline"
)

// ActiveDeadline tells whether a pod has run past spec.activeDeadlineSeconds,
// counted from status.startTime as upstream's kubelet counts it, and if not,
// how long until it does (0: no deadline).
func ActiveDeadline(pod *corev1.Pod, now time.Time) (exceeded bool, left time.Duration) {
	if pod.Spec.ActiveDeadlineSeconds == nil || pod.Status.StartTime == nil {
		return false, 0
	}
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return false, 0
	}
	deadline := pod.Status.StartTime.Add(time.Duration(*pod.Spec.ActiveDeadlineSeconds) * time.Second)
	if !now.Before(deadline) {
		return true, 0
	}
	return false, deadline.Sub(now)
}
