package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// No kubelet runs on this cluster: the tests play its part and report pods
// finished themselves, and the Job controller counts them.

// jobManifest is a Job whose pods go to the test's own node (or stay
// unscheduled when nodeSelector matches none).
func jobManifest(name, nodeLabel string, extra string) string {
	return fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata:
  name: %s
spec:
%s
  template:
    spec:
      restartPolicy: Never
      nodeSelector:
        e2e.minik8s.io/nodes: %s
      containers:
      - name: work
        image: busybox
        command: ["true"]
`, name, extra, nodeLabel)
}

// jobPods lists the pods of a job that are not being deleted.
func jobPods(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns, job string) []corev1.Pod {
	t.Helper()
	list, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: batchv1.JobNameLabel + "=" + job})
	if err != nil {
		t.Fatal(err)
	}
	var out []corev1.Pod
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out
}

// finishPod reports a pod finished, as its kubelet would.
func finishPod(t *testing.T, ctx context.Context, cs kubernetes.Interface, p *corev1.Pod, phase corev1.PodPhase, exitCode int32) {
	t.Helper()
	now := metav1.Now()
	status := map[string]interface{}{"status": corev1.PodStatus{Phase: phase, ContainerStatuses: []corev1.ContainerStatus{{
		Name: "work", Image: "busybox", ImageID: "busybox", Ready: false,
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: exitCode, StartedAt: now, FinishedAt: now}},
	}}}}
	patch, _ := json.Marshal(status)
	if _, err := cs.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.MergePatchType, patch, metav1.PatchOptions{}, "status"); err != nil {
		t.Fatalf("report %s %s: %v", p.Name, phase, err)
	}
}

func jobCondition(j *batchv1.Job, ct batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range j.Status.Conditions {
		if j.Status.Conditions[i].Type == ct && j.Status.Conditions[i].Status == corev1.ConditionTrue {
			return &j.Status.Conditions[i]
		}
	}
	return nil
}

func eventsOf(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns, name string) []string {
	t.Helper()
	evs, err := cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + name})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs.Items {
		out = append(out, e.Type+" "+e.Reason+" "+e.Message)
	}
	return out
}

func waitEvent(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns, name, prefix string) {
	t.Helper()
	framework.Eventually(t, 30*time.Second, func() error {
		evs := eventsOf(t, ctx, cs, ns, name)
		for _, e := range evs {
			if strings.HasPrefix(e, prefix) {
				return nil
			}
		}
		return fmt.Errorf("no event %q among %v", prefix, evs)
	})
}

// A job of 3 completions, 2 at a time, on a node of the test's own: two pods
// run, each success brings the next until three succeeded; kubectl shows it
// Complete 3/3.
func TestJobCompletesThreeCompletionsTwoAtATime(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	cs := cluster.Client(t)
	ctx := ctxT(t)
	createZonedNodes(t, ctx, cs, s.Namespace, []string{"batch"})
	framework.Contains(t, s.Apply(jobManifest("pi", s.Namespace, "  completions: 3\n  parallelism: 2")), "job.batch/pi created")

	succeeded := map[string]bool{}
	framework.Eventually(t, 60*time.Second, func() error {
		pods := jobPods(t, ctx, cs, s.Namespace, "pi")
		running := 0
		for i := range pods {
			p := &pods[i]
			if p.Status.Phase == corev1.PodSucceeded {
				continue
			}
			running++
			if !hasFinalizer(p, batchv1.JobTrackingFinalizer) || p.Spec.NodeName == "" {
				return fmt.Errorf("pod %s: finalizers %v node %q", p.Name, p.Finalizers, p.Spec.NodeName)
			}
			if running > 2 {
				t.Fatalf("more than parallelism pods run: %d", running)
			}
			finishPod(t, ctx, cs, p, corev1.PodSucceeded, 0)
			succeeded[p.Name] = true
		}
		if len(succeeded) < 3 {
			return fmt.Errorf("%d pods succeeded", len(succeeded))
		}
		return nil
	})
	if len(succeeded) != 3 {
		t.Fatalf("%d pods ran for 3 completions: %v", len(succeeded), succeeded)
	}
	framework.Eventually(t, 30*time.Second, func() error {
		j, err := cs.BatchV1().Jobs(s.Namespace).Get(ctx, "pi", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if jobCondition(j, batchv1.JobComplete) == nil || j.Status.Succeeded != 3 || j.Status.CompletionTime == nil {
			return fmt.Errorf("status %+v", j.Status)
		}
		return nil
	})
	out := s.Run("get", "job", "pi")
	framework.Matches(t, out, `NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE`)
	framework.Matches(t, out, `pi\s+Complete\s+3/3\s+`)
	for _, p := range jobPods(t, ctx, cs, s.Namespace, "pi") {
		if hasFinalizer(&p, batchv1.JobTrackingFinalizer) {
			t.Errorf("%s keeps the tracking finalizer after it was counted", p.Name)
		}
	}
	j, _ := cs.BatchV1().Jobs(s.Namespace).Get(ctx, "pi", metav1.GetOptions{})
	if c := jobCondition(j, batchv1.JobSuccessCriteriaMet); c == nil || c.Reason != "CompletionsReached" {
		t.Errorf("conditions %+v", j.Status.Conditions)
	}
	waitEvent(t, ctx, cs, s.Namespace, "pi", "Normal Completed Job completed")
	waitEvent(t, ctx, cs, s.Namespace, "pi", "Normal SuccessfulCreate Created pod: pi-")
	framework.Contains(t, s.Run("describe", "job", "pi"), "Pods Statuses:", "3 Succeeded", "Completed", "Job completed")
}

func hasFinalizer(p *corev1.Pod, f string) bool {
	for _, x := range p.Finalizers {
		if x == f {
			return true
		}
	}
	return false
}

// Two pods fail with a backoffLimit of 1: the job fails with upstream's
// reason, message and event.
func TestJobFailsOnceFailuresPassTheBackoffLimit(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	cs := cluster.Client(t)
	ctx := ctxT(t)
	createZonedNodes(t, ctx, cs, s.Namespace, []string{"batch"})
	s.Apply(jobManifest("doomed", s.Namespace, "  completions: 4\n  parallelism: 2\n  backoffLimit: 1"))
	var pods []corev1.Pod
	framework.Eventually(t, 30*time.Second, func() error {
		if pods = jobPods(t, ctx, cs, s.Namespace, "doomed"); len(pods) != 2 {
			return fmt.Errorf("%d pods", len(pods))
		}
		return nil
	})
	for i := range pods {
		finishPod(t, ctx, cs, &pods[i], corev1.PodFailed, 3)
	}
	framework.Eventually(t, 30*time.Second, func() error {
		j, err := cs.BatchV1().Jobs(s.Namespace).Get(ctx, "doomed", metav1.GetOptions{})
		if err != nil {
			return err
		}
		c := jobCondition(j, batchv1.JobFailed)
		if c == nil {
			return fmt.Errorf("conditions %+v", j.Status.Conditions)
		}
		if c.Reason != "BackoffLimitExceeded" || c.Message != "Job has reached the specified backoff limit" || j.Status.Failed != 2 ||
			jobCondition(j, batchv1.JobFailureTarget) == nil {
			t.Fatalf("status %+v", j.Status)
		}
		return nil
	})
	framework.Matches(t, s.Run("get", "job", "doomed"), `doomed\s+Failed\s+0/4\s+`)
	waitEvent(t, ctx, cs, s.Namespace, "doomed", "Warning BackoffLimitExceeded Job has reached the specified backoff limit")
	if n := len(jobPods(t, ctx, cs, s.Namespace, "doomed")); n != 2 {
		t.Errorf("%d pods after the job failed, want the 2 failed ones", n)
	}
}

// A suspended job creates no pod; resumed it does; suspended again its pods
// are deleted, uncounted. Its pods match no node, as no node is needed.
func TestSuspendedJobCreatesNoPodsUntilResumed(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	cs := cluster.Client(t)
	ctx := ctxT(t)
	s.Apply(jobManifest("later", "no-such-node", "  parallelism: 2\n  completions: 2\n  suspend: true"))
	framework.Eventually(t, 30*time.Second, func() error {
		j, err := cs.BatchV1().Jobs(s.Namespace).Get(ctx, "later", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if c := jobCondition(j, batchv1.JobSuspended); c == nil || c.Reason != "JobSuspended" || j.Status.StartTime != nil {
			return fmt.Errorf("status %+v", j.Status)
		}
		return nil
	})
	framework.Matches(t, s.Run("get", "job", "later"), `later\s+Suspended\s+0/2`)
	if n := len(jobPods(t, ctx, cs, s.Namespace, "later")); n != 0 {
		t.Fatalf("a suspended job has %d pods", n)
	}
	s.Run("patch", "job", "later", "--type=merge", "-p", `{"spec":{"suspend":false}}`)
	framework.Eventually(t, 30*time.Second, func() error {
		if n := len(jobPods(t, ctx, cs, s.Namespace, "later")); n != 2 {
			return fmt.Errorf("%d pods", n)
		}
		j, _ := cs.BatchV1().Jobs(s.Namespace).Get(ctx, "later", metav1.GetOptions{})
		if j.Status.StartTime == nil || j.Status.Active != 2 {
			return fmt.Errorf("status %+v", j.Status)
		}
		return nil
	})
	waitEvent(t, ctx, cs, s.Namespace, "later", "Normal Resumed Job resumed")
	s.Run("patch", "job", "later", "--type=merge", "-p", `{"spec":{"suspend":true}}`)
	framework.Eventually(t, 30*time.Second, func() error {
		if n := len(jobPods(t, ctx, cs, s.Namespace, "later")); n != 0 {
			return fmt.Errorf("%d pods", n)
		}
		j, _ := cs.BatchV1().Jobs(s.Namespace).Get(ctx, "later", metav1.GetOptions{})
		if j.Status.Active != 0 || j.Status.Failed != 0 || jobCondition(j, batchv1.JobSuspended) == nil {
			return fmt.Errorf("status %+v", j.Status)
		}
		return nil
	})
}

// A finished job with ttlSecondsAfterFinished 0 is deleted, with its pod.
func TestFinishedJobIsDeletedAfterItsTTL(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	cs := cluster.Client(t)
	ctx := ctxT(t)
	s.Apply(jobManifest("brief", "no-such-node", "  ttlSecondsAfterFinished: 0"))
	var pods []corev1.Pod
	framework.Eventually(t, 30*time.Second, func() error {
		if pods = jobPods(t, ctx, cs, s.Namespace, "brief"); len(pods) != 1 {
			return fmt.Errorf("%d pods", len(pods))
		}
		return nil
	})
	finishPod(t, ctx, cs, &pods[0], corev1.PodSucceeded, 0)
	framework.Eventually(t, 30*time.Second, func() error {
		_, err := cs.BatchV1().Jobs(s.Namespace).Get(ctx, "brief", metav1.GetOptions{})
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("job still there: %v", err)
		}
		if _, err := cs.CoreV1().Pods(s.Namespace).Get(ctx, pods[0].Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("pod still there: %v", err)
		}
		return nil
	})
}

func cronJobManifest(name, schedule, extra string) string {
	return fmt.Sprintf(`apiVersion: batch/v1
kind: CronJob
metadata:
  name: %s
spec:
  schedule: %q
  suspend: true
%s
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          nodeSelector:
            e2e.minik8s.io/nodes: none
          containers:
          - name: work
            image: busybox
`, name, schedule, extra)
}

// setLastSchedule pretends the CronJob last ran at t, so the start times
// since are missed ones, then resumes it.
func setLastSchedule(t *testing.T, ctx context.Context, cs kubernetes.Interface, s *framework.Session, name string, at time.Time) {
	t.Helper()
	patch := fmt.Sprintf(`{"status":{"lastScheduleTime":%q}}`, at.UTC().Format(time.RFC3339))
	if _, err := cs.BatchV1().CronJobs(s.Namespace).Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}, "status"); err != nil {
		t.Fatal(err)
	}
	s.Run("patch", "cronjob", name, "--type=merge", "-p", `{"spec":{"suspend":false}}`)
}

func ownedJobs(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns, cronJob string) []batchv1.Job {
	t.Helper()
	list, err := cs.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []batchv1.Job
	for _, j := range list.Items {
		if ref := metav1.GetControllerOf(&j); ref != nil && ref.Kind == "CronJob" && ref.Name == cronJob {
			out = append(out, j)
		}
	}
	return out
}

// A CronJob that missed start times (its last run three minutes ago) starts
// the latest one at once: the job named by its minute, the scheduled-timestamp
// annotation, status.active and lastScheduleTime; more than a hundred missed
// earn a warning; start times older than startingDeadlineSeconds are skipped.
// kubectl create job --from=cronjob makes a job of the same template.
func TestCronJobStartsTheMissedStartTimeAndKubectlCreatesJobsFromIt(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	cs := cluster.Client(t)
	ctx := ctxT(t)
	s.Apply(cronJobManifest("tick", "*/1 * * * *", ""))
	setLastSchedule(t, ctx, cs, s, "tick", time.Now().Add(-3*time.Minute).Truncate(time.Minute))
	var job batchv1.Job
	framework.Eventually(t, 30*time.Second, func() error {
		jobs := ownedJobs(t, ctx, cs, s.Namespace, "tick")
		if len(jobs) != 1 {
			return fmt.Errorf("%d jobs", len(jobs))
		}
		job = jobs[0]
		return nil
	})
	cj, err := cs.BatchV1().CronJobs(s.Namespace).Get(ctx, "tick", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, func() error {
		cj, err = cs.BatchV1().CronJobs(s.Namespace).Get(ctx, "tick", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if len(cj.Status.Active) != 1 || cj.Status.Active[0].Name != job.Name {
			return fmt.Errorf("status %+v", cj.Status)
		}
		return nil
	})
	last := cj.Status.LastScheduleTime.Time
	if since := time.Since(last); since < 0 || since > 2*time.Minute || last.Second() != 0 {
		t.Errorf("lastScheduleTime %v", last)
	}
	if want := "tick-" + strconv.FormatInt(last.Unix()/60, 10); job.Name != want {
		t.Errorf("job %s, want %s", job.Name, want)
	}
	if got := job.Annotations[batchv1.CronJobScheduledTimestampAnnotation]; got != last.UTC().Format(time.RFC3339) {
		t.Errorf("scheduled timestamp %q, want %s", got, last.UTC().Format(time.RFC3339))
	}
	waitEvent(t, ctx, cs, s.Namespace, "tick", "Normal SuccessfulCreate Created job "+job.Name)
	out := s.Run("get", "cronjob", "tick")
	framework.Matches(t, out, `NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+ACTIVE\s+LAST SCHEDULE\s+AGE`)
	framework.Matches(t, out, `tick\s+\*/1 \* \* \* \*\s+<none>\s+False\s+1\s+\d+s`)
	// The job the CronJob made runs like any other.
	framework.Eventually(t, 30*time.Second, func() error {
		if n := len(jobPods(t, ctx, cs, s.Namespace, job.Name)); n != 1 {
			return fmt.Errorf("%d pods of %s", n, job.Name)
		}
		return nil
	})

	framework.Contains(t, s.Run("create", "job", "by-hand", "--from=cronjob/tick"), "job.batch/by-hand created")
	manual, err := cs.BatchV1().Jobs(s.Namespace).Get(ctx, "by-hand", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ref := metav1.GetControllerOf(manual); ref == nil || ref.Name != "tick" || manual.Annotations["cronjob.kubernetes.io/instantiate"] != "manual" {
		t.Errorf("manual job owners %+v annotations %v", manual.OwnerReferences, manual.Annotations)
	}
	framework.Eventually(t, 30*time.Second, func() error {
		if n := len(jobPods(t, ctx, cs, s.Namespace, "by-hand")); n != 1 {
			return fmt.Errorf("%d pods of by-hand", n)
		}
		return nil
	})
	waitEvent(t, ctx, cs, s.Namespace, "tick", "Warning UnexpectedJob Saw a job that the controller did not create or forgot: by-hand")

	// Hours of missed minutes: the latest still runs, with a warning.
	s.Apply(cronJobManifest("late", "*/1 * * * *", ""))
	setLastSchedule(t, ctx, cs, s, "late", time.Now().Add(-3*time.Hour))
	waitEvent(t, ctx, cs, s.Namespace, "late", "Warning TooManyMissedTimes too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew")
	waitEvent(t, ctx, cs, s.Namespace, "late", "Normal SuccessfulCreate Created job late-")

	// Hourly at a minute five minutes ago, with a one-minute deadline: that
	// start time is too old to run, and nothing else is due for an hour.
	minute := time.Now().Add(-5 * time.Minute).Minute()
	s.Apply(cronJobManifest("strict", fmt.Sprintf("%d * * * *", minute), "  startingDeadlineSeconds: 60"))
	setLastSchedule(t, ctx, cs, s, "strict", time.Now().Add(-2*time.Hour))
	time.Sleep(3 * time.Second)
	if jobs := ownedJobs(t, ctx, cs, s.Namespace, "strict"); len(jobs) != 0 {
		t.Errorf("a start time past its deadline ran: %s", jobs[0].Name)
	}
	// Without the deadline the same start time runs.
	s.Run("patch", "cronjob", "strict", "--type=json", "-p", `[{"op":"remove","path":"/spec/startingDeadlineSeconds"}]`)
	framework.Eventually(t, 30*time.Second, func() error {
		if jobs := ownedJobs(t, ctx, cs, s.Namespace, "strict"); len(jobs) != 1 {
			return fmt.Errorf("%d jobs", len(jobs))
		}
		return nil
	})
}

// A pod being deleted that never got a node (held by a finalizer of its own)
// is marked Failed and force-deleted by the pod garbage collector.
func TestPodGCFailsUnscheduledTerminatingPods(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	cs := cluster.Client(t)
	ctx := ctxT(t)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "stuck", Finalizers: []string{"e2e.minik8s.io/hold"}},
		Spec: corev1.PodSpec{NodeSelector: map[string]string{"e2e.minik8s.io/nodes": "none"}, Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
	if _, err := cs.CoreV1().Pods(s.Namespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = cs.CoreV1().Pods(s.Namespace).Patch(context.Background(), "stuck", types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
	})
	grace := int64(30)
	if err := cs.CoreV1().Pods(s.Namespace).Delete(ctx, "stuck", metav1.DeleteOptions{GracePeriodSeconds: &grace}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 45*time.Second, func() error {
		p, err := cs.CoreV1().Pods(s.Namespace).Get(ctx, "stuck", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if p.Status.Phase != corev1.PodFailed || p.DeletionGracePeriodSeconds == nil || *p.DeletionGracePeriodSeconds != 0 {
			return fmt.Errorf("phase %s, grace %v", p.Status.Phase, p.DeletionGracePeriodSeconds)
		}
		return nil
	})
}
