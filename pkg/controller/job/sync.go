package job

import (
	"context"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/kubectl/pkg/util/podutils"
	"k8s.io/utils/ptr"

	"github.com/minik8s/minik8s/pkg/controller/controllerref"
	"github.com/minik8s/minik8s/pkg/controller/podcontrol"
	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// state is what one sync of one job knows and decides.
type state struct {
	key  string
	job  *batchv1.Job
	pods []*corev1.Pod
	// active are the pods neither finished nor being deleted.
	active      []*corev1.Pod
	ready       int32
	terminating int32
	// uncountedSucceeded/Failed are the status's uncounted pods at the start.
	uncountedSucceeded, uncountedFailed sets.Set[types.UID]
	// releasing are pods whose finalizer removal the cache does not show yet.
	releasing sets.Set[types.UID]
	succeeded int32
	failed    int32
	// For indexed jobs: the succeeded indexes in the status, and with the
	// pods that succeeded since; the failed ones with backoffLimitPerIndex.
	prevSucceeded, succeededIdx indexSet
	failedIdx                   *indexSet
	// delayed is, per index, the failed pod kept until its replacement
	// exists (it carries the index's failure count).
	delayed map[int]*corev1.Pod
	backoff backoffRecord
	// finished is the condition the job is heading for, once decided.
	finished *batchv1.JobCondition
	// wake is when the job must be looked at again (0: no timer).
	wake time.Duration
}

func (st *state) wakeAfter(d time.Duration) {
	if d > 0 && (st.wake == 0 || d < st.wake) {
		st.wake = d
	}
}

// sync brings one job's pods and status up to date.
func (c *Controller) sync(ctx context.Context, key string) error {
	obj, exists, err := c.jobs.GetByKey(key)
	if err != nil {
		return err
	}
	if !exists {
		c.exp.Delete(key)
		c.finExp.forget(key)
		c.backoff.forget(key)
		return nil
	}
	shared, ok := obj.(*batchv1.Job)
	if !ok {
		return nil
	}
	if by, ok := managedElsewhere(shared); ok {
		c.log.Debug("job managed by another controller", "key", key, "managedBy", by)
		return nil
	}
	if IsFinished(shared) {
		c.backoff.forget(key)
		c.finished.Delete(shared.UID)
		return nil
	}
	if _, ok := c.finished.Load(shared.UID); ok {
		// Marked finished a moment ago; the cache has not caught up.
		return nil
	}
	job := shared.DeepCopy()
	if m := job.Spec.CompletionMode; m != nil && *m != batchv1.NonIndexedCompletion && *m != batchv1.IndexedCompletion {
		c.cfg.Recorder.Eventf(job, nil, corev1.EventTypeWarning, "UnknownCompletionMode", "Sync", "Skipped Job sync because completion mode is unknown")
		return nil
	}
	if !specUsable(job) {
		c.log.Info("job spec lacks its defaults, skipped", "key", key)
		return nil
	}
	if job.Status.UncountedTerminatedPods == nil {
		job.Status.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{}
	}
	// Read before the pods: a pod created after this look is seen next time.
	satisfied := c.exp.Satisfied(key)
	pods, err := c.podsForJob(ctx, job)
	if err != nil {
		return err
	}
	now := c.clock.Now()
	st := c.newState(key, job, pods)

	if job.Status.StartTime == nil && !isSuspended(job) {
		t := metav1.NewTime(now)
		job.Status.StartTime = &t
	}
	c.decideFailure(st, now)
	if isIndexed(job) {
		c.decideIndexes(st, now)
	}

	active := int32(len(st.active))
	suspendChanged := false
	var manageErr error
	if st.finished != nil {
		// Failing or done: the pods still running go, finalizers kept so
		// they are counted once gone.
		ready, deleted, err := c.deleteActive(ctx, job, st.active)
		if deleted != active || !satisfied {
			// Pods remain, or the cache misses some: finish next time.
			st.finished = nil
		}
		active -= deleted
		st.terminating += deleted
		st.ready -= ready
		manageErr = err
	} else {
		managed := false
		if satisfied && job.DeletionTimestamp == nil {
			active, manageErr = c.manage(ctx, st, now)
			managed = true
		}
		if jobComplete(job, st.succeeded, active) {
			st.finished = successCondition(now)
		} else if managed {
			suspendChanged = c.reportSuspension(job, now)
		}
	}

	needsUpdate := suspendChanged || active != job.Status.Active || !ptr.Equal(job.Status.Ready, &st.ready) ||
		!ptr.Equal(job.Status.Terminating, &st.terminating)
	job.Status.Active = active
	job.Status.Ready = ptr.To(st.ready)
	job.Status.Terminating = ptr.To(st.terminating)
	if err := c.trackStatus(ctx, st, needsUpdate, now); err != nil {
		if st.wake > 0 {
			c.queue.AddAfter(key, st.wake)
		}
		return fmt.Errorf("tracking status: %w", err)
	}
	if manageErr != nil {
		if st.wake > 0 {
			c.queue.AddAfter(key, st.wake)
		}
		return manageErr
	}
	if st.wake > 0 {
		return worker.RequeueAfter(st.wake)
	}
	return nil
}

// specUsable guards against jobs the API server did not default (it always
// does; a job restored from elsewhere might not be).
func specUsable(j *batchv1.Job) bool {
	if j.Spec.Parallelism == nil || j.Spec.BackoffLimit == nil {
		return false
	}
	return !isIndexed(j) || j.Spec.Completions != nil
}

// podsForJob returns the pods the job owns, after adopting matching orphans
// (which get the tracking finalizer) and releasing pods that stopped matching.
func (c *Controller) podsForJob(ctx context.Context, job *batchv1.Job) ([]*corev1.Pod, error) {
	sel, err := metav1.LabelSelectorAsSelector(job.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("couldn't convert Job selector: %w", err)
	}
	candidates, err := podcontrol.ByController(c.pods, job, jobKind.Kind, true)
	if err != nil {
		return nil, err
	}
	m := &controllerref.Manager{Controller: job, Kind: jobKind, Finalizers: []string{batchv1.JobTrackingFinalizer},
		CanAdopt: controllerref.RecheckDeletion(job, func(ctx context.Context) (metav1.Object, error) {
			return c.client.BatchV1().Jobs(job.Namespace).Get(ctx, job.Name, metav1.GetOptions{})
		})}
	pods, err := controllerref.Claim(ctx, m, candidates, func(p *corev1.Pod) bool { return sel.Matches(labels.Set(p.Labels)) },
		func(ctx context.Context, p *corev1.Pod, patch []byte) error {
			_, err := c.client.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
			return err
		})
	if err != nil {
		return nil, err
	}
	// Adopted pods got the finalizer in the patch; count them as having it.
	for i, p := range pods {
		if metav1.IsControlledBy(p, job) || hasTrackingFinalizer(p) {
			continue
		}
		cp := p.DeepCopy()
		cp.Finalizers = append(cp.Finalizers, batchv1.JobTrackingFinalizer)
		pods[i] = cp
	}
	return pods, nil
}

// newState counts the pods: active, ready, terminating, and the finished
// ones not yet in the status.
func (c *Controller) newState(key string, job *batchv1.Job, pods []*corev1.Pod) *state {
	u := job.Status.UncountedTerminatedPods
	st := &state{key: key, job: job, pods: pods, active: podcontrol.FilterActive(pods),
		uncountedSucceeded: sets.New(u.Succeeded...), uncountedFailed: sets.New(u.Failed...),
		releasing: c.finExp.pending(key)}
	for _, p := range st.active {
		if podutils.IsPodReady(p) {
			st.ready++
		}
	}
	for _, p := range pods {
		if isTerminating(p) {
			st.terminating++
		}
	}
	newSucceeded := st.uncountedPods(st.uncountedSucceeded, func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodSucceeded })
	newFailed := st.uncountedPods(st.uncountedFailed, func(p *corev1.Pod) bool { return isPodFailed(p, job) })
	st.succeeded = job.Status.Succeeded + int32(len(newSucceeded)) + int32(len(u.Succeeded))
	counted := 0
	for _, p := range newFailed {
		if matchFailurePolicy(job.Spec.PodFailurePolicy, p).counts() {
			counted++
		}
	}
	st.failed = job.Status.Failed + int32(counted) + int32(len(u.Failed))
	st.backoff = nextBackoffRecord(c.backoff.get(key), newSucceeded, newFailed)
	return st
}

// uncountedPods are the pods passing keep that still carry the finalizer, are
// not in skip, and (indexed jobs) have a valid index: finished pods the status
// does not count yet.
func (st *state) uncountedPods(skip sets.Set[types.UID], keep func(*corev1.Pod) bool) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range st.pods {
		if !hasTrackingFinalizer(p) || skip.Has(p.UID) || st.releasing.Has(p.UID) {
			continue
		}
		if isIndexed(st.job) && !validIndex(p, *st.job.Spec.Completions) {
			continue
		}
		if keep(p) {
			out = append(out, p)
		}
	}
	return out
}

// decideFailure settles, in upstream's order, whether the job is failing: a
// success or failure decided earlier stands; then a FailJob rule of the pod
// failure policy; then backoffLimit; then activeDeadlineSeconds.
func (c *Controller) decideFailure(st *state, now time.Time) {
	job := st.job
	if cond := findCondition(job.Status.Conditions, batchv1.JobSuccessCriteriaMet); cond != nil && cond.Status == corev1.ConditionTrue {
		st.finished = cond.DeepCopy()
		return
	}
	if cond := findCondition(job.Status.Conditions, batchv1.JobFailureTarget); cond != nil && cond.Status == corev1.ConditionTrue {
		st.finished = newCondition(batchv1.JobFailed, corev1.ConditionTrue, cond.Reason, cond.Message, now)
		return
	}
	if msg, ok := failJobMessage(job, st.pods); ok {
		st.finished = failureCondition(batchv1.JobReasonPodFailurePolicy, msg, now)
		return
	}
	if st.failed > *job.Spec.BackoffLimit || pastBackoffLimitOnFailure(job, st.pods) {
		st.finished = failureCondition(batchv1.JobReasonBackoffLimitExceeded, msgBackoffLimitExceeded, now)
		return
	}
	if left, ok := activeDeadlineLeft(job, now); ok {
		if left <= 0 {
			st.finished = failureCondition(batchv1.JobReasonDeadlineExceeded, msgDeadlineExceeded, now)
			return
		}
		st.wakeAfter(left)
	}
}

// failJobMessage is the message of the first failed pod matching a FailJob rule.
func failJobMessage(job *batchv1.Job, pods []*corev1.Pod) (string, bool) {
	if job.Spec.PodFailurePolicy == nil {
		return "", false
	}
	for _, p := range pods {
		if isPodFailed(p, job) {
			if m := matchFailurePolicy(job.Spec.PodFailurePolicy, p); m.failJob != "" {
				return m.failJob, true
			}
		}
	}
	return "", false
}

// decideIndexes counts an indexed job's succeeded and failed indexes and
// checks maxFailedIndexes, failed indexes at the end, and the success policy.
func (c *Controller) decideIndexes(st *state, now time.Time) {
	job := st.job
	completions := int(*job.Spec.Completions)
	st.prevSucceeded = parseIndexes(job.Status.CompletedIndexes, completions)
	var fresh []int
	for _, p := range st.pods {
		if p.Status.Phase == corev1.PodSucceeded && validIndex(p, *job.Spec.Completions) && hasTrackingFinalizer(p) {
			fresh = append(fresh, completionIndex(p))
		}
	}
	st.succeededIdx = st.prevSucceeded.with(fresh...)
	st.succeeded = int32(st.succeededIdx.total())
	if hasBackoffLimitPerIndex(job) {
		failed := failedIndexes(job, st.pods)
		st.failedIdx = &failed
		if st.finished == nil {
			switch {
			case job.Spec.MaxFailedIndexes != nil && failed.total() > int(*job.Spec.MaxFailedIndexes):
				st.finished = failureCondition(batchv1.JobReasonMaxFailedIndexesExceeded, msgMaxFailedIndexesExceeded, now)
			case failed.total() > 0 && failed.total()+st.succeededIdx.total() >= completions:
				st.finished = failureCondition(batchv1.JobReasonFailedIndexes, msgFailedIndexes, now)
			}
		}
		st.delayed = delayedDeletions(st)
	}
	if st.finished == nil {
		if msg, ok := matchSuccessPolicy(job.Spec.SuccessPolicy, *job.Spec.Completions, st.succeededIdx); ok {
			st.finished = newCondition(batchv1.JobSuccessCriteriaMet, corev1.ConditionTrue, batchv1.JobReasonSuccessPolicy, msg, now)
		}
	}
}

// failedIndexes are the indexes in status.failedIndexes and those whose pod
// just failed for good: a FailIndex rule matched, or the index used up
// backoffLimitPerIndex.
func failedIndexes(job *batchv1.Job, pods []*corev1.Pod) indexSet {
	var prev indexSet
	if job.Status.FailedIndexes != nil {
		prev = parseIndexes(*job.Status.FailedIndexes, int(*job.Spec.Completions))
	}
	var fresh []int
	for _, p := range pods {
		if validIndex(p, *job.Spec.Completions) && hasTrackingFinalizer(p) && indexFailed(job, p) {
			fresh = append(fresh, completionIndex(p))
		}
	}
	return prev.with(fresh...)
}

func indexFailed(job *batchv1.Job, p *corev1.Pod) bool {
	if !isPodFailed(p, job) {
		return false
	}
	m := matchFailurePolicy(job.Spec.PodFailurePolicy, p)
	if m.action == batchv1.PodFailurePolicyActionFailIndex {
		return true
	}
	counted, _ := indexFailureCounts(p)
	return m.counts() && counted >= *job.Spec.BackoffLimitPerIndex
}

// delayedDeletions picks, for each index that needs a new pod, its latest
// failed pod: its finalizer stays until the replacement inherits its count.
func delayedDeletions(st *state) map[int]*corev1.Pod {
	job := st.job
	activeIdx := sets.New(indexesOf(st.active)...)
	out := map[int]*corev1.Pod{}
	for _, p := range st.uncountedPods(nil, func(p *corev1.Pod) bool { return isPodFailed(p, job) }) {
		ix := completionIndex(p)
		if st.succeededIdx.has(ix) || st.failedIdx.has(ix) || activeIdx.Has(ix) {
			continue
		}
		last, ok := out[ix]
		if !ok {
			out[ix] = p
			continue
		}
		lc, li := indexFailureCounts(last)
		pc, pi := indexFailureCounts(p)
		if lc+li <= pc+pi && !podFinishTime(p).Before(podFinishTime(last)) {
			out[ix] = p
		}
	}
	return out
}

// reportSuspension sets the Suspended condition (and on resume restarts the
// clock of activeDeadlineSeconds), with upstream's events.
func (c *Controller) reportSuspension(job *batchv1.Job, now time.Time) bool {
	if isSuspended(job) {
		var changed bool
		job.Status.Conditions, changed = setCondition(job.Status.Conditions, batchv1.JobSuspended, corev1.ConditionTrue, "JobSuspended", "Job suspended", now)
		if changed {
			c.cfg.Recorder.Eventf(job, nil, corev1.EventTypeNormal, "Suspended", "Suspend", "Job suspended")
		}
		return changed
	}
	var changed bool
	job.Status.Conditions, changed = setCondition(job.Status.Conditions, batchv1.JobSuspended, corev1.ConditionFalse, "JobResumed", "Job resumed", now)
	if changed {
		c.cfg.Recorder.Eventf(job, nil, corev1.EventTypeNormal, "Resumed", "Resume", "Job resumed")
		// activeDeadlineSeconds counts continuous activity: it starts again.
		t := metav1.NewTime(now)
		job.Status.StartTime = &t
	}
	return changed
}

func (c *Controller) updateStatus(ctx context.Context, job *batchv1.Job) (*batchv1.Job, error) {
	return c.client.BatchV1().Jobs(job.Namespace).UpdateStatus(ctx, job, metav1.UpdateOptions{})
}

func isNotFound(err error) bool { return apierrors.IsNotFound(err) }
