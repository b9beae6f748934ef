package core

import (
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	pdbhelper "k8s.io/component-helpers/apps/poddisruptionbudget"
	"k8s.io/kubectl/pkg/util/podutils"
)

// What pods/eviction decides, as upstream's eviction REST storage: which pods
// may go without asking their PodDisruptionBudget, which budget covers a pod,
// and whether the budget allows one more disruption. The API server does the
// reads and writes around these decisions.

// MaxDisruptedPods caps the approvals a budget may hold that the disruption
// controller has not confirmed; beyond it evictions are refused.
const MaxDisruptedPods = 2000

// EvictionDisruptionReason and EvictionDisruptionMessage are the
// DisruptionTarget condition an evicted pod gets.
const (
	EvictionDisruptionReason  = "EvictionByEvictionAPI"
	EvictionDisruptionMessage = "Eviction API: evicting"
)

var (
	evictionKind = policyv1.SchemeGroupVersion.WithKind("Eviction").GroupKind()
	pdbResource  = schema.GroupResource{Group: "policy", Resource: "poddisruptionbudget"}
)

// ValidateEviction checks an eviction against the pod named in the URL.
func ValidateEviction(ev *policyv1.Eviction, name string) error {
	if ev.Name != name {
		return apierrors.NewBadRequest("name in URL does not match name in Eviction object")
	}
	if o := ev.DeleteOptions; o != nil && o.IgnoreStoreReadErrorWithClusterBreakingPotential != nil && *o.IgnoreStoreReadErrorWithClusterBreakingPotential {
		return apierrors.NewInvalid(evictionKind, name, field.ErrorList{field.Invalid(
			field.NewPath("deleteOptions", "ignoreStoreReadErrorWithClusterBreakingPotential"), true, "can not be set for pod eviction, try after removing the option")})
	}
	return nil
}

// EvictionDeleteOptions merges the request's dryRun with the eviction's own
// delete options; both given and different is an error.
func EvictionDeleteOptions(ev *policyv1.Eviction, requestDryRun []string) (*metav1.DeleteOptions, error) {
	if ev.DeleteOptions == nil {
		return &metav1.DeleteOptions{DryRun: requestDryRun}, nil
	}
	opts := ev.DeleteOptions.DeepCopy()
	switch {
	case len(opts.DryRun) == 0:
		opts.DryRun = requestDryRun
	case len(requestDryRun) > 0 && !reflect.DeepEqual(opts.DryRun, requestDryRun):
		return nil, fmt.Errorf("Non-matching dry-run options in request and content: %v and %v", requestDryRun, opts.DryRun)
	}
	return opts, nil
}

// EvictionSkipsBudget reports whether a pod may be deleted without asking its
// budget: one that finished, has not started (Pending) or is already going has
// disrupted nothing that is running.
func EvictionSkipsBudget(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed ||
		pod.Status.Phase == corev1.PodPending || pod.DeletionTimestamp != nil
}

// EvictionPinsVersion reports whether a deletion that skipped the budget must
// be conditional on the pod not having changed (it might have turned Ready
// meanwhile); terminal and deleting pods cannot turn Ready.
func EvictionPinsVersion(pod *corev1.Pod) bool {
	return !(pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed || pod.DeletionTimestamp != nil)
}

// BudgetsCovering returns the budgets whose selector matches a pod, by name.
func BudgetsCovering(pdbs []*policyv1.PodDisruptionBudget, pod *corev1.Pod) []*policyv1.PodDisruptionBudget {
	var out []*policyv1.PodDisruptionBudget
	for _, pdb := range pdbs {
		if pdb.Namespace != pod.Namespace {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err != nil || !sel.Matches(labels.Set(pod.Labels)) {
			continue
		}
		out = append(out, pdb)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// MultipleBudgetsStatus is upstream's answer to evicting a pod that more
// than one budget covers (a failure Status carried by a 201).
func MultipleBudgetsStatus() *metav1.Status {
	return &metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusFailure,
		Message: "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.", Code: http.StatusInternalServerError}
}

// UnhealthyPodMayGo reports whether a pod that is not Ready may be evicted
// without spending the budget: always under the AlwaysAllow policy, and under
// IfHealthyBudget (the default) while the budget has all the healthy pods it
// wants.
func UnhealthyPodMayGo(pdb *policyv1.PodDisruptionBudget, pod *corev1.Pod) bool {
	if podutils.IsPodReady(pod) {
		return false
	}
	if p := pdb.Spec.UnhealthyPodEvictionPolicy; p != nil && *p == policyv1.AlwaysAllow {
		return true
	}
	return pdb.Status.CurrentHealthy >= pdb.Status.DesiredHealthy && pdb.Status.DesiredHealthy > 0
}

// BudgetBusy is the 429 for a budget whose status the disruption controller
// has not caught up with (or an eviction racing a pod turning Ready).
func BudgetBusy(name string) *apierrors.StatusError {
	err := apierrors.NewTooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 10)
	err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{Type: policyv1.DisruptionBudgetCause,
		Message: fmt.Sprintf("The disruption budget %s is still being processed by the server.", name)})
	return err
}

// SpendBudget takes one disruption from a budget for a pod, returning the
// budget as it must be stored (nil for a dry run, which stores nothing), or
// upstream's refusal: 429 when the budget's status is stale or allows no
// disruption, 403 when it is corrupt or holds too many unconfirmed approvals.
func SpendBudget(pdb *policyv1.PodDisruptionBudget, pod string, now time.Time, dryRun bool) (*policyv1.PodDisruptionBudget, error) {
	switch {
	case pdb.Status.ObservedGeneration < pdb.Generation:
		return nil, BudgetBusy(pdb.Name)
	case pdb.Status.DisruptionsAllowed < 0:
		return nil, apierrors.NewForbidden(pdbResource, pdb.Name, fmt.Errorf("pdb disruptions allowed is negative"))
	case len(pdb.Status.DisruptedPods) > MaxDisruptedPods:
		return nil, apierrors.NewForbidden(pdbResource, pdb.Name, fmt.Errorf("DisruptedPods map too big - too many evictions not confirmed by PDB controller"))
	case pdb.Status.DisruptionsAllowed == 0:
		err := apierrors.NewTooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 0)
		err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{Type: policyv1.DisruptionBudgetCause,
			Message: fmt.Sprintf("The disruption budget %s needs %d healthy pods and has %d currently", pdb.Name, pdb.Status.DesiredHealthy, pdb.Status.CurrentHealthy)})
		return nil, err
	}
	if dryRun {
		return nil, nil
	}
	out := pdb.DeepCopy()
	out.Status.DisruptionsAllowed--
	if out.Status.DisruptionsAllowed == 0 {
		pdbhelper.UpdateDisruptionAllowedCondition(out)
	}
	if out.Status.DisruptedPods == nil {
		out.Status.DisruptedPods = map[string]metav1.Time{}
	}
	// The disruption controller counts the pod as gone until it is (or two minutes pass).
	out.Status.DisruptedPods[pod] = metav1.NewTime(now)
	return out, nil
}

// SetEvictionCondition gives a pod the DisruptionTarget condition of an
// eviction; it reports whether anything changed.
func SetEvictionCondition(pod *corev1.Pod, now time.Time) bool {
	want := corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: EvictionDisruptionReason,
		Message: EvictionDisruptionMessage}
	for i := range pod.Status.Conditions {
		c := &pod.Status.Conditions[i]
		if c.Type != corev1.DisruptionTarget {
			continue
		}
		if c.Status == want.Status && c.Reason == want.Reason && c.Message == want.Message {
			return false
		}
		want.LastTransitionTime = c.LastTransitionTime
		if c.Status != want.Status {
			want.LastTransitionTime = metav1.NewTime(now)
		}
		*c = want
		return true
	}
	want.LastTransitionTime = metav1.NewTime(now)
	pod.Status.Conditions = append(pod.Status.Conditions, want)
	return true
}
