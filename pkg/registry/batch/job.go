package batch

import (
	"fmt"
	"math"
	"strconv"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/podspec"
	"github.com/minik8s/minik8s/pkg/registry/workload"
)

// Jobs is batch/v1 jobs. Unless manualSelector is set, the server picks the
// selector: the job's uid, which it also stamps on the pod template.
func Jobs() *registry.Resource {
	return &registry.Resource{
		Group: "batch", Version: "v1", Name: "jobs", Kind: "Job", SingularName: "job",
		// Kept for backwards compatibility, as upstream: batch/v1 Jobs orphan their pods.
		GCPolicy:      registry.GCOrphan,
		OrphanWarning: "child pods are preserved by default when jobs are deleted; set propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress this warning",
		Categories:    []string{"all"}, Namespaced: true,
		New:       func() runtime.Object { return &batchv1.Job{} },
		NewList:   func() runtime.Object { return &batchv1.JobList{} },
		KeyPrefix: "jobs",
		Status:    true,
		Strategy: &registry.Generic{
			Defaults:         defaultJob,
			Create:           func(obj runtime.Object) { generateSelector(obj.(*batchv1.Job)) },
			Validation:       func(obj runtime.Object) field.ErrorList { return validateJob(obj.(*batchv1.Job), true) },
			UpdateValidation: validateJobUpdate,
			StatusValidation: func(obj, old runtime.Object) field.ErrorList {
				return validateJobStatusUpdate(obj.(*batchv1.Job), old.(*batchv1.Job))
			},
		},
		Fields: func(obj runtime.Object) map[string]string {
			return map[string]string{"status.successful": strconv.Itoa(int(obj.(*batchv1.Job).Status.Succeeded))}
		},
		Table: jobTable(),
	}
}

func defaultJob(obj runtime.Object) {
	j := obj.(*batchv1.Job)
	defaultJobSpec(&j.Spec)
	// A job without labels of its own is labelled like its pods.
	if len(j.Labels) == 0 && j.Spec.Template.Labels != nil {
		j.Labels = copyLabels(j.Spec.Template.Labels)
	}
}

// defaultJobSpec sets the defaults of a job's spec (not of a CronJob's job
// template, which upstream leaves to the job the CronJob creates).
func defaultJobSpec(s *batchv1.JobSpec) {
	if s.Completions == nil && s.Parallelism == nil {
		s.Completions = int32Ptr(1)
	}
	if s.Parallelism == nil {
		s.Parallelism = int32Ptr(1)
	}
	if s.BackoffLimit == nil {
		if s.BackoffLimitPerIndex != nil {
			s.BackoffLimit = int32Ptr(math.MaxInt32)
		} else {
			s.BackoffLimit = int32Ptr(6)
		}
	}
	if s.CompletionMode == nil {
		m := batchv1.NonIndexedCompletion
		s.CompletionMode = &m
	}
	if s.Suspend == nil {
		s.Suspend = boolPtr(false)
	}
	if s.PodReplacementPolicy == nil {
		p := batchv1.TerminatingOrFailed
		if s.PodFailurePolicy != nil {
			p = batchv1.Failed
		}
		s.PodReplacementPolicy = &p
	}
	if s.ManualSelector == nil {
		s.ManualSelector = boolPtr(false)
	}
	defaultJobTemplateParts(s)
}

// defaultJobTemplateParts are the defaults inside a job spec that a CronJob's
// job template gets too: the pod template's and the failure policy's.
func defaultJobTemplateParts(s *batchv1.JobSpec) {
	if s.PodFailurePolicy != nil {
		for i := range s.PodFailurePolicy.Rules {
			for j := range s.PodFailurePolicy.Rules[i].OnPodConditions {
				if p := &s.PodFailurePolicy.Rules[i].OnPodConditions[j]; p.Status == "" {
					p.Status = corev1.ConditionTrue
				}
			}
		}
	}
	podspec.DefaultPodTemplateSpec(&s.Template)
}

// generateSelector labels the pod template with the job's name and uid (in the
// legacy and the prefixed spelling) and selects on the uid, unless the user
// manages the selector. It runs once the uid is known.
func generateSelector(j *batchv1.Job) {
	if j.Spec.ManualSelector != nil && *j.Spec.ManualSelector {
		return
	}
	labelledLikeTemplate := len(j.Labels) == 0 || equality.Semantic.DeepEqual(j.Labels, j.Spec.Template.Labels)
	if j.Spec.Template.Labels == nil {
		j.Spec.Template.Labels = map[string]string{}
	}
	for _, key := range []string{legacyJobNameLabel, batchv1.JobNameLabel} {
		if _, ok := j.Spec.Template.Labels[key]; !ok {
			j.Spec.Template.Labels[key] = j.Name
		}
	}
	for _, key := range []string{legacyControllerUIDLabel, batchv1.ControllerUidLabel} {
		if _, ok := j.Spec.Template.Labels[key]; !ok {
			j.Spec.Template.Labels[key] = string(j.UID)
		}
	}
	if j.Spec.Selector == nil {
		j.Spec.Selector = &metav1.LabelSelector{}
	}
	if j.Spec.Selector.MatchLabels == nil {
		j.Spec.Selector.MatchLabels = map[string]string{}
	}
	if _, ok := j.Spec.Selector.MatchLabels[batchv1.ControllerUidLabel]; !ok {
		j.Spec.Selector.MatchLabels[batchv1.ControllerUidLabel] = string(j.UID)
	}
	// Upstream's job shares its label map with the template when it had none,
	// so the generated labels show on the job too.
	if labelledLikeTemplate {
		j.Labels = copyLabels(j.Spec.Template.Labels)
	}
}

func copyLabels(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// The unprefixed labels upstream still puts on job pods beside the
// batch.kubernetes.io/ ones.
const (
	legacyJobNameLabel       = "job-name"
	legacyControllerUIDLabel = "controller-uid"
)

func jobTable() *registry.Table {
	return &registry.Table{
		Cols: []metav1.TableColumnDefinition{registry.NameColumn,
			registry.Col("Status", "string", "Status of the job.", 0),
			registry.Col("Completions", "string", batchv1.JobStatus{}.SwaggerDoc()["succeeded"], 0),
			registry.Col("Duration", "string", "Time required to complete the job.", 0),
			registry.AgeColumn, workload.ContainersColumn, workload.ImagesColumn,
			registry.Col("Selector", "string", batchv1.JobSpec{}.SwaggerDoc()["selector"], 1),
		},
		Cells: func(obj runtime.Object) []interface{} {
			j := obj.(*batchv1.Job)
			names, images := workload.ContainerCells(j.Spec.Template.Spec.Containers)
			return []interface{}{j.Name, jobStatus(j), jobCompletions(j), jobDuration(j), registry.Age(j.CreationTimestamp),
				names, images, metav1.FormatLabelSelector(j.Spec.Selector)}
		},
	}
}

func jobCompletions(j *batchv1.Job) string {
	if j.Spec.Completions != nil {
		return fmt.Sprintf("%d/%d", j.Status.Succeeded, *j.Spec.Completions)
	}
	if j.Spec.Parallelism != nil && *j.Spec.Parallelism > 1 {
		return fmt.Sprintf("%d/1 of %d", j.Status.Succeeded, *j.Spec.Parallelism)
	}
	return fmt.Sprintf("%d/1", j.Status.Succeeded)
}

func jobDuration(j *batchv1.Job) string {
	switch {
	case j.Status.StartTime == nil:
		return ""
	case j.Status.CompletionTime == nil:
		return duration.HumanDuration(time.Since(j.Status.StartTime.Time))
	}
	return duration.HumanDuration(j.Status.CompletionTime.Sub(j.Status.StartTime.Time))
}

// jobStatus is the Status column: the most telling condition, in upstream's order.
func jobStatus(j *batchv1.Job) string {
	switch {
	case jobConditionTrue(j, batchv1.JobComplete):
		return "Complete"
	case jobConditionTrue(j, batchv1.JobFailed):
		return "Failed"
	case j.DeletionTimestamp != nil:
		return "Terminating"
	case jobConditionTrue(j, batchv1.JobSuspended):
		return "Suspended"
	case jobConditionTrue(j, batchv1.JobFailureTarget):
		return "FailureTarget"
	case jobConditionTrue(j, batchv1.JobSuccessCriteriaMet):
		return "SuccessCriteriaMet"
	}
	return "Running"
}

// jobConditionTrue looks at the first condition of a type, as the printer does.
func jobConditionTrue(j *batchv1.Job, t batchv1.JobConditionType) bool {
	for _, c := range j.Status.Conditions {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
