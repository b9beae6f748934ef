package daemonset

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/kubectl/pkg/util/podutils"
)

// counts are the numbers a DaemonSet's status reports.
type counts struct {
	desired, current, misscheduled, ready, updated, available, unavailable int32
}

// computeCounts counts, over the nodes: where a daemon pod should run
// (desired) and does (current), where one runs but should not
// (misscheduled), and, of the oldest pod on each node that should run one,
// how many are ready, available (ready for minReadySeconds) and at the
// current template (updated). Unavailable is desired less available.
func computeCounts(ds *appsv1.DaemonSet, nodes []*corev1.Node, byNode map[string][]*corev1.Pod, hash string, now time.Time) counts {
	var c counts
	generation := templateGeneration(ds)
	for _, node := range nodes {
		run, _ := shouldRun(node, ds)
		pods := byNode[node.Name]
		if !run {
			if len(pods) > 0 {
				c.misscheduled++
			}
			continue
		}
		c.desired++
		if len(pods) == 0 {
			continue
		}
		c.current++
		sorted := append([]*corev1.Pod(nil), pods...)
		sortForKeeping(sorted)
		p := sorted[0]
		if podutils.IsPodReady(p) {
			c.ready++
			if podutils.IsPodAvailable(p, ds.Spec.MinReadySeconds, metav1.NewTime(now)) {
				c.available++
			}
		}
		if isUpdated(p, hash, generation) {
			c.updated++
		}
	}
	c.unavailable = c.desired - c.available
	return c
}

// shownBy reports whether ds's status already says c and has seen its generation.
func (c counts) shownBy(ds *appsv1.DaemonSet) bool {
	s := ds.Status
	return s.DesiredNumberScheduled == c.desired && s.CurrentNumberScheduled == c.current && s.NumberMisscheduled == c.misscheduled &&
		s.NumberReady == c.ready && s.UpdatedNumberScheduled == c.updated && s.NumberAvailable == c.available &&
		s.NumberUnavailable == c.unavailable && s.ObservedGeneration >= ds.Generation
}

// apply writes c into a status.
func (c counts) apply(s *appsv1.DaemonSetStatus) {
	s.DesiredNumberScheduled, s.CurrentNumberScheduled, s.NumberMisscheduled = c.desired, c.current, c.misscheduled
	s.NumberReady, s.UpdatedNumberScheduled, s.NumberAvailable, s.NumberUnavailable = c.ready, c.updated, c.available, c.unavailable
}
