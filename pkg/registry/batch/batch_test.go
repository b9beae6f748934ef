package batch

import (
	"context"
	"reflect"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
)

func problems(errs field.ErrorList) []string {
	out := []string{}
	for _, e := range errs {
		out = append(out, string(e.Type)+" "+e.Field)
	}
	return out
}

// create runs the create path with a uid, as the apiserver assigns one first.
func create(r *registry.Resource, obj runtime.Object) field.ErrorList {
	obj.(metav1.Object).SetUID(types.UID("1234"))
	r.Strategy.Default(obj)
	r.Strategy.PrepareForCreate(context.Background(), obj)
	return r.Strategy.Validate(context.Background(), obj)
}

func job(mutate func(*batchv1.Job)) *batchv1.Job {
	j := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "pi", Namespace: "default"},
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}},
	}
	if mutate != nil {
		mutate(j)
	}
	return j
}

func TestJobDefaultsAndGeneratedSelector(t *testing.T) {
	j := job(nil)
	if errs := create(Jobs(), j); len(errs) != 0 {
		t.Fatalf("a plain job is refused: %v", errs)
	}
	s := j.Spec
	if *s.Completions != 1 || *s.Parallelism != 1 || *s.BackoffLimit != 6 || *s.CompletionMode != batchv1.NonIndexedCompletion ||
		*s.Suspend || *s.PodReplacementPolicy != batchv1.TerminatingOrFailed || *s.ManualSelector {
		t.Errorf("defaults %+v, want upstream's", s)
	}
	want := map[string]string{"batch.kubernetes.io/controller-uid": "1234", "batch.kubernetes.io/job-name": "pi",
		"controller-uid": "1234", "job-name": "pi"}
	if !reflect.DeepEqual(s.Template.Labels, want) {
		t.Errorf("template labels %v, want %v", s.Template.Labels, want)
	}
	if !reflect.DeepEqual(j.Labels, want) {
		t.Errorf("job labels %v, want the template's, as upstream shows them", j.Labels)
	}
	if !reflect.DeepEqual(s.Selector.MatchLabels, map[string]string{"batch.kubernetes.io/controller-uid": "1234"}) {
		t.Errorf("selector %v", s.Selector)
	}
}

func TestJobsWithTheirOwnLabelsKeepThem(t *testing.T) {
	j := job(func(j *batchv1.Job) { j.Labels = map[string]string{"team": "a"} })
	create(Jobs(), j)
	if !reflect.DeepEqual(j.Labels, map[string]string{"team": "a"}) {
		t.Errorf("job labels %v, want only its own", j.Labels)
	}
}

func TestFailurePolicyDefaultsReplacementToFailed(t *testing.T) {
	j := job(func(j *batchv1.Job) {
		j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{Action: batchv1.PodFailurePolicyActionFailJob,
			OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget}}}}}
	})
	if errs := create(Jobs(), j); len(errs) != 0 {
		t.Fatalf("refused: %v", errs)
	}
	if *j.Spec.PodReplacementPolicy != batchv1.Failed || j.Spec.PodFailurePolicy.Rules[0].OnPodConditions[0].Status != corev1.ConditionTrue {
		t.Errorf("replacement %q, pattern status %q; want Failed and True", *j.Spec.PodReplacementPolicy,
			j.Spec.PodFailurePolicy.Rules[0].OnPodConditions[0].Status)
	}
}

func TestJobValidation(t *testing.T) {
	one := int32(1)
	tests := []struct {
		name   string
		mutate func(*batchv1.Job)
		want   []string
	}{
		{"pods of a job may not restart always",
			func(j *batchv1.Job) { j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways },
			[]string{"FieldValueRequired spec.template.spec.restartPolicy"}},
		{"negative parallelism is refused", func(j *batchv1.Job) { j.Spec.Parallelism = new(int32); *j.Spec.Parallelism = -1 },
			[]string{"FieldValueInvalid spec.parallelism"}},
		{"a per-index backoff needs indexed completion",
			func(j *batchv1.Job) { j.Spec.BackoffLimitPerIndex = &one },
			[]string{"FieldValueInvalid spec.backoffLimitPerIndex"}},
		{"a manual selector must select the template",
			func(j *batchv1.Job) {
				manual := true
				j.Spec.ManualSelector = &manual
				j.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}}
			},
			[]string{"FieldValueInvalid spec.template.metadata.labels"}},
		{"an indexed job needs completions",
			func(j *batchv1.Job) {
				m := batchv1.IndexedCompletion
				j.Spec.CompletionMode = &m
				j.Spec.Parallelism = &one
			},
			[]string{"FieldValueRequired spec.completions"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := problems(create(Jobs(), job(tt.mutate))); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestJobUpdates(t *testing.T) {
	old := job(func(j *batchv1.Job) { s := true; j.Spec.Suspend = &s })
	create(Jobs(), old)
	update := func(obj *batchv1.Job) []string {
		Jobs().Strategy.Default(obj)
		Jobs().Strategy.PrepareForUpdate(context.Background(), obj, old)
		return problems(Jobs().Strategy.ValidateUpdate(context.Background(), obj, old))
	}
	scheduled := old.DeepCopy()
	scheduled.Spec.Template.Spec.NodeSelector = map[string]string{"zone": "a"}
	if got := update(scheduled); len(got) != 0 {
		t.Errorf("a suspended, unstarted job may move: got %v", got)
	}
	reimaged := old.DeepCopy()
	reimaged.Spec.Template.Spec.Containers[0].Image = "busybox:2"
	if got := update(reimaged); !reflect.DeepEqual(got, []string{"FieldValueInvalid spec.template"}) {
		t.Errorf("changing the image: got %v, want the template immutable", got)
	}
	more := old.DeepCopy()
	more.Spec.Completions = new(int32)
	*more.Spec.Completions = 5
	if got := update(more); !reflect.DeepEqual(got, []string{"FieldValueInvalid spec.completions"}) {
		t.Errorf("changing completions: got %v", got)
	}
}

func TestJobTable(t *testing.T) {
	j := job(nil)
	create(Jobs(), j)
	j.Status.Succeeded = 1
	j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}
	cells, _ := Jobs().Table.Row(j)
	if cells[1] != "Complete" || cells[2] != "1/1" || cells[3] != "" || cells[7] != "batch.kubernetes.io/controller-uid=1234" {
		t.Errorf("cells %v", cells)
	}
	if f := Jobs().Fields(j); f["status.successful"] != "1" {
		t.Errorf("fields %v", f)
	}
}

func cronJob(schedule string, mutate func(*batchv1.CronJob)) *batchv1.CronJob {
	cj := &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: "hourly", Namespace: "default"},
		Spec:       batchv1.CronJobSpec{Schedule: schedule, JobTemplate: batchv1.JobTemplateSpec{Spec: job(nil).Spec}},
	}
	if mutate != nil {
		mutate(cj)
	}
	return cj
}

func TestCronJobDefaultsLeaveTheJobTemplateAlone(t *testing.T) {
	cj := cronJob("@hourly", nil)
	if errs := create(CronJobs(), cj); len(errs) != 0 {
		t.Fatalf("refused: %v", errs)
	}
	s := cj.Spec
	if s.ConcurrencyPolicy != batchv1.AllowConcurrent || *s.Suspend || *s.SuccessfulJobsHistoryLimit != 3 || *s.FailedJobsHistoryLimit != 1 {
		t.Errorf("defaults %+v", s)
	}
	if s.JobTemplate.Spec.Completions != nil || s.JobTemplate.Spec.BackoffLimit != nil {
		t.Errorf("the job template got job defaults: %+v", s.JobTemplate.Spec)
	}
}

func TestCronJobSchedules(t *testing.T) {
	paris := "Europe/Paris"
	local := "Local"
	tests := []struct {
		name     string
		schedule string
		mutate   func(*batchv1.CronJob)
		want     []string
	}{
		{"a five-field schedule is accepted", "*/5 * * * *", nil, []string{}},
		{"a descriptor is accepted", "@daily", nil, []string{}},
		{"a time zone field is accepted", "0 3 * * *", func(c *batchv1.CronJob) { c.Spec.TimeZone = &paris }, []string{}},
		{"an out of range minute is refused", "61 * * * *", nil, []string{"FieldValueInvalid spec.schedule"}},
		{"TZ in the schedule is refused on create", "TZ=UTC 0 * * * *", nil, []string{"FieldValueInvalid spec.schedule"}},
		{"the Local zone is refused", "0 * * * *", func(c *batchv1.CronJob) { c.Spec.TimeZone = &local },
			[]string{"FieldValueInvalid spec.timeZone"}},
		{"a missing schedule is required", "", nil, []string{"FieldValueRequired spec.schedule"}},
		{"a selector in the job template is refused", "@hourly", func(c *batchv1.CronJob) {
			c.Spec.JobTemplate.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}}
		}, []string{"FieldValueInvalid spec.jobTemplate.spec.selector"}},
		{"a name longer than 52 characters is refused", "@hourly", func(c *batchv1.CronJob) { c.Name = strings.Repeat("a", 53) },
			[]string{"FieldValueInvalid metadata.name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := problems(create(CronJobs(), cronJob(tt.schedule, tt.mutate))); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestStoredTZSchedulesStayValidOnUpdate(t *testing.T) {
	old := cronJob("TZ=UTC 0 * * * *", nil)
	CronJobs().Strategy.Default(old)
	obj := old.DeepCopy()
	obj.Labels = map[string]string{"a": "b"}
	if errs := CronJobs().Strategy.ValidateUpdate(context.Background(), obj, old); len(errs) != 0 {
		t.Errorf("an old TZ schedule on update: %v, want allowed", errs)
	}
}

func TestCronJobTable(t *testing.T) {
	cj := cronJob("@hourly", nil)
	create(CronJobs(), cj)
	cells, _ := CronJobs().Table.Row(cj)
	want := []interface{}{"hourly", "@hourly", "<none>", "False", int64(0), "<none>", "<unknown>", "c", "busybox", "<none>"}
	if !reflect.DeepEqual(cells, want) {
		t.Errorf("cells %#v, want %#v", cells, want)
	}
}
