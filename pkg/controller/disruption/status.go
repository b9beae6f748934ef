package disruption

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	pdbhelper "k8s.io/component-helpers/apps/poddisruptionbudget"
	"k8s.io/kubectl/pkg/util/podutils"
)

// DeletionTimeout is how long a pod the eviction API approved may take to be
// marked deleted; after it, the pod counts as healthy again (upstream's value).
const DeletionTimeout = 2 * time.Minute

// owner is a pod's controller and the number of pods it wants.
type owner struct {
	uid   types.UID
	scale int32
}

// ownerFinder returns the controller of a pod and its scale; nil when the
// reference names nothing this finder knows.
type ownerFinder func(ref *metav1.OwnerReference, namespace string) (*owner, error)

// expectedPods computes how many pods a budget expects and how many of them
// must be healthy. An integer minAvailable counts the selected pods; a
// percentage or maxUnavailable counts what the pods' controllers want, summed
// over the distinct controllers (pods without one are returned as unmanaged).
func expectedPods(pdb *policyv1.PodDisruptionBudget, pods []*corev1.Pod, find ownerFinder) (expected, desired int32, unmanaged []string, err error) {
	switch {
	case pdb.Spec.MaxUnavailable != nil:
		expected, unmanaged, err = controllersScale(pods, find)
		if err != nil {
			return 0, 0, unmanaged, err
		}
		maxUnavailable, err := intstr.GetScaledValueFromIntOrPercent(pdb.Spec.MaxUnavailable, int(expected), true)
		if err != nil {
			return 0, 0, unmanaged, err
		}
		desired = max(expected-int32(maxUnavailable), 0)
	case pdb.Spec.MinAvailable != nil && pdb.Spec.MinAvailable.Type == intstr.Int:
		desired = pdb.Spec.MinAvailable.IntVal
		expected = int32(len(pods))
	case pdb.Spec.MinAvailable != nil:
		expected, unmanaged, err = controllersScale(pods, find)
		if err != nil {
			return 0, 0, unmanaged, err
		}
		minAvailable, err := intstr.GetScaledValueFromIntOrPercent(pdb.Spec.MinAvailable, int(expected), true)
		if err != nil {
			return 0, 0, unmanaged, err
		}
		desired = int32(minAvailable)
	}
	return expected, desired, unmanaged, nil
}

// controllersScale sums the scale of the controllers of the pods.
func controllersScale(pods []*corev1.Pod, find ownerFinder) (int32, []string, error) {
	scales := map[types.UID]int32{}
	var unmanaged []string
	for _, p := range pods {
		ref := metav1.GetControllerOfNoCopy(p)
		if ref == nil {
			unmanaged = append(unmanaged, p.Name)
			continue
		}
		if _, seen := scales[ref.UID]; seen {
			continue
		}
		o, err := find(ref, p.Namespace)
		if err != nil {
			return 0, unmanaged, err
		}
		if o == nil {
			return 0, unmanaged, fmt.Errorf("found no controllers for pod %q", p.Name)
		}
		scales[o.uid] = o.scale
	}
	var total int32
	for _, s := range scales {
		total += s
	}
	return total, unmanaged, nil
}

// countHealthy counts the Ready pods not being deleted and not about to be
// (approved by the eviction API less than DeletionTimeout ago).
func countHealthy(pods []*corev1.Pod, disrupted map[string]metav1.Time, now time.Time) int32 {
	var n int32
	for _, p := range pods {
		if p.DeletionTimestamp != nil {
			continue
		}
		if at, ok := disrupted[p.Name]; ok && at.Add(DeletionTimeout).After(now) {
			continue
		}
		if podutils.IsPodReady(p) {
			n++
		}
	}
	return n
}

// pruneDisrupted keeps the eviction approvals still waiting for their pod's
// deletion. Approvals for pods that are gone or being deleted are dropped;
// expired ones too, and their pods returned (they were not deleted after all).
// recheck is when the next kept approval expires.
func pruneDisrupted(pods []*corev1.Pod, approved map[string]metav1.Time, now time.Time) (kept map[string]metav1.Time, expired []*corev1.Pod, recheck *time.Time) {
	kept = map[string]metav1.Time{}
	for _, p := range pods {
		if p.DeletionTimestamp != nil {
			continue
		}
		at, ok := approved[p.Name]
		if !ok {
			continue
		}
		due := at.Add(DeletionTimeout)
		if due.Before(now) {
			expired = append(expired, p)
			continue
		}
		if recheck == nil || due.Before(*recheck) {
			recheck = &due
		}
		kept[p.Name] = at
	}
	return kept, expired, recheck
}

// withStatus returns the budget with its status computed from the counts, or
// nil when the status already says so.
func withStatus(pdb *policyv1.PodDisruptionBudget, current, desired, expected int32, disrupted map[string]metav1.Time) *policyv1.PodDisruptionBudget {
	// No disruption while nothing is expected: a budget whose first pods just
	// appeared must not allow one before its status caught up.
	allowed := current - desired
	if expected <= 0 || allowed <= 0 {
		allowed = 0
	}
	st := pdb.Status
	if st.CurrentHealthy == current && st.DesiredHealthy == desired && st.ExpectedPods == expected && st.DisruptionsAllowed == allowed &&
		apiequality.Semantic.DeepEqual(st.DisruptedPods, disrupted) && st.ObservedGeneration == pdb.Generation && pdbhelper.ConditionsAreUpToDate(pdb) {
		return nil
	}
	out := pdb.DeepCopy()
	out.Status = policyv1.PodDisruptionBudgetStatus{
		CurrentHealthy: current, DesiredHealthy: desired, ExpectedPods: expected, DisruptionsAllowed: allowed,
		DisruptedPods: disrupted, ObservedGeneration: pdb.Generation, Conditions: out.Status.Conditions,
	}
	pdbhelper.UpdateDisruptionAllowedCondition(out)
	return out
}
