package cronjob

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/minik8s/minik8s/pkg/controller/worker"
)

type fixture struct {
	t        *testing.T
	client   *fake.Clientset
	factory  informers.SharedInformerFactory
	ctrl     *Controller
	clock    *clocktesting.FakeClock
	recorder *events.FakeRecorder
}

func newFixture(t *testing.T, now time.Time, objs ...runtime.Object) *fixture {
	t.Helper()
	f := &fixture{t: t, client: fake.NewSimpleClientset(objs...), recorder: events.NewFakeRecorder(100), clock: clocktesting.NewFakeClock(now)}
	f.client.PrependReactor("create", "jobs", func(a clienttesting.Action) (bool, runtime.Object, error) {
		j := a.(clienttesting.CreateAction).GetObject().(*batchv1.Job)
		j.UID = types.UID(j.Name + "-uid")
		return false, nil, nil
	})
	f.factory = informers.NewSharedInformerFactory(f.client, 0)
	ctrl, err := New(Config{Client: f.client, CronJobs: f.factory.Batch().V1().CronJobs(), Jobs: f.factory.Batch().V1().Jobs(),
		Recorder: f.recorder, Workers: 1, Clock: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	f.ctrl = ctrl
	f.refresh()
	f.client.ClearActions()
	return f
}

func (f *fixture) refresh() {
	cjs, _ := f.client.Tracker().List(batchv1.SchemeGroupVersion.WithResource("cronjobs"), batchv1.SchemeGroupVersion.WithKind("CronJob"), "")
	jobs, _ := f.client.Tracker().List(batchv1.SchemeGroupVersion.WithResource("jobs"), batchv1.SchemeGroupVersion.WithKind("Job"), "")
	var cl, jl []interface{}
	for i := range cjs.(*batchv1.CronJobList).Items {
		cl = append(cl, &cjs.(*batchv1.CronJobList).Items[i])
	}
	for i := range jobs.(*batchv1.JobList).Items {
		jl = append(jl, &jobs.(*batchv1.JobList).Items[i])
	}
	_ = f.factory.Batch().V1().CronJobs().Informer().GetIndexer().Replace(cl, "")
	_ = f.factory.Batch().V1().Jobs().Informer().GetIndexer().Replace(jl, "")
}

// sync runs one sync and returns the wait it asked for (0: none).
func (f *fixture) sync() time.Duration {
	f.t.Helper()
	err := f.ctrl.sync(context.Background(), "ns/tick")
	f.refresh()
	if d, ok := worker.RequeueDelay(err); ok {
		return d
	}
	if err != nil {
		f.t.Fatalf("sync: %v", err)
	}
	return 0
}

func (f *fixture) actions() []string {
	var out []string
	for _, a := range f.client.Actions() {
		s := a.GetVerb() + " " + a.GetResource().Resource
		if sub := a.GetSubresource(); sub != "" {
			s += "/" + sub
		}
		out = append(out, s)
	}
	f.client.ClearActions()
	return out
}

func (f *fixture) expectActions(want ...string) {
	f.t.Helper()
	if got := f.actions(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		f.t.Fatalf("actions:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func (f *fixture) events() []string {
	var out []string
	for {
		select {
		case e := <-f.recorder.Events:
			out = append(out, e)
		default:
			sort.Strings(out)
			return out
		}
	}
}

func (f *fixture) cronJob() *batchv1.CronJob {
	cj, err := f.client.BatchV1().CronJobs("ns").Get(context.Background(), "tick", metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	f.client.ClearActions()
	return cj
}

func (f *fixture) jobNames() []string {
	list, _ := f.client.BatchV1().Jobs("ns").List(context.Background(), metav1.ListOptions{})
	f.client.ClearActions()
	var out []string
	for _, j := range list.Items {
		out = append(out, j.Name)
	}
	sort.Strings(out)
	return out
}

func everyMinute(created time.Time) *batchv1.CronJob {
	cj := cronJob("*/1 * * * *", created, nil)
	cj.Spec.ConcurrencyPolicy = batchv1.AllowConcurrent
	cj.Spec.Suspend = ptr.To(false)
	cj.Spec.JobTemplate.Spec.Template.Spec.Containers = []corev1.Container{{Name: "c", Image: "busybox"}}
	return cj
}

func ownedJob(cj *batchv1.CronJob, name string, finished batchv1.JobConditionType, at time.Time) *batchv1.Job {
	yes := true
	j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID(name + "-uid"),
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "CronJob", Name: cj.Name, UID: cj.UID, Controller: &yes}}}}
	j.Status.StartTime = &metav1.Time{Time: at}
	if finished != "" {
		j.Status.Conditions = []batchv1.JobCondition{{Type: finished, Status: corev1.ConditionTrue}}
		if finished == batchv1.JobComplete {
			j.Status.CompletionTime = &metav1.Time{Time: at.Add(time.Second)}
		}
	}
	return j
}

func TestACronJobCreatesTheDueJobAndSleepsUntilTheNext(t *testing.T) {
	f := newFixture(t, t0, everyMinute(at(9, 59)))
	if d := f.sync(); d != 30*time.Second+nextScheduleSlack {
		t.Errorf("wait %s", d)
	}
	f.expectActions("create jobs", "update cronjobs/status")
	cj := f.cronJob()
	if len(cj.Status.Active) != 1 || cj.Status.Active[0].Name != "tick-29147640" || cj.Status.Active[0].Kind != "Job" ||
		!cj.Status.LastScheduleTime.Time.Equal(at(10, 0)) {
		t.Errorf("status %+v", cj.Status)
	}
	if got := f.events(); len(got) != 1 || got[0] != "Normal SuccessfulCreate Created job tick-29147640" {
		t.Errorf("events %v", got)
	}
	// The same start time is not run twice.
	f.sync()
	f.expectActions()
}

func TestAFinishedJobLeavesTheActiveListAndSetsLastSuccessfulTime(t *testing.T) {
	cj := everyMinute(at(9, 0))
	cj.Status.LastScheduleTime = &metav1.Time{Time: at(10, 0)}
	done := ownedJob(cj, "tick-1", batchv1.JobComplete, at(10, 0))
	cj.Status.Active = []corev1.ObjectReference{{Kind: "Job", Namespace: "ns", Name: "tick-1", UID: done.UID}}
	f := newFixture(t, t0, cj, done)
	f.sync()
	got := f.cronJob()
	if len(got.Status.Active) != 0 || got.Status.LastSuccessfulTime == nil || !got.Status.LastSuccessfulTime.Time.Equal(at(10, 0).Add(time.Second)) {
		t.Errorf("status %+v", got.Status)
	}
	if evs := f.events(); len(evs) != 1 || evs[0] != "Normal SawCompletedJob Saw completed job: tick-1, condition: Complete" {
		t.Errorf("events %v", evs)
	}
}

func TestForbidSkipsAStartWhileAJobRuns(t *testing.T) {
	cj := everyMinute(at(9, 0))
	cj.Spec.ConcurrencyPolicy = batchv1.ForbidConcurrent
	cj.Status.LastScheduleTime = &metav1.Time{Time: at(9, 59)}
	running := ownedJob(cj, "tick-29147639", "", at(9, 59))
	cj.Status.Active = []corev1.ObjectReference{{Kind: "Job", Namespace: "ns", Name: running.Name, UID: running.UID}}
	f := newFixture(t, t0, cj, running)
	f.sync()
	f.expectActions()
	if evs := f.events(); len(evs) != 1 || evs[0] != "Normal JobAlreadyActive Not starting job because prior execution is running and concurrency policy is Forbid" {
		t.Errorf("events %v", evs)
	}
}

func TestReplaceDeletesTheRunningJobBeforeStartingTheNext(t *testing.T) {
	cj := everyMinute(at(9, 0))
	cj.Spec.ConcurrencyPolicy = batchv1.ReplaceConcurrent
	cj.Status.LastScheduleTime = &metav1.Time{Time: at(9, 59)}
	running := ownedJob(cj, "tick-29147639", "", at(9, 59))
	cj.Status.Active = []corev1.ObjectReference{{Kind: "Job", Namespace: "ns", Name: running.Name, UID: running.UID}}
	f := newFixture(t, t0, cj, running)
	var propagation metav1.DeletionPropagation
	f.client.PrependReactor("delete", "jobs", func(a clienttesting.Action) (bool, runtime.Object, error) {
		propagation = *a.(clienttesting.DeleteAction).GetDeleteOptions().PropagationPolicy
		return false, nil, nil
	})
	f.sync()
	f.expectActions("get jobs", "delete jobs", "create jobs", "update cronjobs/status")
	if propagation != metav1.DeletePropagationBackground {
		t.Errorf("propagation %q", propagation)
	}
	if got := f.jobNames(); len(got) != 1 || got[0] != "tick-29147640" {
		t.Errorf("jobs %v", got)
	}
	if got := f.cronJob().Status.Active; len(got) != 1 || got[0].Name != "tick-29147640" {
		t.Errorf("active %v", got)
	}
	if !contains(f.events(), "Normal SuccessfulDelete Deleted job tick-29147639") {
		t.Error("no SuccessfulDelete event")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestHistoryLimitsDeleteTheOldestFinishedJobs(t *testing.T) {
	cj := everyMinute(at(9, 0))
	cj.Spec.Suspend = ptr.To(true)
	cj.Spec.SuccessfulJobsHistoryLimit = ptr.To[int32](1)
	cj.Spec.FailedJobsHistoryLimit = ptr.To[int32](0)
	objs := []runtime.Object{cj,
		ownedJob(cj, "ok-old", batchv1.JobComplete, at(9, 1)), ownedJob(cj, "ok-new", batchv1.JobComplete, at(9, 2)),
		ownedJob(cj, "bad", batchv1.JobFailed, at(9, 3)), ownedJob(cj, "running", "", at(9, 4))}
	cj.Status.Active = []corev1.ObjectReference{{Kind: "Job", Namespace: "ns", Name: "running", UID: "running-uid"}}
	f := newFixture(t, t0, objs...)
	f.sync()
	if got := f.jobNames(); strings.Join(got, ",") != "ok-new,running" {
		t.Errorf("jobs left %v", got)
	}
}

func TestASuspendedCronJobStartsNothing(t *testing.T) {
	cj := everyMinute(at(9, 0))
	cj.Spec.Suspend = ptr.To(true)
	f := newFixture(t, t0, cj)
	if d := f.sync(); d != 0 {
		t.Errorf("a suspended cronjob waits %s", d)
	}
	f.expectActions()
}

func TestAJobNotInTheActiveListIsReportedAsUnexpected(t *testing.T) {
	cj := everyMinute(at(9, 0))
	cj.Status.LastScheduleTime = &metav1.Time{Time: at(10, 0)}
	manual := ownedJob(cj, "tick-manual-x7k", "", at(10, 0))
	f := newFixture(t, t0, cj, manual)
	f.sync()
	if evs := f.events(); len(evs) != 1 || evs[0] != "Warning UnexpectedJob Saw a job that the controller did not create or forgot: tick-manual-x7k" {
		t.Errorf("events %v", evs)
	}
}

func TestAnActiveJobThatIsGoneIsDropped(t *testing.T) {
	cj := everyMinute(at(9, 0))
	cj.Status.LastScheduleTime = &metav1.Time{Time: at(10, 0)}
	cj.Status.Active = []corev1.ObjectReference{{Kind: "Job", Namespace: "ns", Name: "tick-gone", UID: "gone"}}
	f := newFixture(t, t0, cj)
	f.sync()
	if got := f.cronJob().Status.Active; len(got) != 0 {
		t.Errorf("active %v", got)
	}
	if evs := f.events(); len(evs) != 1 || evs[0] != "Normal MissingJob Active job went missing: tick-gone" {
		t.Errorf("events %v", evs)
	}
}

func TestManyMissedStartTimesWarnAndStartTheLatest(t *testing.T) {
	cj := everyMinute(at(0, 0))
	cj.Status.LastScheduleTime = &metav1.Time{Time: at(1, 0)}
	f := newFixture(t, t0, cj)
	f.sync()
	evs := f.events()
	if !contains(evs, "Warning TooManyMissedTimes too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew") ||
		!contains(evs, "Normal SuccessfulCreate Created job tick-29147640") {
		t.Errorf("events %v", evs)
	}
}

func TestAStartingDeadlineSkipsStartTimesTooLongAgo(t *testing.T) {
	cj := cronJob("0 * * * *", at(8, 30), nil)
	cj.Spec.StartingDeadlineSeconds = ptr.To[int64](10)
	f := newFixture(t, t0, cj)
	if d := f.sync(); d <= 59*time.Minute {
		t.Errorf("wait %s", d)
	}
	f.expectActions()
	cj.Spec.StartingDeadlineSeconds = ptr.To[int64](60)
	_, _ = f.client.BatchV1().CronJobs("ns").Update(context.Background(), cj, metav1.UpdateOptions{})
	f.refresh()
	f.client.ClearActions()
	f.sync()
	f.expectActions("create jobs", "update cronjobs/status")
}

func TestAnUnparseableScheduleIsAWarningNotARetry(t *testing.T) {
	f := newFixture(t, t0, cronJob("not a schedule", at(9, 0), nil))
	if d := f.sync(); d != 0 {
		t.Errorf("wait %s", d)
	}
	if evs := f.events(); len(evs) != 1 || !strings.HasPrefix(evs[0], `Warning UnparseableSchedule unparseable schedule: "not a schedule" : `) {
		t.Errorf("events %v", evs)
	}
}
