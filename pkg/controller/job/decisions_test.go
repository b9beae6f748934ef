package job

import (
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func TestBackoffDelayDoublesFromTenSecondsUpToTheCap(t *testing.T) {
	cases := []struct {
		failures int32
		want     time.Duration
	}{
		{0, 0}, {1, 10 * time.Second}, {2, 20 * time.Second}, {3, 40 * time.Second}, {6, 320 * time.Second},
		{7, 10 * time.Minute}, {50, 10 * time.Minute},
	}
	for _, c := range cases {
		if got := backoffDelay(c.failures, DefaultPodFailureBackoff, MaxPodFailureBackoff); got != c.want {
			t.Errorf("%d failures: %s, want %s", c.failures, got, c.want)
		}
	}
}

func TestRemainingBackoffCountsFromTheLastFailure(t *testing.T) {
	last := t0
	cases := []struct {
		name     string
		failures int32
		last     *time.Time
		now      time.Time
		want     time.Duration
	}{
		{"no failure: no wait", 0, nil, t0, 0},
		{"one failure just now: ten seconds", 1, &last, t0, 10 * time.Second},
		{"one failure four seconds ago: six left", 1, &last, t0.Add(4 * time.Second), 6 * time.Second},
		{"three failures, a minute ago: past the forty seconds", 3, &last, t0.Add(time.Minute), 0},
		{"a failure without a time: no wait", 2, nil, t0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := remainingBackoff(c.failures, c.last, c.now, DefaultPodFailureBackoff, MaxPodFailureBackoff); got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}

func finishedPod(name string, phase corev1.PodPhase, at time.Time) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.PodStatus{Phase: phase,
		ContainerStatuses: []corev1.ContainerStatus{{Name: "c", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{FinishedAt: metav1.NewTime(at)}}}}}}
}

func TestBackoffRecordCountsFailuresSinceTheLastSuccess(t *testing.T) {
	earlier := t0.Add(-time.Minute)
	cases := []struct {
		name         string
		prev         backoffRecord
		succeeded    []*corev1.Pod
		failed       []*corev1.Pod
		wantFailures int32
		wantLast     *time.Time
	}{
		{"nothing new keeps the record", backoffRecord{failures: 2, lastFailure: &earlier}, nil, nil, 2, &earlier},
		{"new failures add up and move the time", backoffRecord{failures: 1, lastFailure: &earlier}, nil,
			[]*corev1.Pod{finishedPod("b", corev1.PodFailed, t0), finishedPod("a", corev1.PodFailed, t0.Add(-time.Second))}, 3, &t0},
		{"a success alone resets", backoffRecord{failures: 4, lastFailure: &earlier}, []*corev1.Pod{finishedPod("s", corev1.PodSucceeded, t0)}, nil, 0, nil},
		{"failures after the last success still count", backoffRecord{failures: 4, lastFailure: &earlier},
			[]*corev1.Pod{finishedPod("s", corev1.PodSucceeded, t0)},
			[]*corev1.Pod{finishedPod("before", corev1.PodFailed, t0.Add(-time.Second)), finishedPod("after", corev1.PodFailed, t0.Add(time.Second))},
			1, ptr.To(t0.Add(time.Second))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := nextBackoffRecord(c.prev, c.succeeded, c.failed)
			if got.failures != c.wantFailures || (got.lastFailure == nil) != (c.wantLast == nil) ||
				(got.lastFailure != nil && !got.lastFailure.Equal(*c.wantLast)) {
				t.Errorf("got %d at %v, want %d at %v", got.failures, got.lastFailure, c.wantFailures, c.wantLast)
			}
		})
	}
}

func TestPodFinishTimeFallsBackFromContainersToConditionsToDeletionToCreation(t *testing.T) {
	created := metav1.NewTime(t0.Add(-time.Hour))
	deleted := metav1.NewTime(t0.Add(30 * time.Second))
	running := corev1.ContainerStatus{Name: "c", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
	cases := []struct {
		name string
		pod  corev1.Pod
		want time.Time
	}{
		{"the last container to finish", *finishedPod("p", corev1.PodFailed, t0), t0},
		{"a container still running: Ready=False's transition", corev1.Pod{Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{running},
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse, LastTransitionTime: metav1.NewTime(t0.Add(time.Minute))}}}}, t0.Add(time.Minute)},
		{"being deleted: the deletion minus its grace", corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &deleted, DeletionGracePeriodSeconds: ptr.To[int64](30)}}, t0},
		{"nothing else: the creation", corev1.Pod{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: created}}, created.Time},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := podFinishTime(&c.pod); !got.Equal(c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func exited(name string, code int32) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code}}}
}

func TestPodFailurePolicyRulesMatchInOrder(t *testing.T) {
	policy := &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{
		{Action: batchv1.PodFailurePolicyActionIgnore, OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}}},
		{Action: batchv1.PodFailurePolicyActionFailJob, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{ContainerName: ptr.To("main"), Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{42}}},
		{Action: batchv1.PodFailurePolicyActionFailIndex, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{7}}},
		{Action: batchv1.PodFailurePolicyActionCount, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: batchv1.PodFailurePolicyOnExitCodesOpNotIn, Values: []int32{1, 2}}},
	}}
	pod := func(conds []corev1.PodCondition, statuses ...corev1.ContainerStatus) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"}, Status: corev1.PodStatus{Phase: corev1.PodFailed, Conditions: conds, ContainerStatuses: statuses}}
	}
	disrupted := []corev1.PodCondition{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}}
	cases := []struct {
		name       string
		policy     *batchv1.PodFailurePolicy
		pod        *corev1.Pod
		wantAction batchv1.PodFailurePolicyAction
		wantCounts bool
		wantMsg    string
	}{
		{"no policy: every failure counts", nil, pod(nil, exited("main", 42)), "", true, ""},
		{"a disruption is ignored", policy, pod(disrupted, exited("main", 42)), batchv1.PodFailurePolicyActionIgnore, false, ""},
		{"exit code 42 of main fails the job with upstream's message", policy, pod(nil, exited("main", 42)), batchv1.PodFailurePolicyActionFailJob, true,
			"Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 1"},
		{"exit code 42 of another container is not that rule's", policy, pod(nil, exited("side", 42)), batchv1.PodFailurePolicyActionCount, true, ""},
		{"exit code 7 fails the index", policy, pod(nil, exited("main", 7)), batchv1.PodFailurePolicyActionFailIndex, true, ""},
		{"exit code 1 matches no rule and counts", policy, pod(nil, exited("main", 1)), "", true, ""},
		{"exit code 0 never matches", policy, pod(nil, exited("main", 0)), "", true, ""},
		{"init containers are looked at after app containers", policy,
			&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"}, Status: corev1.PodStatus{InitContainerStatuses: []corev1.ContainerStatus{exited("main", 42)}}},
			batchv1.PodFailurePolicyActionFailJob, true, "Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 1"},
		{"a FailJob condition rule names the condition", &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{Action: batchv1.PodFailurePolicyActionFailJob,
			OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}}}}},
			pod(disrupted), batchv1.PodFailurePolicyActionFailJob, true, "Pod ns/p has condition DisruptionTarget matching FailJob rule at index 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := matchFailurePolicy(c.policy, c.pod)
			if m.action != c.wantAction || m.counts() != c.wantCounts || m.failJob != c.wantMsg {
				t.Errorf("got %q counts=%v %q", m.action, m.counts(), m.failJob)
			}
		})
	}
}

func TestSuccessPolicyRules(t *testing.T) {
	rule := func(indexes *string, count *int32) batchv1.SuccessPolicyRule {
		return batchv1.SuccessPolicyRule{SucceededIndexes: indexes, SucceededCount: count}
	}
	cases := []struct {
		name      string
		rules     []batchv1.SuccessPolicyRule
		succeeded string
		want      string
	}{
		{"all named indexes succeeded", []batchv1.SuccessPolicyRule{rule(ptr.To("0,2-3"), nil)}, "0-3", "Matched rules at index 0"},
		{"one named index missing", []batchv1.SuccessPolicyRule{rule(ptr.To("0,2-3"), nil)}, "0-2", ""},
		{"enough of the named indexes", []batchv1.SuccessPolicyRule{rule(ptr.To("0-4"), ptr.To[int32](2))}, "3-4,8", "Matched rules at index 0"},
		{"too few of the named indexes", []batchv1.SuccessPolicyRule{rule(ptr.To("0-4"), ptr.To[int32](3))}, "3-4,8", ""},
		{"a count alone of any indexes", []batchv1.SuccessPolicyRule{rule(ptr.To("9"), nil), rule(nil, ptr.To[int32](3))}, "3-4,8", "Matched rules at index 1"},
		{"nothing succeeded: nothing matches", []batchv1.SuccessPolicyRule{rule(nil, ptr.To[int32](0))}, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msg, ok := matchSuccessPolicy(&batchv1.SuccessPolicy{Rules: c.rules}, 10, parseIndexes(c.succeeded, 10))
			if ok != (c.want != "") || msg != c.want {
				t.Errorf("got %q %v, want %q", msg, ok, c.want)
			}
		})
	}
	if _, ok := matchSuccessPolicy(nil, 10, parseIndexes("0-9", 10)); ok {
		t.Error("no policy matched")
	}
}

func TestWantActiveAndCompletion(t *testing.T) {
	job := func(completions *int32, parallelism int32) *batchv1.Job {
		return &batchv1.Job{Spec: batchv1.JobSpec{Completions: completions, Parallelism: &parallelism}}
	}
	cases := []struct {
		name             string
		job              *batchv1.Job
		succeeded        int32
		active           int32
		wantActive       int32
		wantComplete     bool
		wantCompleteIdle bool
	}{
		{"parallelism below the completions left", job(ptr.To[int32](5), 2), 1, 2, 2, false, false},
		{"no more than the completions left", job(ptr.To[int32](5), 4), 3, 4, 2, false, false},
		{"completions reached: none", job(ptr.To[int32](3), 2), 3, 1, 0, false, true},
		{"a work queue runs parallelism until one succeeds", job(nil, 3), 0, 1, 3, false, false},
		{"a work queue keeps what runs after a success", job(nil, 3), 1, 2, 2, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := wantActive(c.job, c.succeeded, c.active); got != c.wantActive {
				t.Errorf("wantActive = %d, want %d", got, c.wantActive)
			}
			if got := jobComplete(c.job, c.succeeded, c.active); got != c.wantComplete {
				t.Errorf("complete with %d active = %v", c.active, got)
			}
			if got := jobComplete(c.job, c.succeeded, 0); got != c.wantCompleteIdle {
				t.Errorf("complete with none active = %v", got)
			}
		})
	}
}

func TestPodFailedDependsOnTheReplacementPolicy(t *testing.T) {
	deleting := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &metav1.Time{Time: t0}}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	failed := &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodFailed}}
	succeededDeleting := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &metav1.Time{Time: t0}}, Status: corev1.PodStatus{Phase: corev1.PodSucceeded}}
	replaceAny := &batchv1.Job{Spec: batchv1.JobSpec{PodReplacementPolicy: ptr.To(batchv1.TerminatingOrFailed)}}
	onlyFailed := &batchv1.Job{Spec: batchv1.JobSpec{PodReplacementPolicy: ptr.To(batchv1.Failed)}}
	withPolicy := &batchv1.Job{Spec: batchv1.JobSpec{PodFailurePolicy: &batchv1.PodFailurePolicy{}}}
	cases := []struct {
		name string
		pod  *corev1.Pod
		job  *batchv1.Job
		want bool
	}{
		{"a Failed pod has failed", failed, onlyFailed, true},
		{"a deleted running pod has failed when terminating pods are replaced", deleting, replaceAny, true},
		{"a deleted running pod has not failed yet when only failures are replaced", deleting, onlyFailed, false},
		{"a pod failure policy implies only failures are replaced", deleting, withPolicy, false},
		{"a deleted pod that succeeded has not failed", succeededDeleting, replaceAny, false},
	}
	for _, c := range cases {
		if got := isPodFailed(c.pod, c.job); got != c.want {
			t.Errorf("%s: got %v", c.name, got)
		}
	}
}

func TestBackoffLimitOnFailureCountsContainerRestarts(t *testing.T) {
	job := &batchv1.Job{Spec: batchv1.JobSpec{BackoffLimit: ptr.To[int32](2), Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyOnFailure}}}}
	restarting := func(phase corev1.PodPhase, n int32) *corev1.Pod {
		return &corev1.Pod{Status: corev1.PodStatus{Phase: phase, ContainerStatuses: []corev1.ContainerStatus{{RestartCount: n}}, InitContainerStatuses: []corev1.ContainerStatus{{RestartCount: 0}}}}
	}
	if pastBackoffLimitOnFailure(job, []*corev1.Pod{restarting(corev1.PodRunning, 1)}) {
		t.Error("one restart of two allowed")
	}
	if !pastBackoffLimitOnFailure(job, []*corev1.Pod{restarting(corev1.PodRunning, 1), restarting(corev1.PodPending, 1)}) {
		t.Error("two restarts reach a limit of two")
	}
	if pastBackoffLimitOnFailure(job, []*corev1.Pod{restarting(corev1.PodFailed, 5)}) {
		t.Error("finished pods' restarts count")
	}
	job.Spec.BackoffLimit = ptr.To[int32](0)
	if !pastBackoffLimitOnFailure(job, []*corev1.Pod{restarting(corev1.PodRunning, 1)}) {
		t.Error("a limit of zero allows no restart")
	}
	job.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever
	if pastBackoffLimitOnFailure(job, []*corev1.Pod{restarting(corev1.PodRunning, 9)}) {
		t.Error("restartPolicy Never counts failed pods instead")
	}
}

func TestActiveDeadlineRunsFromTheStartWhileNotSuspended(t *testing.T) {
	start := metav1.NewTime(t0)
	job := &batchv1.Job{Spec: batchv1.JobSpec{ActiveDeadlineSeconds: ptr.To[int64](60)}, Status: batchv1.JobStatus{StartTime: &start}}
	if left, ok := activeDeadlineLeft(job, t0.Add(20*time.Second)); !ok || left != 40*time.Second {
		t.Errorf("left %s %v", left, ok)
	}
	if left, ok := activeDeadlineLeft(job, t0.Add(61*time.Second)); !ok || left >= 0 {
		t.Errorf("past: %s %v", left, ok)
	}
	job.Spec.Suspend = ptr.To(true)
	if _, ok := activeDeadlineLeft(job, t0.Add(61*time.Second)); ok {
		t.Error("a suspended job's deadline runs")
	}
}

func TestIndexedPodsCarryTheirIndexHostnameAndPrefix(t *testing.T) {
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "work", Namespace: "ns", UID: "j"},
		Spec: batchv1.JobSpec{CompletionMode: ptr.To(batchv1.IndexedCompletion), Completions: ptr.To[int32](5), BackoffLimitPerIndex: ptr.To[int32](2),
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"a": "b"}},
				Spec: corev1.PodSpec{InitContainers: []corev1.Container{{Name: "i"}}, Containers: []corev1.Container{{Name: "c", Env: []corev1.EnvVar{{Name: "X", Value: "1"}}}}}}}}
	tpl := podTemplate(job)
	replaced := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{batchv1.JobIndexFailureCountAnnotation: "1"}}, Status: corev1.PodStatus{Phase: corev1.PodFailed}}
	p := newPod(job, tpl, nil, 3, replaced)
	if p.GenerateName != "work-3-" || p.Spec.Hostname != "work-3" || p.Annotations[batchv1.JobCompletionIndexAnnotation] != "3" ||
		p.Labels[batchv1.JobCompletionIndexAnnotation] != "3" || p.Labels["a"] != "b" || p.Annotations[batchv1.JobIndexFailureCountAnnotation] != "2" {
		t.Fatalf("pod %s host %s annotations %v labels %v", p.GenerateName, p.Spec.Hostname, p.Annotations, p.Labels)
	}
	if len(p.Finalizers) != 1 || p.Finalizers[0] != batchv1.JobTrackingFinalizer {
		t.Errorf("finalizers %v", p.Finalizers)
	}
	for _, c := range append(p.Spec.InitContainers, p.Spec.Containers...) {
		last := c.Env[len(c.Env)-1]
		if last.Name != "JOB_COMPLETION_INDEX" || last.ValueFrom.FieldRef.FieldPath != "metadata.labels['batch.kubernetes.io/job-completion-index']" {
			t.Errorf("container %s env %v", c.Name, c.Env)
		}
	}
	if job.Spec.Template.Spec.Containers[0].Env[0].Name != "X" || len(job.Spec.Template.Spec.Containers[0].Env) != 1 || job.Spec.Template.Finalizers != nil {
		t.Error("the job's own template changed")
	}
	long := "a-very-long-job-name-that-goes-on-and-on-and-on-and-on-xyz"
	if got := indexedNamePrefix(long, 12); len(got) != maxGeneratedNameLength || got[len(got)-4:] != "-12-" {
		t.Errorf("long prefix %q (%d)", got, len(got))
	}
}
