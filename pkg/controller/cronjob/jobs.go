package cronjob

import (
	"maps"
	"sort"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/minik8s/minik8s/pkg/controller/controllerref"
)

var cronJobKind = batchv1.SchemeGroupVersion.WithKind("CronJob")

// jobFor builds the job of one start time from the CronJob's template: the
// template's labels, annotations and spec, the start time as the
// cronjob-scheduled-timestamp annotation (in the CronJob's zone), and the
// CronJob as controller.
func jobFor(cj *batchv1.CronJob, scheduled time.Time) (*batchv1.Job, error) {
	loc := time.UTC
	if cj.Spec.TimeZone != nil {
		var err error
		if loc, err = time.LoadLocation(*cj.Spec.TimeZone); err != nil {
			return nil, err
		}
	}
	annotations := maps.Clone(cj.Spec.JobTemplate.Annotations)
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[batchv1.CronJobScheduledTimestampAnnotation] = scheduled.In(loc).Format(time.RFC3339)
	labels := maps.Clone(cj.Spec.JobTemplate.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{
		Name:              jobName(cj, scheduled),
		Labels:            labels,
		Annotations:       annotations,
		CreationTimestamp: metav1.NewTime(scheduled),
		OwnerReferences:   []metav1.OwnerReference{controllerref.Ref(cj, cronJobKind)},
	}}
	cj.Spec.JobTemplate.Spec.DeepCopyInto(&job.Spec)
	return job, nil
}

func inActive(cj *batchv1.CronJob, uid types.UID) bool {
	for _, r := range cj.Status.Active {
		if r.UID == uid {
			return true
		}
	}
	return false
}

func inActiveByName(cj *batchv1.CronJob, namespace, name string) bool {
	for _, r := range cj.Status.Active {
		if r.Name == name && r.Namespace == namespace {
			return true
		}
	}
	return false
}

func removeFromActive(cj *batchv1.CronJob, uid types.UID) {
	active := []corev1.ObjectReference{}
	for _, r := range cj.Status.Active {
		if r.UID != uid {
			active = append(active, r)
		}
	}
	cj.Status.Active = active
}

// jobRef is the reference status.active keeps to a job.
func jobRef(j *batchv1.Job) corev1.ObjectReference {
	return corev1.ObjectReference{Kind: "Job", APIVersion: "batch/v1", Namespace: j.Namespace, Name: j.Name,
		UID: j.UID, ResourceVersion: j.ResourceVersion}
}

// finishedAs is a job's terminal condition type, if it has one.
func finishedAs(j *batchv1.Job) (batchv1.JobConditionType, bool) {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return c.Type, true
		}
	}
	return "", false
}

// beyondHistory returns the oldest of jobs past the limit, the ones to delete:
// ordered by start time (jobs never started last), then by name.
func beyondHistory(jobs []*batchv1.Job, limit int32) []*batchv1.Job {
	n := len(jobs) - int(limit)
	if n <= 0 {
		return nil
	}
	sorted := append([]*batchv1.Job(nil), jobs...)
	sort.SliceStable(sorted, func(i, j int) bool { return startedBefore(sorted[i], sorted[j]) })
	return sorted[:n]
}

func startedBefore(a, b *batchv1.Job) bool {
	sa, sb := a.Status.StartTime, b.Status.StartTime
	switch {
	case sa == nil && sb != nil:
		return false
	case sa != nil && sb == nil:
		return true
	case sa.Equal(sb):
		return a.Name < b.Name
	}
	return sa.Before(sb)
}
