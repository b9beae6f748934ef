package replicaset

import (
	"math"
	"sort"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/kubectl/pkg/util/podutils"

	"github.com/minik8s/minik8s/pkg/controller/podcontrol"
)

// deletionCostAnnotation lets users say which pods to keep: lower cost goes first.
const deletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"

// podsToDelete picks the n pods to delete first, as upstream ranks them:
//  1. not yet on a node before on a node;
//  2. Pending before Unknown before Running;
//  3. not ready before ready;
//  4. lower pod-deletion-cost before higher;
//  5. more pods of the same owner on its node before fewer (related are all the
//     pods of the controller's sibling ReplicaSets, which counts them);
//  6. ready for less time before more (by powers of two of the time, so similar
//     pods compare equal);
//  7. more container restarts before fewer;
//  8. newer before older (again by powers of two).
//
// Ties at 6 and 8 go by UID, a stable but arbitrary order.
func podsToDelete(pods, related []*corev1.Pod, n int, now time.Time) []*corev1.Pod {
	if n >= len(pods) {
		return pods
	}
	onNode := map[string]int{}
	for _, p := range related {
		if podcontrol.IsActive(p) {
			onNode[p.Spec.NodeName]++
		}
	}
	ranked := make([]rankedPod, len(pods))
	for i, p := range pods {
		ranked[i] = rankedPod{pod: p, colocated: onNode[p.Spec.NodeName]}
	}
	sort.SliceStable(ranked, func(i, j int) bool { return deleteBefore(ranked[i], ranked[j], now) })
	out := make([]*corev1.Pod, n)
	for i := range out {
		out[i] = ranked[i].pod
	}
	return out
}

type rankedPod struct {
	pod       *corev1.Pod
	colocated int
}

var phaseOrder = map[corev1.PodPhase]int{corev1.PodPending: 0, corev1.PodUnknown: 1, corev1.PodRunning: 2}

// deleteBefore reports whether a should be deleted before b.
func deleteBefore(a, b rankedPod, now time.Time) bool {
	pa, pb := a.pod, b.pod
	if (pa.Spec.NodeName == "") != (pb.Spec.NodeName == "") {
		return pa.Spec.NodeName == ""
	}
	if oa, ob := phaseOrder[pa.Status.Phase], phaseOrder[pb.Status.Phase]; oa != ob {
		return oa < ob
	}
	ra, rb := podutils.IsPodReady(pa), podutils.IsPodReady(pb)
	if ra != rb {
		return !ra
	}
	if ca, cb := deletionCost(pa), deletionCost(pb); ca != cb {
		return ca < cb
	}
	if a.colocated != b.colocated {
		return a.colocated > b.colocated
	}
	if ra && rb {
		ta, tb := readySince(pa), readySince(pb)
		if !ta.Equal(tb) {
			return newerFirst(ta, tb, pa, pb, now)
		}
	}
	if xa, xb := maxRestarts(pa), maxRestarts(pb); xa != xb {
		return xa > xb
	}
	ca, cb := pa.CreationTimestamp.Time, pb.CreationTimestamp.Time
	if !ca.Equal(cb) {
		return newerFirst(ca, cb, pa, pb, now)
	}
	return false
}

// newerFirst orders two different timestamps for deletion: an unset time
// first, then the later one, compared by the power of two of its age so that
// pods of a similar age are equal and tie by UID.
func newerFirst(ta, tb time.Time, pa, pb *corev1.Pod, now time.Time) bool {
	if ta.IsZero() || tb.IsZero() {
		return ta.IsZero()
	}
	if now.IsZero() {
		return ta.After(tb)
	}
	if d := logBucket(now.Sub(ta)) - logBucket(now.Sub(tb)); d != 0 {
		return d < 0
	}
	return pa.UID < pb.UID
}

func logBucket(d time.Duration) int64 {
	if d <= 0 {
		return -1
	}
	return int64(math.Log2(float64(d)))
}

func readySince(p *corev1.Pod) time.Time {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return c.LastTransitionTime.Time
		}
	}
	return time.Time{}
}

func maxRestarts(p *corev1.Pod) int32 {
	var m int32
	for _, c := range p.Status.ContainerStatuses {
		m = max(m, c.RestartCount)
	}
	return m
}

// deletionCost reads the pod-deletion-cost annotation; a missing or malformed
// one counts as 0.
func deletionCost(p *corev1.Pod) int32 {
	v, ok := p.Annotations[deletionCostAnnotation]
	if !ok {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0
	}
	return int32(n)
}

// nextAvailabilityCheck is when the first ready but not yet available pod
// becomes available (minReadySeconds after it turned ready), if any.
func nextAvailabilityCheck(pods []*corev1.Pod, minReadySeconds int32, now time.Time) (time.Duration, bool) {
	if minReadySeconds <= 0 {
		return 0, false
	}
	var best time.Duration
	found := false
	for _, p := range pods {
		since := readySince(p)
		if since.IsZero() {
			continue
		}
		if d := since.Add(time.Duration(minReadySeconds) * time.Second).Sub(now); d > 0 && (!found || d < best) {
			best, found = d, true
		}
	}
	return best, found
}

// isAvailable is upstream's rule with an injected clock.
func isAvailable(p *corev1.Pod, minReadySeconds int32, now time.Time) bool {
	return podutils.IsPodAvailable(p, minReadySeconds, metav1.NewTime(now))
}
