package job

import (
	"context"
	"fmt"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/utils/ptr"
)

// trackStatus counts finished pods without losing or doubling any, the way
// upstream's finalizer tracking does:
//  1. finished pods still carrying the finalizer go into
//     status.uncountedTerminatedPods (indexed jobs: completedIndexes), and the
//     interim FailureTarget / SuccessCriteriaMet condition is written;
//  2. their finalizers are removed;
//  3. the pods whose finalizer is gone move from the uncounted lists into
//     succeeded/failed;
//  4. once nothing is uncounted or terminating, the job gets its terminal
//     condition, Complete or Failed.
//
// At most MaxUncountedPods are taken per sync, so one huge job cannot starve
// the others; the status update brings the job back for the rest.
func (c *Controller) trackStatus(ctx context.Context, st *state, needsFlush bool, now time.Time) error {
	job := st.job
	indexed := isIndexed(job)
	pods := append([]*corev1.Pod(nil), st.pods...)
	if indexed {
		byIndex(pods) // completed indexes come in order
	}
	withFinalizer := sets.New[types.UID]()
	for _, p := range pods {
		if hasTrackingFinalizer(p) && !st.releasing.Has(p.UID) {
			withFinalizer.Insert(p.UID)
		}
	}
	if moveCounted(&job.Status, withFinalizer) {
		needsFlush = true
	}
	uncounted := job.Status.UncountedTerminatedPods
	var release []*corev1.Pod
	var newIndexes []int
	full := false
	for _, p := range pods {
		if !hasTrackingFinalizer(p) || st.releasing.Has(p.UID) {
			continue // counted in an earlier sync
		}
		failed := isPodFailed(p, job)
		if !st.canRelease(p, failed) {
			continue
		}
		release = append(release, p)
		switch {
		case p.Status.Phase == corev1.PodSucceeded && !st.uncountedFailed.Has(p.UID):
			if indexed {
				if ix := completionIndex(p); validIndex(p, *job.Spec.Completions) && !st.prevSucceeded.has(ix) {
					newIndexes = append(newIndexes, ix)
					needsFlush = true
				}
			} else if !st.uncountedSucceeded.Has(p.UID) {
				uncounted.Succeeded = append(uncounted.Succeeded, p.UID)
				needsFlush = true
			}
		case failed || (st.finished != nil && st.finished.Type != batchv1.JobSuccessCriteriaMet):
			// A job that is failing counts whatever had not finished as failed.
			if st.uncountedFailed.Has(p.UID) || (indexed && !validIndex(p, *job.Spec.Completions)) {
				break
			}
			if matchFailurePolicy(job.Spec.PodFailurePolicy, p).counts() {
				uncounted.Failed = append(uncounted.Failed, p.UID)
				needsFlush = true
			}
		}
		if len(newIndexes)+len(uncounted.Succeeded)+len(uncounted.Failed) >= MaxUncountedPods {
			full = true
			break
		}
	}
	if indexed {
		st.succeededIdx = st.succeededIdx.with(newIndexes...)
		if s := st.succeededIdx.String(); s != job.Status.CompletedIndexes {
			job.Status.CompletedIndexes = s
			needsFlush = true
		}
		job.Status.Succeeded = int32(st.succeededIdx.total())
		var failed *string
		if st.failedIdx != nil {
			failed = ptr.To(st.failedIdx.String())
		}
		if !ptr.Equal(job.Status.FailedIndexes, failed) {
			job.Status.FailedIndexes = failed
			needsFlush = true
		}
	}
	// The interim conditions are written before any finalizer goes, so the
	// decision survives a crash; the final ones wait for the pods.
	if f := st.finished; f != nil && f.Type == batchv1.JobFailureTarget {
		job.Status.Conditions = append(job.Status.Conditions, *f)
		needsFlush = true
		st.finished = newCondition(batchv1.JobFailed, corev1.ConditionTrue, f.Reason, f.Message, now)
	}
	if f := st.finished; f != nil && f.Type == batchv1.JobSuccessCriteriaMet && f.Status == corev1.ConditionTrue {
		if !conditionTrue(job.Status.Conditions, batchv1.JobSuccessCriteriaMet) {
			job.Status.Conditions = append(job.Status.Conditions, *f)
			needsFlush = true
		}
		st.finished = newCondition(batchv1.JobComplete, corev1.ConditionTrue, f.Reason, f.Message, now)
	}
	needsFlush, err := c.flushAndRelease(ctx, st, release, withFinalizer, needsFlush)
	if err != nil {
		return err
	}
	finished := !full && st.enactFinished(now)
	if !needsFlush && !finished {
		return nil
	}
	updated, err := c.updateStatus(ctx, st.job)
	if err != nil {
		return fmt.Errorf("removing uncounted pods from status: %w", err)
	}
	if finished {
		c.recordFinished(updated, st.finished)
		c.finished.Store(updated.UID, struct{}{})
	}
	return nil
}

// canRelease: a pod's finalizer may go once the job is going away or
// decided, the pod succeeded, or the pod failed and is not the one an index
// keeps until its replacement exists.
func (st *state) canRelease(p *corev1.Pod, failed bool) bool {
	if st.job.DeletionTimestamp != nil || st.finished != nil || p.Status.Phase == corev1.PodSucceeded {
		return true
	}
	if !failed {
		return false
	}
	if hasBackoffLimitPerIndex(st.job) {
		if ix := completionIndex(p); ix != noIndex {
			if kept, ok := st.delayed[ix]; ok && kept.UID == p.UID {
				return false
			}
		}
	}
	return true
}

// flushAndRelease writes the status if needed (recording the back-off that
// came with it), removes the finalizers of release, and counts the pods
// whose finalizer went. It reports whether the status still has to be written.
func (c *Controller) flushAndRelease(ctx context.Context, st *state, release []*corev1.Pod, withFinalizer sets.Set[types.UID], needsFlush bool) (bool, error) {
	if needsFlush {
		updated, err := c.updateStatus(ctx, st.job)
		if err != nil {
			return needsFlush, fmt.Errorf("adding uncounted pods to status: %w", err)
		}
		st.job = updated
		c.backoff.set(st.key, st.backoff)
		needsFlush = false
	}
	var releaseErr error
	if len(release) > 0 {
		var released []bool
		released, releaseErr = c.releasePods(ctx, st.key, release)
		for i, p := range release {
			if released[i] {
				withFinalizer.Delete(p.UID)
			}
		}
	}
	if moveCounted(&st.job.Status, withFinalizer) {
		needsFlush = true
	}
	if releaseErr != nil && needsFlush {
		// Keep what was counted, then retry the rest.
		if _, err := c.updateStatus(ctx, st.job); err != nil {
			return needsFlush, fmt.Errorf("removing uncounted pods from status: %w", err)
		}
	}
	return needsFlush, releaseErr
}

// moveCounted moves the uncounted pods whose finalizer is gone into the
// succeeded and failed counters.
func moveCounted(status *batchv1.JobStatus, withFinalizer sets.Set[types.UID]) bool {
	u := status.UncountedTerminatedPods
	if u == nil {
		u = &batchv1.UncountedTerminatedPods{}
		status.UncountedTerminatedPods = u
	}
	changed := false
	keep := func(list []types.UID, counter *int32) []types.UID {
		var out []types.UID
		for _, uid := range list {
			if withFinalizer.Has(uid) {
				out = append(out, uid)
			}
		}
		if len(out) != len(list) {
			*counter += int32(len(list) - len(out))
			changed = true
		}
		return out
	}
	u.Succeeded = keep(u.Succeeded, &status.Succeeded)
	u.Failed = keep(u.Failed, &status.Failed)
	return changed
}

// releasePods removes the tracking finalizer from pods; released[i] tells
// whether pods[i] is free of it (a pod already gone is).
func (c *Controller) releasePods(ctx context.Context, key string, pods []*corev1.Pod) ([]bool, error) {
	uids := make([]types.UID, len(pods))
	for i, p := range pods {
		uids[i] = p.UID
	}
	c.finExp.expect(key, uids)
	released := make([]bool, len(pods))
	errs := make(chan error, len(pods))
	var wg sync.WaitGroup
	for i, p := range pods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := c.removeFinalizer(ctx, p)
			if err != nil {
				// No update will show this removal.
				c.finExp.observed(key, p.UID)
				if !apierrors.IsNotFound(err) {
					errs <- err
					return
				}
			}
			released[i] = true
		}()
	}
	wg.Wait()
	close(errs)
	return released, firstError(errs)
}

// enactFinished turns the decided condition into the job's terminal one,
// once no pod is uncounted or terminating.
func (st *state) enactFinished(now time.Time) bool {
	f := st.finished
	if f == nil {
		return false
	}
	job := st.job
	if u := job.Status.UncountedTerminatedPods; u != nil && len(u.Succeeded)+len(u.Failed) > 0 {
		return false
	}
	if st.terminating > 0 {
		return false
	}
	job.Status.Conditions, _ = setCondition(job.Status.Conditions, f.Type, f.Status, f.Reason, f.Message, now)
	if f.Type == batchv1.JobComplete {
		t := f.LastTransitionTime
		job.Status.CompletionTime = &t
	}
	return true
}

// recordFinished records upstream's events for a finished job.
func (c *Controller) recordFinished(job *batchv1.Job, cond *batchv1.JobCondition) {
	if cond.Type == batchv1.JobComplete {
		if job.Spec.Completions != nil && job.Status.Succeeded > *job.Spec.Completions {
			c.cfg.Recorder.Eventf(job, nil, corev1.EventTypeWarning, "TooManySucceededPods", "Complete", "Too many succeeded pods running after completion count reached")
		}
		c.cfg.Recorder.Eventf(job, nil, corev1.EventTypeNormal, "Completed", "Complete", "Job completed")
		return
	}
	c.cfg.Recorder.Eventf(job, nil, corev1.EventTypeWarning, cond.Reason, "Fail", "%s", cond.Message)
}
