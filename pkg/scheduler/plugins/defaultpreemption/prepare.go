package defaultpreemption

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
)

// prepare carries out the preemption on the chosen node: every victim not
// already terminating is marked and deleted, with a Preempted event, and pods
// of lower priority nominated to the node lose their nomination, so that they
// look elsewhere rather than wait for room they will not get.
func (pl *DefaultPreemption) prepare(ctx context.Context, c *candidate, preemptor *corev1.Pod) *fw.Status {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var once sync.Once
	var firstErr error
	pl.h.Parallelizer().Until(ctx, len(c.victims), func(i int) {
		victim := c.victims[i]
		if victim.DeletionTimestamp != nil {
			// Its deletion is under way already.
			return
		}
		evicted, err := pl.evict(ctx, preemptor, victim, c.node)
		if err != nil {
			once.Do(func() { firstErr = err; cancel() })
			return
		}
		if evicted {
			pl.h.EventRecorder().Eventf(victim, preemptor, corev1.EventTypeNormal, "Preempted", "Preempting",
				"Preempted by pod %v on node %v", preemptor.UID, c.node)
		}
	})
	if firstErr != nil {
		return fw.AsStatus(firstErr)
	}
	prio := corev1helpers.PodPriority(preemptor)
	for _, pi := range pl.h.NominatedPodsForNode(c.node) {
		if corev1helpers.PodPriority(pi.Pod) >= prio || pi.Pod.Status.NominatedNodeName == "" {
			continue
		}
		// Not worth failing the preemption for: the pod finds out on its next try.
		if err := pl.clearNomination(ctx, pi.Pod); err != nil && !apierrors.IsNotFound(err) {
			slog.Default().Error("clear nominated node of lower-priority pod", "pod", pi.Pod.Namespace+"/"+pi.Pod.Name, "node", c.node, "err", err)
		}
	}
	return nil
}

// evictThroughAPI gives the victim upstream's DisruptionTarget condition, then
// deletes it (with its own grace period, as upstream). It is false, with no
// error, when the victim is gone already.
func (pl *DefaultPreemption) evictThroughAPI(ctx context.Context, preemptor, victim *corev1.Pod, node string) (bool, error) {
	status := victim.Status.DeepCopy()
	cond := corev1.PodCondition{
		Type:               corev1.DisruptionTarget,
		Status:             corev1.ConditionTrue,
		Reason:             corev1.PodReasonPreemptionByScheduler,
		Message:            fmt.Sprintf("%s: preempting to accommodate a higher priority pod", preemptor.Spec.SchedulerName),
		ObservedGeneration: victim.Generation,
	}
	if setCondition(status, cond, metav1.NewTime(pl.now())) {
		if err := pl.patchStatus(ctx, victim, status); err != nil {
			if apierrors.IsNotFound(err) {
				return false, nil
			}
			return false, fmt.Errorf("mark pod %s/%s as preempted: %w", victim.Namespace, victim.Name, err)
		}
	}
	uid := victim.UID
	err := pl.h.ClientSet().CoreV1().Pods(victim.Namespace).Delete(ctx, victim.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	if apierrors.IsNotFound(err) || (apierrors.IsConflict(err) && uid != "") {
		// Gone, or replaced by another pod of the same name.
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("preempt pod %s/%s on node %s: %w", victim.Namespace, victim.Name, node, err)
	}
	return true, nil
}

// clearNominationThroughAPI removes the pod's status.nominatedNodeName.
func (pl *DefaultPreemption) clearNominationThroughAPI(ctx context.Context, pod *corev1.Pod) error {
	status := pod.Status.DeepCopy()
	status.NominatedNodeName = ""
	return pl.patchStatus(ctx, pod, status)
}

// patchStatus sends the difference between the pod's status and status as a
// strategic merge patch of the status subresource.
func (pl *DefaultPreemption) patchStatus(ctx context.Context, pod *corev1.Pod, status *corev1.PodStatus) error {
	oldJSON, err := json.Marshal(corev1.Pod{Status: pod.Status})
	if err != nil {
		return err
	}
	newJSON, err := json.Marshal(corev1.Pod{Status: *status})
	if err != nil {
		return err
	}
	patch, err := strategicpatch.CreateTwoWayMergePatch(oldJSON, newJSON, corev1.Pod{})
	if err != nil {
		return fmt.Errorf("status patch for pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	if string(patch) == "{}" {
		return nil
	}
	_, err = pl.h.ClientSet().CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
	return err
}

// setCondition puts cond into status, keeping the transition time when the
// condition's status does not change; false when an equal one is there.
func setCondition(status *corev1.PodStatus, cond corev1.PodCondition, now metav1.Time) bool {
	cond.LastTransitionTime = now
	for i := range status.Conditions {
		old := &status.Conditions[i]
		if old.Type != cond.Type {
			continue
		}
		if old.Status == cond.Status && old.Reason == cond.Reason && old.Message == cond.Message && old.ObservedGeneration == cond.ObservedGeneration {
			return false
		}
		if old.Status == cond.Status {
			cond.LastTransitionTime = old.LastTransitionTime
		}
		*old = cond
		return true
	}
	status.Conditions = append(status.Conditions, cond)
	return true
}
