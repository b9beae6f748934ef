package statefulset

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/kubectl/pkg/util/podutils"
)

// computeStatus is the status the set reports for its pods: replicas (pods
// created), readyReplicas (Running and Ready), availableReplicas (ready for
// minReadySeconds), currentReplicas and updatedReplicas (live pods at the
// current and update revisions), less the pods just deleted for the update.
// A rolling update whose pods are all updated and ready completes: the update
// revision becomes the current one.
func computeStatus(set *appsv1.StatefulSet, pods []*corev1.Pod, currentRevision, updateRevision string, collisionCount int32, updateDeletions int, now time.Time) appsv1.StatefulSetStatus {
	s := appsv1.StatefulSetStatus{
		ObservedGeneration: set.Generation,
		CurrentRevision:    currentRevision,
		UpdateRevision:     updateRevision,
		CollisionCount:     &collisionCount,
	}
	for _, p := range pods {
		created := p.Status.Phase != ""
		if created {
			s.Replicas++
		}
		if runningAndReady(p) {
			s.ReadyReplicas++
			if podutils.IsPodAvailable(p, set.Spec.MinReadySeconds, metav1.NewTime(now)) {
				s.AvailableReplicas++
			}
		}
		if created && p.DeletionTimestamp == nil {
			switch revisionOf(p) {
			case currentRevision:
				s.CurrentReplicas++
				if currentRevision == updateRevision {
					s.UpdatedReplicas++
				}
			case updateRevision:
				s.UpdatedReplicas++
			}
		}
	}
	s.CurrentReplicas -= int32(updateDeletions)
	want := int32(replicas(set))
	if set.Spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType &&
		s.UpdatedReplicas == want && s.ReadyReplicas == want && s.Replicas == want {
		s.CurrentReplicas = s.UpdatedReplicas
		s.CurrentRevision = s.UpdateRevision
	}
	return s
}

// statusChanged reports whether status says something set's status does not
// (the collision count alone is not worth a write, as upstream).
func statusChanged(set *appsv1.StatefulSet, s *appsv1.StatefulSetStatus) bool {
	o := &set.Status
	return s.ObservedGeneration > o.ObservedGeneration || s.Replicas != o.Replicas || s.CurrentReplicas != o.CurrentReplicas ||
		s.ReadyReplicas != o.ReadyReplicas || s.UpdatedReplicas != o.UpdatedReplicas || s.CurrentRevision != o.CurrentRevision ||
		s.AvailableReplicas != o.AvailableReplicas || s.UpdateRevision != o.UpdateRevision
}

// nextAvailable is how long until the next ready pod becomes available, if
// one is waiting out minReadySeconds.
func nextAvailable(set *appsv1.StatefulSet, pods []*corev1.Pod, now time.Time) (time.Duration, bool) {
	min := time.Duration(set.Spec.MinReadySeconds) * time.Second
	var best time.Duration
	found := false
	for _, p := range pods {
		if !podutils.IsPodReady(p) {
			continue
		}
		if d := readySince(p).Add(min).Sub(now); d > 0 && (!found || d < best) {
			best, found = d, true
		}
	}
	return best, found
}

// readySince is when the pod's Ready condition last turned.
func readySince(p *corev1.Pod) time.Time {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.LastTransitionTime.Time
		}
	}
	return time.Time{}
}
