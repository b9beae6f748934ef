package job

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
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

// fixture is a controller over a fake API whose caches the test fills, and
// refreshes from the fake API between syncs as the informers would.
type fixture struct {
	t        *testing.T
	client   *fake.Clientset
	factory  informers.SharedInformerFactory
	ctrl     *Controller
	clock    *clocktesting.FakeClock
	recorder *events.FakeRecorder
	names    atomic.Int32
	rv       atomic.Int32
}

func newFixture(t *testing.T, objs ...runtime.Object) *fixture {
	t.Helper()
	f := &fixture{t: t, client: fake.NewSimpleClientset(objs...), recorder: events.NewFakeRecorder(1000), clock: clocktesting.NewFakeClock(t0)}
	// The fake API neither generates names nor uids: do it as the server would.
	f.client.PrependReactor("create", "pods", func(a clienttesting.Action) (bool, runtime.Object, error) {
		p := a.(clienttesting.CreateAction).GetObject().(*corev1.Pod)
		if p.Name == "" {
			n := f.names.Add(1)
			p.Name = fmt.Sprintf("%s%05d", p.GenerateName, n)
			p.UID = types.UID(fmt.Sprintf("pod-uid-%d", n))
		}
		return false, nil, nil
	})
	f.factory = informers.NewSharedInformerFactory(f.client, 0)
	ctrl, err := New(Config{Client: f.client, Jobs: f.factory.Batch().V1().Jobs(), Pods: f.factory.Core().V1().Pods(),
		Recorder: f.recorder, Workers: 1, Clock: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	f.ctrl = ctrl
	f.refresh()
	f.client.ClearActions()
	return f
}

// refresh brings the caches up to what the fake API holds and tells the
// controller about pod changes, as the informers would (the fake API keeps no
// resource versions: changed pods get one here).
func (f *fixture) refresh() {
	f.t.Helper()
	jobs, _ := f.client.Tracker().List(batchv1.SchemeGroupVersion.WithResource("jobs"), batchv1.SchemeGroupVersion.WithKind("Job"), "")
	var jl []interface{}
	for i := range jobs.(*batchv1.JobList).Items {
		jl = append(jl, &jobs.(*batchv1.JobList).Items[i])
	}
	_ = f.factory.Batch().V1().Jobs().Informer().GetIndexer().Replace(jl, "")
	pods, _ := f.client.Tracker().List(corev1.SchemeGroupVersion.WithResource("pods"), corev1.SchemeGroupVersion.WithKind("Pod"), "")
	idx := f.factory.Core().V1().Pods().Informer().GetIndexer()
	seen := map[string]bool{}
	for i := range pods.(*corev1.PodList).Items {
		p := &pods.(*corev1.PodList).Items[i]
		key := p.Namespace + "/" + p.Name
		seen[key] = true
		obj, exists, _ := idx.GetByKey(key)
		if !exists {
			p.ResourceVersion = fmt.Sprint(f.rv.Add(1))
			_ = idx.Add(p)
			f.ctrl.addPod(p)
			continue
		}
		old := obj.(*corev1.Pod)
		p.ResourceVersion = old.ResourceVersion
		if equality.Semantic.DeepEqual(old, p) {
			continue
		}
		p.ResourceVersion = fmt.Sprint(f.rv.Add(1))
		_ = idx.Update(p)
		f.ctrl.updatePod(old, p)
	}
	for _, obj := range idx.List() {
		if p := obj.(*corev1.Pod); !seen[p.Namespace+"/"+p.Name] {
			_ = idx.Delete(p)
			f.ctrl.deletePod(p, true)
		}
	}
}

// sync runs one sync of ns/name and refreshes the caches after it.
func (f *fixture) sync(name string) error {
	f.t.Helper()
	err := f.ctrl.sync(context.Background(), "ns/"+name)
	f.refresh()
	return err
}

func (f *fixture) mustSync(name string) {
	f.t.Helper()
	if err := f.sync(name); err != nil {
		if _, ok := worker.RequeueDelay(err); !ok {
			f.t.Fatalf("sync: %v", err)
		}
	}
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

func (f *fixture) job(name string) *batchv1.Job {
	f.t.Helper()
	j, err := f.client.BatchV1().Jobs("ns").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	f.client.ClearActions()
	return j
}

func (f *fixture) pods() []*corev1.Pod {
	list, _ := f.client.CoreV1().Pods("ns").List(context.Background(), metav1.ListOptions{})
	f.client.ClearActions()
	var out []*corev1.Pod
	for i := range list.Items {
		out = append(out, &list.Items[i])
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// setPhase does what a kubelet would: the pod finished.
func (f *fixture) setPhase(p *corev1.Pod, phase corev1.PodPhase, statuses ...corev1.ContainerStatus) {
	f.t.Helper()
	p = p.DeepCopy()
	p.Status.Phase = phase
	p.Status.ContainerStatuses = statuses
	if _, err := f.client.CoreV1().Pods("ns").UpdateStatus(context.Background(), p, metav1.UpdateOptions{}); err != nil {
		f.t.Fatal(err)
	}
	f.client.ClearActions()
	f.refresh()
}

func newJob(name string, completions, parallelism int32) *batchv1.Job {
	labels := map[string]string{batchv1.ControllerUidLabel: name + "-uid", batchv1.JobNameLabel: name}
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID(name + "-uid"), Generation: 1},
		Spec: batchv1.JobSpec{Completions: &completions, Parallelism: &parallelism, BackoffLimit: ptr.To[int32](6),
			CompletionMode: ptr.To(batchv1.NonIndexedCompletion), Suspend: ptr.To(false), PodReplacementPolicy: ptr.To(batchv1.TerminatingOrFailed),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{batchv1.ControllerUidLabel: name + "-uid"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}},
	}
}

func condition(j *batchv1.Job, t batchv1.JobConditionType) string {
	c := findCondition(j.Status.Conditions, t)
	if c == nil {
		return "none"
	}
	return string(c.Status) + "/" + c.Reason
}

func TestSyncCreatesParallelismPodsWithTheTrackingFinalizerAndEvents(t *testing.T) {
	f := newFixture(t, newJob("pi", 3, 2))
	f.mustSync("pi")
	f.expectActions("create pods", "create pods", "update jobs/status")
	pods := f.pods()
	for _, p := range pods {
		if !strings.HasPrefix(p.Name, "pi-") || !hasTrackingFinalizer(p) || metav1.GetControllerOf(p).UID != "pi-uid" ||
			!*metav1.GetControllerOf(p).BlockOwnerDeletion || p.Labels[batchv1.JobNameLabel] != "pi" {
			t.Errorf("pod %s finalizers %v owner %v labels %v", p.Name, p.Finalizers, p.OwnerReferences, p.Labels)
		}
	}
	j := f.job("pi")
	if j.Status.Active != 2 || *j.Status.Ready != 0 || *j.Status.Terminating != 0 || j.Status.StartTime == nil || !j.Status.StartTime.Time.Equal(t0) {
		t.Errorf("status %+v", j.Status)
	}
	if got := f.events(); len(got) != 2 || got[0] != "Normal SuccessfulCreate Created pod: pi-00001" {
		t.Errorf("events %v", got)
	}
	// Nothing changed: nothing is written.
	f.mustSync("pi")
	f.expectActions()
}

func TestAJobCompletesAfterItsCompletionsSucceed(t *testing.T) {
	f := newFixture(t, newJob("pi", 3, 2))
	f.mustSync("pi")
	for round := 0; round < 3; round++ {
		for _, p := range f.pods() {
			if p.Status.Phase == "" {
				f.setPhase(p, corev1.PodSucceeded)
				break
			}
		}
		f.mustSync("pi")
		f.mustSync("pi")
	}
	j := f.job("pi")
	if j.Status.Succeeded != 3 || j.Status.Active != 0 || j.Status.Failed != 0 || len(j.Status.UncountedTerminatedPods.Succeeded) != 0 {
		t.Fatalf("status %+v", j.Status)
	}
	if condition(j, batchv1.JobSuccessCriteriaMet) != "True/CompletionsReached" || condition(j, batchv1.JobComplete) != "True/CompletionsReached" ||
		j.Status.CompletionTime == nil {
		t.Errorf("conditions %+v", j.Status.Conditions)
	}
	if c := findCondition(j.Status.Conditions, batchv1.JobComplete); c.Message != "Reached expected number of succeeded pods" {
		t.Errorf("message %q", c.Message)
	}
	for _, p := range f.pods() {
		if hasTrackingFinalizer(p) {
			t.Errorf("%s keeps the finalizer", p.Name)
		}
	}
	if got := len(f.pods()); got != 3 {
		t.Errorf("%d pods were created for 3 completions", got)
	}
	evs := f.events()
	if evs[0] != "Normal Completed Job completed" {
		t.Errorf("events %v", evs)
	}
	// A finished job is left alone.
	f.mustSync("pi")
	f.expectActions()
}

func TestSucceededPodsGoThroughUncountedBeforeTheCounter(t *testing.T) {
	f := newFixture(t, newJob("pi", 2, 2))
	f.mustSync("pi")
	pods := f.pods()
	f.setPhase(pods[0], corev1.PodSucceeded)
	// The finalizer removal fails: the pod stays uncounted in the status.
	f.client.PrependReactor("patch", "pods", func(clienttesting.Action) (bool, runtime.Object, error) {
		return true, nil, fmt.Errorf("etcd is slow")
	})
	if err := f.sync("pi"); err == nil || !strings.Contains(err.Error(), "etcd is slow") {
		t.Fatalf("sync: %v", err)
	}
	j := f.job("pi")
	if j.Status.Succeeded != 0 || len(j.Status.UncountedTerminatedPods.Succeeded) != 1 || j.Status.UncountedTerminatedPods.Succeeded[0] != pods[0].UID {
		t.Fatalf("status %+v %+v", j.Status, j.Status.UncountedTerminatedPods)
	}
	f.client.ReactionChain = f.client.ReactionChain[1:]
	f.mustSync("pi")
	j = f.job("pi")
	if j.Status.Succeeded != 1 || len(j.Status.UncountedTerminatedPods.Succeeded) != 0 {
		t.Errorf("after the finalizer went: %+v", j.Status)
	}
}

func TestFailedPodsAreReplacedAfterTheBackoff(t *testing.T) {
	f := newFixture(t, newJob("pi", 1, 1))
	f.mustSync("pi")
	f.setPhase(f.pods()[0], corev1.PodFailed, corev1.ContainerStatus{Name: "c",
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, FinishedAt: metav1.NewTime(t0)}}})
	err := f.sync("pi")
	if d, ok := worker.RequeueDelay(err); !ok || d != 10*time.Second {
		t.Fatalf("sync after a failure: %v, want a requeue after 10s", err)
	}
	if n := len(f.pods()); n != 1 {
		t.Fatalf("replaced before the back-off: %d pods", n)
	}
	j := f.job("pi")
	if j.Status.Failed != 1 || j.Status.Active != 0 {
		t.Errorf("status %+v", j.Status)
	}
	f.clock.Step(11 * time.Second)
	f.mustSync("pi")
	if n := len(f.pods()); n != 2 {
		t.Errorf("not replaced after the back-off: %d pods", n)
	}
}

func TestAJobFailsWhenFailuresExceedTheBackoffLimit(t *testing.T) {
	job := newJob("pi", 4, 2)
	job.Spec.BackoffLimit = ptr.To[int32](1)
	f := newFixture(t, job)
	f.mustSync("pi")
	for _, p := range f.pods() {
		f.setPhase(p, corev1.PodFailed)
	}
	f.mustSync("pi")
	f.mustSync("pi")
	j := f.job("pi")
	if j.Status.Failed != 2 || condition(j, batchv1.JobFailureTarget) != "True/BackoffLimitExceeded" || condition(j, batchv1.JobFailed) != "True/BackoffLimitExceeded" {
		t.Fatalf("status %+v", j.Status)
	}
	if c := findCondition(j.Status.Conditions, batchv1.JobFailed); c.Message != "Job has reached the specified backoff limit" {
		t.Errorf("message %q", c.Message)
	}
	evs := f.events()
	if !contains(evs, "Warning BackoffLimitExceeded Job has reached the specified backoff limit") {
		t.Errorf("events %v", evs)
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

func TestAFailingJobDeletesItsRunningPodsAndWaitsForThem(t *testing.T) {
	job := newJob("pi", 4, 2)
	job.Spec.BackoffLimit = ptr.To[int32](0)
	f := newFixture(t, job)
	f.mustSync("pi")
	pods := f.pods()
	f.setPhase(pods[0], corev1.PodFailed)
	// The fake API deletes at once, which is what a pod that is not on a node does.
	f.mustSync("pi")
	j := f.job("pi")
	if condition(j, batchv1.JobFailureTarget) != "True/BackoffLimitExceeded" {
		t.Fatalf("conditions %+v", j.Status.Conditions)
	}
	f.mustSync("pi")
	j = f.job("pi")
	if condition(j, batchv1.JobFailed) != "True/BackoffLimitExceeded" || j.Status.Active != 0 {
		t.Errorf("status %+v", j.Status)
	}
}

func TestActiveDeadlineFailsTheJobAndOtherwiseSetsATimer(t *testing.T) {
	job := newJob("pi", 1, 1)
	job.Spec.ActiveDeadlineSeconds = ptr.To[int64](30)
	f := newFixture(t, job)
	err := f.sync("pi")
	if d, ok := worker.RequeueDelay(err); !ok || d != 30*time.Second {
		t.Fatalf("first sync: %v", err)
	}
	f.clock.Step(31 * time.Second)
	f.mustSync("pi")
	f.mustSync("pi")
	j := f.job("pi")
	if condition(j, batchv1.JobFailed) != "True/DeadlineExceeded" {
		t.Fatalf("conditions %+v", j.Status.Conditions)
	}
	if c := findCondition(j.Status.Conditions, batchv1.JobFailed); c.Message != "Job was active longer than specified deadline" {
		t.Errorf("message %q", c.Message)
	}
	if len(f.pods()) != 0 {
		t.Error("the running pod was not deleted")
	}
}

func TestSuspendDeletesPodsWithoutCountingThemAndResumeRestartsTheClock(t *testing.T) {
	f := newFixture(t, newJob("pi", 3, 2))
	f.mustSync("pi")
	j := f.job("pi")
	j.Spec.Suspend = ptr.To(true)
	j, _ = f.client.BatchV1().Jobs("ns").Update(context.Background(), j, metav1.UpdateOptions{})
	f.refresh()
	f.client.ClearActions()
	f.mustSync("pi")
	f.expectActions("patch pods", "delete pods", "patch pods", "delete pods", "update jobs/status")
	j = f.job("pi")
	if condition(j, batchv1.JobSuspended) != "True/JobSuspended" || j.Status.Active != 0 || j.Status.Failed != 0 || len(f.pods()) != 0 {
		t.Fatalf("suspended: %+v, %d pods", j.Status, len(f.pods()))
	}
	f.mustSync("pi")
	if n := len(f.pods()); n != 0 {
		t.Fatalf("a suspended job created %d pods", n)
	}
	f.clock.Step(time.Hour)
	j.Spec.Suspend = ptr.To(false)
	_, _ = f.client.BatchV1().Jobs("ns").Update(context.Background(), j, metav1.UpdateOptions{})
	f.refresh()
	f.mustSync("pi")
	j = f.job("pi")
	if condition(j, batchv1.JobSuspended) != "False/JobResumed" || j.Status.Active != 2 || !j.Status.StartTime.Time.Equal(t0.Add(time.Hour)) {
		t.Errorf("resumed: %+v", j.Status)
	}
	evs := f.events()
	if !contains(evs, "Normal Suspended Job suspended") || !contains(evs, "Normal Resumed Job resumed") {
		t.Errorf("events %v", evs)
	}
}

func TestAJobCreatedSuspendedHasNoStartTime(t *testing.T) {
	job := newJob("pi", 1, 1)
	job.Spec.Suspend = ptr.To(true)
	f := newFixture(t, job)
	f.mustSync("pi")
	j := f.job("pi")
	if j.Status.StartTime != nil || condition(j, batchv1.JobSuspended) != "True/JobSuspended" || len(f.pods()) != 0 {
		t.Errorf("status %+v", j.Status)
	}
}

func indexedJob(name string, completions, parallelism int32) *batchv1.Job {
	j := newJob(name, completions, parallelism)
	j.Spec.CompletionMode = ptr.To(batchv1.IndexedCompletion)
	return j
}

func TestAnIndexedJobRunsOnePodPerIndexAndCompletesByIndexes(t *testing.T) {
	f := newFixture(t, indexedJob("idx", 3, 3))
	f.mustSync("idx")
	pods := f.pods()
	if len(pods) != 3 {
		t.Fatalf("%d pods", len(pods))
	}
	seen := map[string]bool{}
	for _, p := range pods {
		ix := p.Annotations[batchv1.JobCompletionIndexAnnotation]
		seen[ix] = true
		if p.Spec.Hostname != "idx-"+ix || !strings.HasPrefix(p.Name, "idx-"+ix+"-") {
			t.Errorf("pod %s hostname %s index %s", p.Name, p.Spec.Hostname, ix)
		}
	}
	if len(seen) != 3 {
		t.Fatalf("indexes %v", seen)
	}
	for _, p := range pods {
		if p.Annotations[batchv1.JobCompletionIndexAnnotation] != "1" {
			f.setPhase(p, corev1.PodSucceeded)
		}
	}
	f.mustSync("idx")
	j := f.job("idx")
	if j.Status.CompletedIndexes != "0,2" || j.Status.Succeeded != 2 || j.Status.Active != 1 {
		t.Fatalf("status %+v", j.Status)
	}
	for _, p := range f.pods() {
		if p.Annotations[batchv1.JobCompletionIndexAnnotation] == "1" {
			f.setPhase(p, corev1.PodSucceeded)
		}
	}
	f.mustSync("idx")
	f.mustSync("idx")
	j = f.job("idx")
	if j.Status.CompletedIndexes != "0-2" || condition(j, batchv1.JobComplete) != "True/CompletionsReached" {
		t.Errorf("status %+v", j.Status)
	}
}

func TestAFailedIndexIsRecreatedForTheSameIndex(t *testing.T) {
	f := newFixture(t, indexedJob("idx", 2, 2))
	f.mustSync("idx")
	var failed *corev1.Pod
	for _, p := range f.pods() {
		if p.Annotations[batchv1.JobCompletionIndexAnnotation] == "1" {
			failed = p
			f.setPhase(p, corev1.PodFailed)
		}
	}
	f.mustSync("idx")
	f.clock.Step(11 * time.Second)
	f.mustSync("idx")
	var replacement *corev1.Pod
	for _, p := range f.pods() {
		if p.UID != failed.UID && p.Annotations[batchv1.JobCompletionIndexAnnotation] == "1" {
			replacement = p
		}
	}
	if replacement == nil {
		t.Fatal("index 1 was not recreated")
	}
}

func TestBackoffLimitPerIndexFailsIndexesAndMaxFailedIndexesTheJob(t *testing.T) {
	job := indexedJob("idx", 3, 3)
	job.Spec.BackoffLimitPerIndex = ptr.To[int32](0)
	job.Spec.MaxFailedIndexes = ptr.To[int32](1)
	f := newFixture(t, job)
	f.mustSync("idx")
	pods := f.pods()
	f.setPhase(pods[0], corev1.PodFailed)
	f.mustSync("idx")
	j := f.job("idx")
	if j.Status.FailedIndexes == nil || *j.Status.FailedIndexes != pods[0].Annotations[batchv1.JobCompletionIndexAnnotation] || j.Status.Failed != 1 {
		t.Fatalf("after one failed index: %+v", j.Status)
	}
	if len(f.pods()) != 3 {
		t.Fatalf("a failed index was recreated: %d pods", len(f.pods()))
	}
	f.setPhase(f.pods()[1], corev1.PodFailed)
	f.mustSync("idx")
	f.mustSync("idx")
	j = f.job("idx")
	if condition(j, batchv1.JobFailed) != "True/MaxFailedIndexesExceeded" {
		t.Errorf("conditions %+v", j.Status.Conditions)
	}
}

func TestPodFailurePolicyFailJobEndsTheJobWithTheRulesMessage(t *testing.T) {
	job := newJob("pi", 2, 2)
	job.Spec.PodReplacementPolicy = ptr.To(batchv1.Failed)
	job.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{Action: batchv1.PodFailurePolicyActionFailJob,
		OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{42}}}}}
	f := newFixture(t, job)
	f.mustSync("pi")
	p := f.pods()[0]
	f.setPhase(p, corev1.PodFailed, exited("c", 42))
	f.mustSync("pi")
	f.mustSync("pi")
	j := f.job("pi")
	want := fmt.Sprintf("Container c for pod ns/%s failed with exit code 42 matching FailJob rule at index 0", p.Name)
	if c := findCondition(j.Status.Conditions, batchv1.JobFailed); c == nil || c.Reason != "PodFailurePolicy" || c.Message != want {
		t.Fatalf("conditions %+v", j.Status.Conditions)
	}
	if !contains(f.events(), "Warning PodFailurePolicy "+want) {
		t.Error("no PodFailurePolicy event")
	}
}

func TestPodFailurePolicyIgnoreDoesNotCountTheFailure(t *testing.T) {
	job := newJob("pi", 1, 1)
	job.Spec.BackoffLimit = ptr.To[int32](0)
	job.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{Action: batchv1.PodFailurePolicyActionIgnore,
		OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}}}}}
	f := newFixture(t, job)
	f.mustSync("pi")
	p := f.pods()[0].DeepCopy()
	p.Status.Phase = corev1.PodFailed
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}}
	_, _ = f.client.CoreV1().Pods("ns").UpdateStatus(context.Background(), p, metav1.UpdateOptions{})
	f.refresh()
	f.mustSync("pi")
	f.mustSync("pi")
	j := f.job("pi")
	if j.Status.Failed != 0 || condition(j, batchv1.JobFailed) != "none" || len(f.pods()) != 2 {
		t.Errorf("status %+v, %d pods", j.Status, len(f.pods()))
	}
}

func TestASuccessPolicyCompletesAnIndexedJobEarly(t *testing.T) {
	job := indexedJob("idx", 3, 3)
	job.Spec.SuccessPolicy = &batchv1.SuccessPolicy{Rules: []batchv1.SuccessPolicyRule{{SucceededIndexes: ptr.To("0")}}}
	f := newFixture(t, job)
	f.mustSync("idx")
	for _, p := range f.pods() {
		if p.Annotations[batchv1.JobCompletionIndexAnnotation] == "0" {
			f.setPhase(p, corev1.PodSucceeded)
		}
	}
	f.mustSync("idx")
	j := f.job("idx")
	if condition(j, batchv1.JobSuccessCriteriaMet) != "True/SuccessPolicy" {
		t.Fatalf("conditions %+v", j.Status.Conditions)
	}
	f.mustSync("idx")
	j = f.job("idx")
	if c := findCondition(j.Status.Conditions, batchv1.JobComplete); c == nil || c.Reason != "SuccessPolicy" || c.Message != "Matched rules at index 0" {
		t.Errorf("conditions %+v", j.Status.Conditions)
	}
}

func TestAJobManagedByAnotherControllerIsLeftAlone(t *testing.T) {
	job := newJob("pi", 1, 1)
	job.Spec.ManagedBy = ptr.To("example.com/batch")
	f := newFixture(t, job)
	f.mustSync("pi")
	f.expectActions()
}

func TestOrphansMatchingTheSelectorAreAdoptedWithTheFinalizer(t *testing.T) {
	job := newJob("pi", 1, 1)
	orphan := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "stray", Namespace: "ns", UID: "stray-uid", Labels: job.Spec.Template.Labels}}
	f := newFixture(t, job, orphan)
	f.mustSync("pi")
	acts := f.actions()
	if len(acts) < 2 || acts[0] != "get jobs" || acts[1] != "patch pods" {
		t.Fatalf("actions %v", acts)
	}
	p := f.pods()[0]
	if !hasTrackingFinalizer(p) || metav1.GetControllerOf(p) == nil {
		t.Errorf("adopted pod %+v", p.ObjectMeta)
	}
	if len(f.pods()) != 1 {
		t.Errorf("a pod was created beside the adopted one")
	}
}

func TestOrphanedPodsLoseTheTrackingFinalizer(t *testing.T) {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "left", Namespace: "ns", Finalizers: []string{batchv1.JobTrackingFinalizer, "other"}}}
	f := newFixture(t, p)
	if err := f.ctrl.syncOrphans(context.Background(), orphanKey{namespace: "ns", name: "left"}); err != nil {
		t.Fatal(err)
	}
	f.refresh()
	if got := f.pods()[0].Finalizers; len(got) != 1 || got[0] != "other" {
		t.Errorf("finalizers %v", got)
	}
}
