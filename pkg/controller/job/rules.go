package job

import (
	"slices"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

func isIndexed(j *batchv1.Job) bool {
	return j.Spec.CompletionMode != nil && *j.Spec.CompletionMode == batchv1.IndexedCompletion
}

func isSuspended(j *batchv1.Job) bool { return j.Spec.Suspend != nil && *j.Spec.Suspend }

func hasBackoffLimitPerIndex(j *batchv1.Job) bool { return j.Spec.BackoffLimitPerIndex != nil }

// managedElsewhere names the controller a job's managedBy hands it to, if
// that is not this one.
func managedElsewhere(j *batchv1.Job) (string, bool) {
	if m := j.Spec.ManagedBy; m != nil && *m != batchv1.JobControllerName {
		return *m, true
	}
	return "", false
}

// onlyReplaceFailed: a terminating pod is replaced only once it has failed
// (podReplacementPolicy Failed, which a podFailurePolicy implies).
func onlyReplaceFailed(j *batchv1.Job) bool {
	return (j.Spec.PodReplacementPolicy != nil && *j.Spec.PodReplacementPolicy == batchv1.Failed) || j.Spec.PodFailurePolicy != nil
}

func hasTrackingFinalizer(p *corev1.Pod) bool {
	return slices.Contains(p.Finalizers, batchv1.JobTrackingFinalizer)
}

func isTerminal(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

// isTerminating: being deleted and not finished yet.
func isTerminating(p *corev1.Pod) bool { return p.DeletionTimestamp != nil && !isTerminal(p) }

// isPodFailed: Failed, or (unless only failed pods are replaced) deleted
// before it succeeded, which covers pods that never reach a phase of their own.
func isPodFailed(p *corev1.Pod, j *batchv1.Job) bool {
	if p.Status.Phase == corev1.PodFailed {
		return true
	}
	return !onlyReplaceFailed(j) && p.DeletionTimestamp != nil && p.Status.Phase != corev1.PodSucceeded
}

// pastBackoffLimitOnFailure: with restartPolicy OnFailure failures are
// container restarts, counted over the running and pending pods.
func pastBackoffLimitOnFailure(j *batchv1.Job, pods []*corev1.Pod) bool {
	if j.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyOnFailure {
		return false
	}
	var restarts int32
	for _, p := range pods {
		if p.Status.Phase != corev1.PodRunning && p.Status.Phase != corev1.PodPending {
			continue
		}
		for _, s := range p.Status.InitContainerStatuses {
			restarts += s.RestartCount
		}
		for _, s := range p.Status.ContainerStatuses {
			restarts += s.RestartCount
		}
	}
	if limit := *j.Spec.BackoffLimit; limit > 0 {
		return restarts >= limit
	}
	return restarts > 0
}

// activeDeadlineLeft is the time a started, unsuspended job with
// activeDeadlineSeconds has left; ok is false when no deadline runs.
func activeDeadlineLeft(j *batchv1.Job, now time.Time) (left time.Duration, ok bool) {
	if j.Spec.ActiveDeadlineSeconds == nil || j.Status.StartTime == nil || isSuspended(j) {
		return 0, false
	}
	return time.Duration(*j.Spec.ActiveDeadlineSeconds)*time.Second - now.Sub(j.Status.StartTime.Time), true
}

// wantActive is how many pods should run: parallelism, but no more than the
// completions still missing; a job without completions keeps what runs once
// one pod succeeded.
func wantActive(j *batchv1.Job, succeeded, active int32) int32 {
	parallelism := *j.Spec.Parallelism
	if j.Spec.Completions == nil {
		if succeeded > 0 {
			return active
		}
		return parallelism
	}
	return max(min(*j.Spec.Completions-succeeded, parallelism), 0)
}

// jobComplete: completions succeeded (or, without completions, one did) and
// nothing runs any more.
func jobComplete(j *batchv1.Job, succeeded, active int32) bool {
	if active != 0 {
		return false
	}
	if j.Spec.Completions == nil {
		return succeeded > 0
	}
	return succeeded >= *j.Spec.Completions
}
