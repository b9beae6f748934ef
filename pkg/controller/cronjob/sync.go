package cronjob

import (
	"context"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// sync looks after one CronJob: prunes its history, reconciles its active
// list with its jobs, starts the job that is due, and waits for the next.
func (c *Controller) sync(ctx context.Context, key string) error {
	obj, exists, err := c.cronJobs.GetByKey(key)
	if err != nil {
		return err
	}
	if !exists {
		return nil
	}
	shared, ok := obj.(*batchv1.CronJob)
	if !ok {
		return nil
	}
	jobs, err := c.jobsOf(key)
	if err != nil {
		return err
	}
	cj := shared.DeepCopy()
	changed := c.pruneHistory(ctx, cj, jobs)
	wait, syncChanged, syncErr := c.syncCronJob(ctx, cj, jobs)
	if syncErr != nil {
		c.log.Debug("cronjob sync", "key", key, "err", syncErr)
	}
	if changed || syncChanged {
		if _, err := c.client.BatchV1().CronJobs(cj.Namespace).UpdateStatus(ctx, cj, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("update status of cronjob %s: %w", key, err)
		}
	}
	if wait != nil {
		return worker.RequeueAfter(*wait)
	}
	return syncErr
}

func (c *Controller) jobsOf(key string) ([]*batchv1.Job, error) {
	objs, err := c.jobs.ByIndex(byCronJob, key)
	if err != nil {
		return nil, err
	}
	out := make([]*batchv1.Job, 0, len(objs))
	for _, o := range objs {
		if j, ok := o.(*batchv1.Job); ok {
			out = append(out, j)
		}
	}
	return out, nil
}

// syncCronJob does the work on cj (a copy) and reports when to look again (nil:
// only when something changes), whether the status changed, and an error.
func (c *Controller) syncCronJob(ctx context.Context, cj *batchv1.CronJob, jobs []*batchv1.Job) (*time.Duration, bool, error) {
	now := c.clock.Now()
	changed := false
	children := map[string]bool{}
	for _, j := range jobs {
		children[string(j.UID)] = true
		active := inActive(cj, j.UID)
		done, finished := finishedAs(j)
		switch {
		case !active && !finished:
			// Ours but not listed: a crash between create and status, a stale
			// status, or a job someone made for us (kubectl create job --from).
			fresh, err := c.client.BatchV1().CronJobs(cj.Namespace).Get(ctx, cj.Name, metav1.GetOptions{})
			if err != nil {
				return nil, changed, err
			}
			if inActive(fresh, j.UID) {
				// The cache was behind: go on with the fresh object.
				*cj = *fresh
				continue
			}
			c.cfg.Recorder.Eventf(cj, j, corev1.EventTypeWarning, "UnexpectedJob", "Sync", "Saw a job that the controller did not create or forgot: %s", j.Name)
		case finished:
			if active {
				removeFromActive(cj, j.UID)
				c.cfg.Recorder.Eventf(cj, j, corev1.EventTypeNormal, "SawCompletedJob", "Sync", "Saw completed job: %s, condition: %s", j.Name, done)
				changed = true
			}
			if done == batchv1.JobComplete && j.Status.CompletionTime != nil {
				if last := cj.Status.LastSuccessfulTime; last == nil || j.Status.CompletionTime.After(last.Time) {
					cj.Status.LastSuccessfulTime = j.Status.CompletionTime.DeepCopy()
					changed = true
				}
			}
		}
	}
	// A listed job the cache does not know may be gone: ask before forgetting it.
	for _, r := range append([]corev1.ObjectReference(nil), cj.Status.Active...) {
		if children[string(r.UID)] {
			continue
		}
		_, err := c.client.BatchV1().Jobs(r.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			c.cfg.Recorder.Eventf(cj, nil, corev1.EventTypeNormal, "MissingJob", "Sync", "Active job went missing: %v", r.Name)
			removeFromActive(cj, r.UID)
			changed = true
		case err != nil:
			return nil, changed, err
		}
	}

	if cj.DeletionTimestamp != nil {
		return nil, changed, nil
	}
	if tz := cj.Spec.TimeZone; tz != nil {
		if _, err := time.LoadLocation(*tz); err != nil {
			c.cfg.Recorder.Eventf(cj, nil, corev1.EventTypeWarning, "UnknownTimeZone", "Sync", "invalid timeZone: %q: %s", *tz, err)
			return nil, changed, nil
		}
	}
	if cj.Spec.Suspend != nil && *cj.Spec.Suspend {
		return nil, changed, nil
	}
	spec, ownTZ := scheduleSpec(cj)
	if ownTZ {
		c.cfg.Recorder.Eventf(cj, nil, corev1.EventTypeWarning, "UnsupportedSchedule", "Sync",
			"CRON_TZ or TZ used in schedule %q is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details", cj.Spec.Schedule)
	}
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		// The user's to fix: nothing happens until the spec changes.
		c.cfg.Recorder.Eventf(cj, nil, corev1.EventTypeWarning, "UnparseableSchedule", "Sync", "unparseable schedule: %q : %s", cj.Spec.Schedule, err)
		return nil, changed, nil
	}
	due, tooMany, err := dueSchedule(cj, now, sched)
	if tooMany {
		c.cfg.Recorder.Eventf(cj, nil, corev1.EventTypeWarning, "TooManyMissedTimes", "Sync",
			"too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew")
	}
	if err != nil {
		c.cfg.Recorder.Eventf(cj, nil, corev1.EventTypeWarning, "InvalidSchedule", "Sync", "invalid schedule: %s : %s", cj.Spec.Schedule, err)
		return nil, changed, nil
	}
	next := func() (*time.Duration, bool, error) {
		d := nextScheduleDelay(cj, now, sched)
		return &d, changed, nil
	}
	if due == nil {
		return next()
	}
	if d := cj.Spec.StartingDeadlineSeconds; d != nil && due.Add(time.Duration(*d)*time.Second).Before(now) {
		c.cfg.Recorder.Eventf(cj, nil, corev1.EventTypeWarning, "MissSchedule", "Sync", "Missed scheduled time to start a job: %s", due.UTC().Format(time.RFC1123Z))
		return next()
	}
	if inActiveByName(cj, cj.Namespace, jobName(cj, *due)) || (cj.Status.LastScheduleTime != nil && cj.Status.LastScheduleTime.Time.Equal(*due)) {
		return next() // already started
	}
	if cj.Spec.ConcurrencyPolicy == batchv1.ForbidConcurrent && len(cj.Status.Active) > 0 {
		c.cfg.Recorder.Eventf(cj, nil, corev1.EventTypeNormal, "JobAlreadyActive", "Sync", "Not starting job because prior execution is running and concurrency policy is Forbid")
		return next()
	}
	if cj.Spec.ConcurrencyPolicy == batchv1.ReplaceConcurrent {
		for _, r := range append([]corev1.ObjectReference(nil), cj.Status.Active...) {
			j, err := c.client.BatchV1().Jobs(r.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
			if err != nil {
				c.cfg.Recorder.Eventf(cj, nil, corev1.EventTypeWarning, "FailedGet", "Sync", "Get job: %v", err)
				return nil, changed, err
			}
			if !c.deleteJob(ctx, cj, j) {
				return nil, changed, fmt.Errorf("could not replace job %s/%s", j.Namespace, j.Name)
			}
			changed = true
		}
	}

	want, err := jobFor(cj, *due)
	if err != nil {
		return nil, changed, err
	}
	created, err := c.client.BatchV1().Jobs(cj.Namespace).Create(ctx, want, metav1.CreateOptions{})
	switch {
	case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
		return nil, changed, err
	case apierrors.IsAlreadyExists(err):
		// Created before the status said so, or by someone else.
		existing, err := c.client.BatchV1().Jobs(cj.Namespace).Get(ctx, want.Name, metav1.GetOptions{})
		if err != nil {
			return nil, changed, err
		}
		if !metav1.IsControlledBy(existing, cj) || inActive(cj, existing.UID) {
			return nil, changed, nil
		}
		created = existing
	case err != nil:
		c.cfg.Recorder.Eventf(cj, nil, corev1.EventTypeWarning, "FailedCreate", "Create", "Error creating job: %v", err)
		return nil, changed, err
	default:
		c.cfg.Recorder.Eventf(cj, created, corev1.EventTypeNormal, "SuccessfulCreate", "Create", "Created job %v", created.Name)
	}
	cj.Status.Active = append(cj.Status.Active, jobRef(created))
	cj.Status.LastScheduleTime = &metav1.Time{Time: *due}
	changed = true
	return next()
}

// pruneHistory deletes the oldest finished jobs beyond the history limits.
func (c *Controller) pruneHistory(ctx context.Context, cj *batchv1.CronJob, jobs []*batchv1.Job) bool {
	if cj.Spec.SuccessfulJobsHistoryLimit == nil && cj.Spec.FailedJobsHistoryLimit == nil {
		return false
	}
	var succeeded, failed []*batchv1.Job
	for _, j := range jobs {
		switch t, _ := finishedAs(j); t {
		case batchv1.JobComplete:
			succeeded = append(succeeded, j)
		case batchv1.JobFailed:
			failed = append(failed, j)
		}
	}
	changed := false
	for _, set := range []struct {
		jobs  []*batchv1.Job
		limit *int32
	}{{succeeded, cj.Spec.SuccessfulJobsHistoryLimit}, {failed, cj.Spec.FailedJobsHistoryLimit}} {
		if set.limit == nil {
			continue
		}
		for _, j := range beyondHistory(set.jobs, *set.limit) {
			if c.deleteJob(ctx, cj, j) {
				changed = true
			}
		}
	}
	return changed
}

// deleteJob deletes a job (its pods follow in the background) and drops it
// from the active list.
func (c *Controller) deleteJob(ctx context.Context, cj *batchv1.CronJob, j *batchv1.Job) bool {
	background := metav1.DeletePropagationBackground
	if err := c.client.BatchV1().Jobs(j.Namespace).Delete(ctx, j.Name, metav1.DeleteOptions{PropagationPolicy: &background}); err != nil {
		c.cfg.Recorder.Eventf(cj, j, corev1.EventTypeWarning, "FailedDelete", "Delete", "Deleted job: %v", err)
		return false
	}
	removeFromActive(cj, j.UID)
	c.cfg.Recorder.Eventf(cj, j, corev1.EventTypeNormal, "SuccessfulDelete", "Delete", "Deleted job %v", j.Name)
	return true
}
