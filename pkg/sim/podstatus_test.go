package sim

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func testPod() *corev1.Pod {
	always := corev1.ContainerRestartPolicyAlways
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "uid-1"},
		Spec: corev1.PodSpec{NodeName: "sim-0", RestartPolicy: corev1.RestartPolicyAlways,
			InitContainers: []corev1.Container{{Name: "init", Image: "busybox"}, {Name: "sidecar", Image: "envoy:1", RestartPolicy: &always}},
			Containers:     []corev1.Container{{Name: "web", Image: "nginx:1.25"}, {Name: "db", Image: "registry.example.com/db@sha256:abc"}},
		},
		Status: corev1.PodStatus{Phase: corev1.PodPending, QOSClass: corev1.PodQOSBestEffort},
	}
}

func running(p *corev1.Pod, now time.Time) *corev1.Pod {
	p = p.DeepCopy()
	p.Status = runningStatus(p, "100.64.0.2", "198.18.0.1", now)
	return p
}

func TestPlanPod(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	zero, thirty := int64(0), int64(30)
	ts := metav1.NewTime(now)
	cases := []struct {
		name  string
		pod   func() *corev1.Pod
		want  podAction
		after time.Duration
	}{
		{"a pending pod is run", testPod, podRun, 0},
		{"a pod running as wanted is left alone", func() *corev1.Pod { return running(testPod(), now) }, podNothing, 0},
		{"a pod being deleted is removed", func() *corev1.Pod {
			p := running(testPod(), now)
			p.DeletionTimestamp, p.DeletionGracePeriodSeconds = &ts, &thirty
			return p
		}, podRemove, 0},
		{"a pod already deleted with grace 0 waits for its finalizers", func() *corev1.Pod {
			p := running(testPod(), now)
			p.DeletionTimestamp, p.DeletionGracePeriodSeconds = &ts, &zero
			return p
		}, podNothing, 0},
		{"a pending pod being deleted is removed too", func() *corev1.Pod {
			p := testPod()
			p.DeletionTimestamp, p.DeletionGracePeriodSeconds = &ts, &thirty
			return p
		}, podRemove, 0},
		{"a succeeded pod is left alone", func() *corev1.Pod { p := testPod(); p.Status.Phase = corev1.PodSucceeded; return p }, podNothing, 0},
		{"a running pod whose image changed is run again", func() *corev1.Pod {
			p := running(testPod(), now)
			p.Spec.Containers[0].Image = "nginx:1.26"
			return p
		}, podRun, 0},
		{"a running pod whose readiness gate turned True is run again to become Ready", func() *corev1.Pod {
			p := testPod()
			p.Spec.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: "example.com/lb"}}
			p = running(p, now)
			p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: "example.com/lb", Status: corev1.ConditionTrue})
			return p
		}, podRun, 0},
		{"a pod asking to complete after 30s is looked at again when they have passed", func() *corev1.Pod {
			p := testPod()
			p.Spec.RestartPolicy = corev1.RestartPolicyNever
			p.Annotations = map[string]string{AnnotationCompleteAfter: "30s"}
			return running(p, now.Add(-10*time.Second))
		}, podNothing, 20 * time.Second},
		{"a pod asking to complete after 30s completes once they have passed", func() *corev1.Pod {
			p := testPod()
			p.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
			p.Annotations = map[string]string{AnnotationCompleteAfter: "30s"}
			return running(p, now.Add(-31*time.Second))
		}, podComplete, 0},
		{"a pod that restarts always never completes", func() *corev1.Pod {
			p := testPod()
			p.Annotations = map[string]string{AnnotationCompleteAfter: "1s"}
			return running(p, now.Add(-time.Hour))
		}, podNothing, 0},
		{"a malformed completion time is ignored", func() *corev1.Pod {
			p := testPod()
			p.Spec.RestartPolicy = corev1.RestartPolicyNever
			p.Annotations = map[string]string{AnnotationCompleteAfter: "soon"}
			return running(p, now.Add(-time.Hour))
		}, podNothing, 0},
	}
	for _, c := range cases {
		got := planPod(c.pod(), now)
		if got.action != c.want || got.requeueAfter != c.after {
			t.Errorf("%s: got %+v, want action %d after %s", c.name, got, c.want, c.after)
		}
	}
}

func TestRunningStatus(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	p := testPod()
	p.Status.NominatedNodeName = "sim-0"
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(now.Add(-time.Minute))}}
	st := runningStatus(p, "100.64.0.2", "198.18.0.1", now)

	checks := []struct {
		name string
		ok   bool
	}{
		{"the pod is Running", st.Phase == corev1.PodRunning},
		{"it has its pod and host addresses", st.PodIP == "100.64.0.2" && len(st.PodIPs) == 1 && st.PodIPs[0].IP == "100.64.0.2" &&
			st.HostIP == "198.18.0.1" && len(st.HostIPs) == 1 && st.HostIPs[0].IP == "198.18.0.1"},
		{"it started now", st.StartTime != nil && st.StartTime.Time.Equal(now)},
		{"fields others own are kept", st.QOSClass == corev1.PodQOSBestEffort && st.NominatedNodeName == "sim-0"},
		{"a plain init container completed", st.InitContainerStatuses[0].State.Terminated != nil &&
			st.InitContainerStatuses[0].State.Terminated.Reason == "Completed" && st.InitContainerStatuses[0].State.Terminated.ExitCode == 0 &&
			st.InitContainerStatuses[0].Ready && !*st.InitContainerStatuses[0].Started},
		{"a sidecar init container runs", st.InitContainerStatuses[1].State.Running != nil && st.InitContainerStatuses[1].Ready},
		{"containers run, started and ready", st.ContainerStatuses[0].State.Running != nil && st.ContainerStatuses[0].Ready &&
			*st.ContainerStatuses[0].Started && st.ContainerStatuses[0].RestartCount == 0},
		{"images are reported fully qualified", st.ContainerStatuses[0].Image == "docker.io/library/nginx:1.25" &&
			strings.HasPrefix(st.ContainerStatuses[0].ImageID, "docker.io/library/nginx@sha256:")},
		{"a digest reference is its own image ID", st.ContainerStatuses[1].Image == "registry.example.com/db@sha256:abc" &&
			st.ContainerStatuses[1].ImageID == "registry.example.com/db@sha256:abc"},
		{"container IDs are sim:// and differ per container", strings.HasPrefix(st.ContainerStatuses[0].ContainerID, "sim://") &&
			st.ContainerStatuses[0].ContainerID != st.ContainerStatuses[1].ContainerID},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: %+v", c.name, st)
		}
	}
	var types []string
	for _, c := range st.Conditions {
		types = append(types, string(c.Type)+"="+string(c.Status))
		if c.Type == corev1.PodScheduled && !c.LastTransitionTime.Time.Equal(now.Add(-time.Minute)) {
			t.Errorf("the scheduler's PodScheduled condition was not kept: %+v", c)
		}
	}
	if got := strings.Join(types, " "); got != "PodReadyToStartContainers=True Initialized=True Ready=True ContainersReady=True PodScheduled=True" {
		t.Errorf("conditions in the kubelet's order: got %s", got)
	}

	again := runningStatus(&corev1.Pod{ObjectMeta: p.ObjectMeta, Spec: p.Spec, Status: st}, "100.64.0.2", "198.18.0.1", now.Add(time.Hour))
	if !again.StartTime.Time.Equal(now) || !again.Conditions[2].LastTransitionTime.Time.Equal(now) {
		t.Errorf("writing the status again moved the start or transition times: %+v", again)
	}
}

func TestRunningStatusAddsPodScheduledToAPodBoundWithoutAScheduler(t *testing.T) {
	st := runningStatus(testPod(), "100.64.0.2", "198.18.0.1", time.Now())
	if conditionStatus(st.Conditions, corev1.PodScheduled) != corev1.ConditionTrue {
		t.Errorf("no PodScheduled condition: %v", st.Conditions)
	}
}

func TestRunningStatusHonoursReadinessGates(t *testing.T) {
	cases := []struct {
		name    string
		conds   []corev1.PodCondition
		ready   corev1.ConditionStatus
		message string
	}{
		{"a gate without its condition keeps the pod unready", nil, corev1.ConditionFalse, `corresponding condition of pod readiness gate "example.com/lb" does not exist.`},
		{"a gate whose condition is False keeps the pod unready", []corev1.PodCondition{{Type: "example.com/lb", Status: corev1.ConditionFalse}},
			corev1.ConditionFalse, `the status of pod readiness gate "example.com/lb" is not "True", but False`},
		{"a gate whose condition is True lets the pod be Ready", []corev1.PodCondition{{Type: "example.com/lb", Status: corev1.ConditionTrue}}, corev1.ConditionTrue, ""},
	}
	for _, c := range cases {
		p := testPod()
		p.Spec.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: "example.com/lb"}}
		p.Status.Conditions = c.conds
		st := runningStatus(p, "100.64.0.2", "198.18.0.1", time.Now())
		for _, cond := range st.Conditions {
			if cond.Type == corev1.PodReady && (cond.Status != c.ready || cond.Message != c.message) {
				t.Errorf("%s: Ready is %s %q", c.name, cond.Status, cond.Message)
			}
			if cond.Type == corev1.ContainersReady && cond.Status != corev1.ConditionTrue {
				t.Errorf("%s: containers are not ready", c.name)
			}
		}
		p.Status = st
		if !runsAsWanted(p) {
			t.Errorf("%s: the status just built is not taken as wanted", c.name)
		}
	}
}

func TestCompletedStatus(t *testing.T) {
	start := time.Unix(1_000_000, 0)
	now := start.Add(time.Minute)
	cases := []struct {
		name   string
		code   string
		phase  corev1.PodPhase
		reason string
		exit   int32
	}{
		{"without an exit code the pod succeeds", "", corev1.PodSucceeded, "Completed", 0},
		{"exit code 0 succeeds", "0", corev1.PodSucceeded, "Completed", 0},
		{"a non-zero exit code fails the pod", "3", corev1.PodFailed, "Error", 3},
	}
	for _, c := range cases {
		p := testPod()
		p.Spec.RestartPolicy = corev1.RestartPolicyNever
		if c.code != "" {
			p.Annotations = map[string]string{AnnotationExitCode: c.code}
		}
		p = running(p, start)
		st := completedStatus(p, now)
		if st.Phase != c.phase {
			t.Errorf("%s: phase %s", c.name, st.Phase)
		}
		for _, cs := range st.ContainerStatuses {
			term := cs.State.Terminated
			if term == nil || term.Reason != c.reason || term.ExitCode != c.exit || !term.StartedAt.Time.Equal(start) || !term.FinishedAt.Time.Equal(now) || cs.Ready {
				t.Errorf("%s: container %s: %+v", c.name, cs.Name, cs)
			}
		}
		if term := st.InitContainerStatuses[0].State.Terminated; term == nil || term.Reason != "Completed" || term.ExitCode != 0 {
			t.Errorf("%s: the completed init container changed: %+v", c.name, st.InitContainerStatuses[0])
		}
		for _, cond := range st.Conditions {
			if cond.Type == corev1.PodReady && (cond.Status != corev1.ConditionFalse || cond.Reason != "PodCompleted") {
				t.Errorf("%s: Ready %+v", c.name, cond)
			}
		}
		if st.PodIP != "100.64.0.2" {
			t.Errorf("%s: a completed pod keeps its address in status, got %q", c.name, st.PodIP)
		}
	}
}
