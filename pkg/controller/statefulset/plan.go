package statefulset

import (
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/kubectl/pkg/util/podutils"
)

// stepKind is one write the controller makes for one pod.
type stepKind int

const (
	// createPod creates the pod's claims, then the pod.
	createPod stepKind = iota
	// deletePod deletes the pod (failed, scaled away, or to be updated).
	deletePod
	// updatePod brings the pod's identity, volumes and claim owners back in line.
	updatePod
	// createClaims creates the claims a pending pod is missing.
	createClaims
	// fixClaims sets the owners of a scaled-away pod's claims for the retention policy.
	fixClaims
)

func (k stepKind) String() string {
	return [...]string{"create", "delete", "update", "create claims", "fix claims"}[k]
}

type step struct {
	kind stepKind
	pod  *corev1.Pod
}

// phase is a list of steps done in order (OrderedReady) or in slow-start
// batches (Parallel); a failed step ends the sync after its phase.
type phase []step

// plan is everything one sync does, in order.
type plan struct {
	phases []phase
	// updateDeletions counts pods deleted to be updated: they no longer count as current.
	updateDeletions int
	// waiting says what stops the set from going further this time ("" if nothing).
	waiting string
}

func (p *plan) add(ph phase) {
	if len(ph) > 0 {
		p.phases = append(p.phases, ph)
	}
}

// input is what a sync decides from.
type input struct {
	set *appsv1.StatefulSet
	// currentSet and updateSet are set with the templates of its current and update revisions.
	currentSet, updateSet           *appsv1.StatefulSet
	currentRevision, updateRevision string
	// pods are the pods the set owns, of any phase.
	pods   []*corev1.Pod
	claims claimLookup
	now    time.Time
	// maxUnavailable turns on rollingUpdate.maxUnavailable (upstream's
	// MaxUnavailableStatefulSet feature gate, alpha and off in v1.34: without
	// it pods are updated one at a time).
	maxUnavailable bool
}

// decide is the StatefulSet controller's core: which pods to create, fix,
// delete and replace, in which order, under the set's pod management policy
// and update strategy. It reads nothing but its input.
//
// OrderedReady creates pods one at a time in ordinal order, each once the one
// before is Running and Ready (and available for minReadySeconds), and deletes
// surplus pods one at a time from the highest ordinal once all others are
// healthy. Parallel creates and deletes them all at once. A RollingUpdate then
// replaces pods from the highest ordinal down to the partition, one at a time,
// each once the one above is available again; OnDelete leaves that to the user.
func decide(in input) plan {
	set := in.set
	start := startOrdinal(set)
	minReady := set.Spec.MinReadySeconds
	monotonic := set.Spec.PodManagementPolicy != appsv1.ParallelPodManagement

	slots := make([]*corev1.Pod, replicas(set))
	var condemned []*corev1.Pod
	for _, p := range in.pods {
		switch n := ordinalOf(p); {
		case inRange(set, p):
			slots[n-start] = p
		case n >= 0:
			condemned = append(condemned, p)
		}
	}
	missing := map[*corev1.Pod]bool{}
	for i := range slots {
		if slots[i] == nil {
			slots[i] = versionedPod(in, start+i)
			missing[slots[i]] = true
		}
	}
	sort.SliceStable(condemned, func(i, j int) bool { return ordinalOf(condemned[i]) > ordinalOf(condemned[j]) })

	unavailable := func(p *corev1.Pod) bool {
		return !podutils.IsPodAvailable(p, minReady, metav1.NewTime(in.now)) || p.DeletionTimestamp != nil
	}
	var firstUnhealthy *corev1.Pod
	for _, p := range slots {
		if unavailable(p) {
			firstUnhealthy = p
			break
		}
	}
	for i := len(condemned) - 1; i >= 0 && firstUnhealthy == nil; i-- {
		if unavailable(condemned[i]) {
			firstUnhealthy = condemned[i]
		}
	}

	var out plan
	if set.DeletionTimestamp != nil {
		return out // a set being deleted only reports its status
	}

	// The pods the set keeps, in ordinal order.
	var ph phase
	for _, p := range slots {
		steps, wait := replicaSteps(in, p, missing[p], monotonic)
		ph = append(ph, steps...)
		if wait != "" && monotonic {
			out.add(ph)
			out.waiting = wait
			return out
		}
	}
	out.add(ph)

	// Claims of pods scaled away get their owners for whenScaled.
	ph = nil
	for _, p := range condemned {
		if !claimsMatchPolicy(set, p, in.claims) {
			ph = append(ph, step{fixClaims, p})
		}
	}
	out.add(ph)

	// Pods scaled away, highest ordinal first.
	ph = nil
	for _, p := range condemned {
		if p.DeletionTimestamp != nil {
			if monotonic {
				out.add(ph)
				out.waiting = "pod " + p.Name + " to terminate prior to scale down"
				return out
			}
			continue
		}
		if monotonic && p != firstUnhealthy && (!runningAndReady(p) || unavailable(p)) {
			out.add(ph)
			out.waiting = "pod " + firstUnhealthy.Name + " to be Running, Ready and available prior to scale down"
			return out
		}
		ph = append(ph, step{deletePod, p})
		if monotonic {
			out.add(ph)
			out.waiting = "pod " + p.Name + " to terminate for scale down"
			return out
		}
	}
	out.add(ph)

	if set.Spec.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType {
		return out // pods change revision when the user deletes them
	}
	partition := 0
	if ru := set.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
		partition = int(*ru.Partition)
	}
	if in.maxUnavailable {
		rollWithBudget(&out, in, slots, partition, unavailable)
		return out
	}
	for i := len(slots) - 1; i >= partition; i-- {
		p := slots[i]
		if revisionOf(p) != in.updateRevision && p.DeletionTimestamp == nil {
			out.add(phase{{deletePod, p}})
			out.updateDeletions++
			out.waiting = "pod " + p.Name + " to be replaced for the update"
			return out
		}
		if unavailable(p) {
			out.waiting = "pod " + p.Name + " to be available after the update"
			return out
		}
	}
	return out
}

// replicaSteps is what one pod the set keeps needs, and what it waits for
// before the next ordinal may go ahead ("" if nothing).
func replicaSteps(in input, p *corev1.Pod, missing, monotonic bool) ([]step, string) {
	set := in.set
	if p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded {
		// Whatever its exit code, a stopped pod is replaced: deleted now,
		// created again once it is gone.
		if p.DeletionTimestamp == nil {
			return []step{{deletePod, p}}, "pod " + p.Name + " to be replaced"
		}
		return nil, "pod " + p.Name + " to be replaced"
	}
	if missing {
		if claimIsStale(set, p, in.claims) {
			return nil, "a claim of an earlier pod " + p.Name + " to be deleted"
		}
		return []step{{createPod, p}}, "pod " + p.Name + " to be Running and Ready"
	}
	var steps []step
	if p.Status.Phase == corev1.PodPending && len(set.Spec.VolumeClaimTemplates) > 0 {
		steps = append(steps, step{createClaims, p})
	}
	if monotonic {
		switch {
		case p.DeletionTimestamp != nil:
			return steps, "pod " + p.Name + " to terminate"
		case !runningAndReady(p):
			return steps, "pod " + p.Name + " to be Running and Ready"
		case !podutils.IsPodAvailable(p, set.Spec.MinReadySeconds, metav1.NewTime(in.now)):
			return steps, "pod " + p.Name + " to be available"
		}
	}
	if !identityMatches(set, p) || !storageMatches(set, p) || !claimsMatchPolicy(set, p, in.claims) {
		steps = append(steps, step{updatePod, p})
	}
	return steps, ""
}

// rollWithBudget replaces up to maxUnavailable pods at once, highest ordinal
// first, counting pods already unavailable against the budget.
func rollWithBudget(out *plan, in input, slots []*corev1.Pod, partition int, unavailable func(*corev1.Pod) bool) {
	budget := maxUnavailable(in.set, len(slots))
	down := 0
	for _, p := range slots {
		if unavailable(p) {
			down++
		}
	}
	if down >= budget {
		out.waiting = "unavailable pods to come back within maxUnavailable"
		return
	}
	var ph phase
	for i := len(slots) - 1; i >= partition && len(ph) < budget-down; i-- {
		if p := slots[i]; revisionOf(p) != in.updateRevision && p.DeletionTimestamp == nil {
			ph = append(ph, step{deletePod, p})
			out.updateDeletions++
		}
	}
	out.add(ph)
}

// maxUnavailable is rollingUpdate.maxUnavailable of replicas (percentages round
// down), at least 1, and 1 when unset.
func maxUnavailable(set *appsv1.StatefulSet, replicas int) int {
	v := intstr.FromInt32(1)
	if ru := set.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.MaxUnavailable != nil {
		v = *ru.MaxUnavailable
	}
	n, err := intstr.GetScaledValueFromIntOrPercent(&v, replicas, false)
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// versionedPod is the pod of ordinal n at the revision it should have: the
// current one below the partition, the update revision from it up.
func versionedPod(in input, n int) *corev1.Pod {
	cur := in.currentSet
	ru := cur.Spec.UpdateStrategy.RollingUpdate
	start := startOrdinal(cur)
	// Upstream's rule, precedence included: a RollingUpdate set without
	// rollingUpdate settings keeps the current revision for the pods counted
	// current; a set with a partition keeps it below the partition.
	if (cur.Spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType && ru == nil && n < start+int(cur.Status.CurrentReplicas)) ||
		(ru != nil && ru.Partition != nil && n < start+int(*ru.Partition)) {
		return newPod(cur, n, in.currentRevision)
	}
	return newPod(in.updateSet, n, in.updateRevision)
}

func runningAndReady(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodRunning && podutils.IsPodReady(p)
}
