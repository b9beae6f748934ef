package framework

import (
	"time"

	"k8s.io/apimachinery/pkg/util/sets"
)

// QueuedPodInfo is a pod waiting in the scheduling queue.
type QueuedPodInfo struct {
	*PodInfo
	// Timestamp is when the pod was last added to the queue.
	Timestamp time.Time
	// Attempts counts scheduling attempts, for back-off.
	Attempts int
	// BackoffExpiration is when the pod may leave the back-off queue.
	BackoffExpiration time.Time
	// InitialAttemptTimestamp is the first time it was popped (for latency metrics).
	InitialAttemptTimestamp *time.Time
	// UnschedulablePlugins rejected the pod in its last attempt; PendingPlugins
	// returned Pending. Only events these plugins registered move the pod.
	UnschedulablePlugins sets.Set[string]
	PendingPlugins       sets.Set[string]
	// GatingPlugin is the PreEnqueue plugin that keeps the pod out of the queue.
	GatingPlugin string
	// ConsecutiveErrors counts attempts that ended in an Error status.
	ConsecutiveErrors int
}

// Gated is true while a PreEnqueue plugin keeps the pod out.
func (q *QueuedPodInfo) Gated() bool { return q.GatingPlugin != "" }
