package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"

	fw "github.com/minik8s/minik8s/pkg/scheduler/framework"
	"github.com/minik8s/minik8s/pkg/scheduler/profile"
)

// Reasons of the PodScheduled condition, as upstream's.
const (
	reasonUnschedulable  = "Unschedulable"
	reasonSchedulerError = "SchedulerError"
	// maxMessageLength keeps events within the API's limit on notes.
	maxMessageLength = 1024
)

// clearNomination is the nomination of a pod that failed after a node was
// chosen for it (Reserve, Permit, binding): none, as upstream clears it.
var clearNomination = &fw.PostFilterResult{}

// fail records a failed attempt — event, metrics, condition, nomination — and
// requeues the pod. nominating nil leaves the pod's nominated node alone; else
// its NominatedNodeName replaces it ("" clears it).
func (s *Scheduler) fail(ctx context.Context, prof *profile.Profile, qpi *fw.QueuedPodInfo, err error, diag *fw.Diagnosis,
	nominating *fw.PostFilterResult, start time.Time, cycle int64) {
	pod := qpi.Pod
	reason := reasonSchedulerError
	var fitErr *fw.FitError
	var rej *rejection
	switch {
	case errors.As(err, &fitErr), errors.As(err, &rej), errors.Is(err, ErrNoNodesAvailable):
		reason = reasonUnschedulable
		qpi.ConsecutiveErrors = 0
	default:
		qpi.ConsecutiveErrors++
		s.log.Error("error scheduling pod; retrying", "pod", klogKey(pod), "err", err)
	}
	result := "unschedulable"
	if reason == reasonSchedulerError {
		result = "error"
	}
	s.metrics.attempt(result, prof.Name(), time.Since(start).Seconds())

	qpi.UnschedulablePlugins, qpi.PendingPlugins = nil, nil
	if diag != nil {
		if len(diag.UnschedulablePlugins) > 0 {
			qpi.UnschedulablePlugins = sets.KeySet(diag.UnschedulablePlugins)
		}
		if len(diag.PendingPlugins) > 0 {
			qpi.PendingPlugins = sets.KeySet(diag.PendingPlugins)
		}
	}
	// The pod may be gone or bound by now: then there is nothing to retry, and
	// no room to hold for it. The nomination is recorded at once, not when the
	// status patch comes back, so the next cycles already leave its room free.
	latest := pod
	if cur, gerr := s.podLister.Pods(pod.Namespace).Get(pod.Name); gerr == nil && cur.UID == pod.UID && cur.Spec.NodeName == "" {
		latest = cur
		s.queue.AddUnschedulable(ctx, qpi, cycle)
		if nominating != nil {
			s.queue.Nominator().Nominate(cur, nominating.NominatedNodeName)
		}
	} else {
		s.queue.Done(pod.UID)
	}

	msg := truncate(err.Error())
	prof.EventRecorder().Eventf(pod, nil, corev1.EventTypeWarning, "FailedScheduling", "Scheduling", msg)
	cond := corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: reason, Message: err.Error()}
	if perr := s.patchPodStatus(ctx, latest, cond, nominating); perr != nil && !apierrors.IsNotFound(perr) {
		s.log.Error("update pod condition", "pod", klogKey(pod), "err", perr)
	}
}

func truncate(msg string) string {
	const suffix = " ..."
	if len(msg) <= maxMessageLength {
		return msg
	}
	return msg[:maxMessageLength-len(suffix)] + suffix
}

// patchPodStatus sets the PodScheduled condition and, when nominating says so,
// the nominated node (cleared when its name is empty), skipping the call when
// nothing would change.
func (s *Scheduler) patchPodStatus(ctx context.Context, pod *corev1.Pod, cond corev1.PodCondition, nominating *fw.PostFilterResult) error {
	var old *corev1.PodCondition
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == corev1.PodScheduled {
			old = &pod.Status.Conditions[i]
		}
	}
	sameCond := old != nil && old.Status == cond.Status && old.Reason == cond.Reason && old.Message == cond.Message
	setNominated := nominating != nil && nominating.NominatedNodeName != pod.Status.NominatedNodeName
	if sameCond && !setNominated {
		return nil
	}
	if old != nil && old.Status == cond.Status {
		cond.LastTransitionTime = old.LastTransitionTime
	} else {
		cond.LastTransitionTime = metav1.NewTime(time.Now())
	}
	cond.LastProbeTime = metav1.Time{}
	status := map[string]interface{}{"conditions": []corev1.PodCondition{cond}}
	if setNominated {
		if nominating.NominatedNodeName == "" {
			status["nominatedNodeName"] = nil // a null in a merge patch removes the field
		} else {
			status["nominatedNodeName"] = nominating.NominatedNodeName
		}
	}
	patch, err := json.Marshal(map[string]interface{}{
		"metadata": map[string]interface{}{"uid": pod.UID},
		"status":   status,
	})
	if err != nil {
		return err
	}
	_, err = s.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
	return err
}
