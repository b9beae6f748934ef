package lifecycle

import (
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func pod(policy corev1.RestartPolicy, inits []string, apps ...string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "uid-1"}}
	p.Spec.RestartPolicy = policy
	for _, n := range inits {
		p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: n, Image: "busybox"})
	}
	for _, n := range apps {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: n, Image: "busybox"})
	}
	return p
}

func readySandbox() []Sandbox { return []Sandbox{{ID: "sb", Ready: true, IPs: []string{"10.244.0.5"}}} }

func running(name string, attempt uint32) Container {
	return Container{ID: name + "-id", Name: name, Attempt: attempt, Phase: ContainerRunning, StartedAt: t0}
}

func exited(name string, attempt uint32, code int32, finished time.Time) Container {
	return Container{ID: name + "-id" + string(rune('0'+attempt)), Name: name, Attempt: attempt, Phase: ContainerExited, ExitCode: code,
		StartedAt: finished.Add(-time.Second), FinishedAt: finished}
}

func TestComputeActions(t *testing.T) {
	cases := []struct {
		name    string
		pod     *corev1.Pod
		rt      Pod
		backoff func(*Backoff)
		want    Actions
	}{
		{
			name: "a new pod gets a sandbox and all its containers",
			pod:  pod(corev1.RestartPolicyAlways, nil, "a", "b"),
			want: Actions{CreateSandbox: true, StartInit: -1, Start: []int{0, 1}},
		},
		{
			name: "a new pod with init containers starts the first init container only",
			pod:  pod(corev1.RestartPolicyAlways, []string{"i1", "i2"}, "a"),
			want: Actions{CreateSandbox: true, StartInit: 0},
		},
		{
			name: "the second init container starts once the first succeeded",
			pod:  pod(corev1.RestartPolicyAlways, []string{"i1", "i2"}, "a"),
			rt:   Pod{Sandboxes: readySandbox(), Containers: []Container{exited("i1", 0, 0, t0)}},
			want: Actions{StartInit: 1},
		},
		{
			name: "nothing starts while an init container runs",
			pod:  pod(corev1.RestartPolicyAlways, []string{"i1"}, "a"),
			rt:   Pod{Sandboxes: readySandbox(), Containers: []Container{running("i1", 0)}},
			want: Actions{StartInit: -1},
		},
		{
			name: "app containers start after every init container succeeded",
			pod:  pod(corev1.RestartPolicyAlways, []string{"i1"}, "a", "b"),
			rt:   Pod{Sandboxes: readySandbox(), Containers: []Container{exited("i1", 0, 0, t0)}},
			want: Actions{StartInit: -1, Start: []int{0, 1}},
		},
		{
			name: "a failed init container with restartPolicy Never stops the pod from going on",
			pod:  pod(corev1.RestartPolicyNever, []string{"i1"}, "a"),
			rt:   Pod{Sandboxes: readySandbox(), Containers: []Container{exited("i1", 0, 1, t0)}},
			want: Actions{StartInit: -1},
		},
		{
			name: "a failed init container with restartPolicy OnFailure is retried",
			pod:  pod(corev1.RestartPolicyOnFailure, []string{"i1"}, "a"),
			rt:   Pod{Sandboxes: readySandbox(), Containers: []Container{exited("i1", 0, 1, t0)}},
			want: Actions{StartInit: 0},
		},
		{
			name: "an exited container under Always restarts at once the first time",
			pod:  pod(corev1.RestartPolicyAlways, nil, "a"),
			rt:   Pod{Sandboxes: readySandbox(), Containers: []Container{exited("a", 0, 0, t0)}},
			want: Actions{StartInit: -1, Start: []int{0}},
		},
		{
			name: "a crashing container waits its back-off",
			pod:  pod(corev1.RestartPolicyAlways, nil, "a"),
			rt:   Pod{Sandboxes: readySandbox(), Containers: []Container{exited("a", 1, 1, t0)}},
			backoff: func(b *Backoff) {
				b.Restarted("uid-1/a", t0.Add(-20*time.Second), t0.Add(-10*time.Second))
			},
			want: Actions{StartInit: -1, Waiting: map[string]time.Time{"a": t0.Add(10 * time.Second)}, Requeue: 9 * time.Second},
		},
		{
			name: "a successful container under OnFailure stays done",
			pod:  pod(corev1.RestartPolicyOnFailure, nil, "a"),
			rt:   Pod{Sandboxes: readySandbox(), Containers: []Container{exited("a", 0, 0, t0)}},
			want: Actions{StartInit: -1},
		},
		{
			name: "a failed container under Never stays failed",
			pod:  pod(corev1.RestartPolicyNever, nil, "a"),
			rt:   Pod{Sandboxes: readySandbox(), Containers: []Container{exited("a", 0, 2, t0)}},
			want: Actions{StartInit: -1},
		},
		{
			name: "a dead sandbox is replaced and everything starts again",
			pod:  pod(corev1.RestartPolicyAlways, nil, "a"),
			rt:   Pod{Sandboxes: []Sandbox{{ID: "old", Attempt: 2}}, Containers: []Container{exited("a", 0, 137, t0)}},
			want: Actions{KillPod: true, CreateSandbox: true, SandboxAttempt: 3, StartInit: -1, Start: []int{0}},
		},
		{
			name: "a finished pod whose sandbox is gone stays finished",
			pod:  pod(corev1.RestartPolicyNever, nil, "a"),
			rt:   Pod{Sandboxes: []Sandbox{{ID: "old"}}, Containers: []Container{exited("a", 0, 0, t0)}},
			want: Actions{StartInit: -1},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBackoff(BackoffInitial, BackoffMax)
			if tc.backoff != nil {
				tc.backoff(b)
			}
			tc.rt.Sort()
			got := ComputeActions(tc.pod, &tc.rt, Inputs{Now: t0.Add(time.Second), Backoff: b})
			if tc.want.Waiting == nil {
				tc.want.Waiting = map[string]time.Time{}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestBackoffDoublesUpToFiveMinutesAndResetsAfterALongRun(t *testing.T) {
	b := NewBackoff(BackoffInitial, BackoffMax)
	k := "uid/c"
	finish := t0
	if wait, _ := b.InBackoff(k, finish, finish); wait {
		t.Fatal("the first crash waits")
	}
	var delays []time.Duration
	for i := 0; i < 8; i++ {
		b.Restarted(k, finish.Add(-time.Second), finish)
		finish = finish.Add(time.Hour)
		_, until := b.InBackoff(k, finish, finish)
		delays = append(delays, until.Sub(finish))
	}
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second, 160 * time.Second, 300 * time.Second, 300 * time.Second, 300 * time.Second}
	if !reflect.DeepEqual(delays, want) {
		t.Fatalf("delays %v, want %v", delays, want)
	}
	b.Restarted(k, finish.Add(-11*time.Minute), finish)
	next := finish.Add(time.Hour)
	if _, until := b.InBackoff(k, next, next); until.Sub(next) != 10*time.Second {
		t.Fatalf("after a long run the delay is %v", until.Sub(next))
	}
}

func TestPodStatus(t *testing.T) {
	cases := []struct {
		name      string
		pod       *corev1.Pod
		rt        Pod
		phase     corev1.PodPhase
		state     string // of the first app container
		ready     corev1.ConditionStatus
		initState string
	}{
		{"a pod without a sandbox yet is Pending and creating", pod(corev1.RestartPolicyAlways, nil, "a"), Pod{},
			corev1.PodPending, "waiting:ContainerCreating", corev1.ConditionFalse, ""},
		{"a running container makes the pod Running and Ready", pod(corev1.RestartPolicyAlways, nil, "a"),
			Pod{Sandboxes: readySandbox(), Containers: []Container{running("a", 0)}},
			corev1.PodRunning, "running", corev1.ConditionTrue, ""},
		{"app containers wait for init containers as PodInitializing", pod(corev1.RestartPolicyAlways, []string{"i"}, "a"),
			Pod{Sandboxes: readySandbox(), Containers: []Container{running("i", 0)}},
			corev1.PodPending, "waiting:PodInitializing", corev1.ConditionFalse, "running"},
		{"a container that exited 0 under Never makes the pod Succeeded", pod(corev1.RestartPolicyNever, nil, "a"),
			Pod{Sandboxes: readySandbox(), Containers: []Container{exited("a", 0, 0, t0)}},
			corev1.PodSucceeded, "terminated:Completed", corev1.ConditionFalse, ""},
		{"a container that failed under Never makes the pod Failed", pod(corev1.RestartPolicyNever, nil, "a"),
			Pod{Sandboxes: readySandbox(), Containers: []Container{exited("a", 0, 3, t0)}},
			corev1.PodFailed, "terminated:Error", corev1.ConditionFalse, ""},
		{"a failed init container under Never fails the pod", pod(corev1.RestartPolicyNever, []string{"i"}, "a"),
			Pod{Sandboxes: readySandbox(), Containers: []Container{exited("i", 0, 1, t0)}},
			corev1.PodFailed, "waiting:PodInitializing", corev1.ConditionFalse, "terminated:Error"},
		{"an OOM-killed container says so", pod(corev1.RestartPolicyNever, nil, "a"),
			Pod{Sandboxes: readySandbox(), Containers: []Container{func() Container { c := exited("a", 0, 137, t0); c.Reason = "OOMKilled"; return c }()}},
			corev1.PodFailed, "terminated:OOMKilled", corev1.ConditionFalse, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.rt.Sort()
			st := PodStatus(tc.pod, &tc.rt, StatusInputs{Now: t0, HostIP: "10.244.0.1", Backoff: NewBackoff(BackoffInitial, BackoffMax)})
			if st.Phase != tc.phase {
				t.Fatalf("phase %s, want %s", st.Phase, tc.phase)
			}
			if got := stateOf(st.ContainerStatuses[0]); got != tc.state {
				t.Fatalf("container state %s, want %s", got, tc.state)
			}
			if tc.initState != "" {
				if got := stateOf(st.InitContainerStatuses[0]); got != tc.initState {
					t.Fatalf("init container state %s, want %s", got, tc.initState)
				}
			}
			for _, c := range st.Conditions {
				if c.Type == corev1.PodReady && c.Status != tc.ready {
					t.Fatalf("Ready=%s, want %s (%s)", c.Status, tc.ready, c.Message)
				}
			}
		})
	}
}

func TestCrashLoopBackOffStatusKeepsLastState(t *testing.T) {
	p := pod(corev1.RestartPolicyAlways, nil, "a")
	b := NewBackoff(BackoffInitial, BackoffMax)
	b.Restarted("uid-1/a", t0.Add(-2*time.Second), t0.Add(-time.Second))
	rt := Pod{Sandboxes: readySandbox(), Containers: []Container{exited("a", 1, 1, t0), exited("a", 0, 1, t0.Add(-time.Second))}}
	rt.Sort()
	st := PodStatus(p, &rt, StatusInputs{Now: t0.Add(time.Second), Backoff: b})
	cs := st.ContainerStatuses[0]
	if cs.State.Waiting == nil || cs.State.Waiting.Reason != "CrashLoopBackOff" {
		t.Fatalf("state %+v", cs.State)
	}
	if cs.LastTerminationState.Terminated == nil || cs.LastTerminationState.Terminated.ExitCode != 1 || cs.RestartCount != 1 {
		t.Fatalf("last state %+v restarts %d", cs.LastTerminationState, cs.RestartCount)
	}
	if st.Phase != corev1.PodRunning {
		t.Fatalf("phase %s", st.Phase)
	}
}

func stateOf(cs corev1.ContainerStatus) string {
	switch {
	case cs.State.Running != nil:
		return "running"
	case cs.State.Terminated != nil:
		return "terminated:" + cs.State.Terminated.Reason
	case cs.State.Waiting != nil:
		return "waiting:" + cs.State.Waiting.Reason
	}
	return "none"
}

func TestInitContainerReadiness(t *testing.T) {
	cases := []struct {
		name  string
		init  Container
		ready bool
	}{
		{"an init container that exited 0 is ready", exited("i", 0, 0, t0), true},
		{"an init container that failed is not ready", exited("i", 0, 1, t0), false},
		{"a running init container is not ready", running("i", 0), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := pod(corev1.RestartPolicyNever, []string{"i"}, "a")
			rt := Pod{Sandboxes: readySandbox(), Containers: []Container{tc.init}}
			rt.Sort()
			st := PodStatus(p, &rt, StatusInputs{Now: t0})
			if got := st.InitContainerStatuses[0].Ready; got != tc.ready {
				t.Fatalf("ready %v, want %v", got, tc.ready)
			}
		})
	}
}

func withEphemeral(p *corev1.Pod, names ...string) *corev1.Pod {
	for _, n := range names {
		p.Spec.EphemeralContainers = append(p.Spec.EphemeralContainers, corev1.EphemeralContainer{
			EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: n, Image: "busybox"}, TargetContainerName: "a"})
	}
	return p
}

func TestEphemeralContainerActions(t *testing.T) {
	cases := []struct {
		name string
		pod  *corev1.Pod
		rt   Pod
		want []int
	}{
		{"an ephemeral container added to a running pod starts", withEphemeral(pod(corev1.RestartPolicyAlways, nil, "a"), "debugger"),
			Pod{Sandboxes: readySandbox(), Containers: []Container{running("a", 0)}}, []int{0}},
		{"an ephemeral container that exited is never restarted", withEphemeral(pod(corev1.RestartPolicyAlways, nil, "a"), "debugger"),
			Pod{Sandboxes: readySandbox(), Containers: []Container{running("a", 0), exited("debugger", 0, 1, t0)}}, nil},
		{"only the ephemeral containers without an instance start", withEphemeral(pod(corev1.RestartPolicyAlways, nil, "a"), "one", "two"),
			Pod{Sandboxes: readySandbox(), Containers: []Container{running("a", 0), running("one", 0)}}, []int{1}},
		{"an ephemeral container starts while an init container still runs", withEphemeral(pod(corev1.RestartPolicyAlways, []string{"i"}, "a"), "debugger"),
			Pod{Sandboxes: readySandbox(), Containers: []Container{running("i", 0)}}, []int{0}},
		{"a pod without a sandbox gets no ephemeral container yet", withEphemeral(pod(corev1.RestartPolicyAlways, nil, "a"), "debugger"),
			Pod{}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.rt.Sort()
			a := ComputeActions(tc.pod, &tc.rt, Inputs{Now: t0, Backoff: NewBackoff(BackoffInitial, BackoffMax)})
			if !reflect.DeepEqual(a.StartEphemeral, tc.want) {
				t.Fatalf("StartEphemeral %v, want %v", a.StartEphemeral, tc.want)
			}
		})
	}
}

func TestEphemeralContainerStatus(t *testing.T) {
	cases := []struct {
		name  string
		rt    Pod
		state string
	}{
		{"an ephemeral container not started yet is creating", Pod{Sandboxes: readySandbox(), Containers: []Container{running("a", 0)}},
			"waiting:ContainerCreating"},
		{"a running ephemeral container is running but not ready", Pod{Sandboxes: readySandbox(), Containers: []Container{running("a", 0), running("debugger", 0)}},
			"running"},
		{"an exited ephemeral container stays terminated, without back-off", Pod{Sandboxes: readySandbox(), Containers: []Container{running("a", 0), exited("debugger", 0, 1, t0)}},
			"terminated:Error"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := withEphemeral(pod(corev1.RestartPolicyAlways, nil, "a"), "debugger")
			tc.rt.Sort()
			st := PodStatus(p, &tc.rt, StatusInputs{Now: t0, Backoff: NewBackoff(BackoffInitial, BackoffMax)})
			if len(st.EphemeralContainerStatuses) != 1 {
				t.Fatalf("ephemeral statuses %v", st.EphemeralContainerStatuses)
			}
			cs := st.EphemeralContainerStatuses[0]
			if got := stateOf(cs); got != tc.state || cs.Name != "debugger" || cs.Ready || cs.Started != nil {
				t.Fatalf("status %+v, want state %s, not ready", cs, tc.state)
			}
			if st.Phase != corev1.PodRunning {
				t.Fatalf("phase %s: ephemeral containers must not change it", st.Phase)
			}
		})
	}
}

func TestEphemeralContainerWaitsAsPodInitializingInAPodWithInitContainers(t *testing.T) {
	p := withEphemeral(pod(corev1.RestartPolicyAlways, []string{"i"}, "a"), "debugger")
	rt := Pod{Sandboxes: readySandbox(), Containers: []Container{exited("i", 0, 0, t0), running("a", 0)}}
	rt.Sort()
	st := PodStatus(p, &rt, StatusInputs{Now: t0})
	if got := stateOf(st.EphemeralContainerStatuses[0]); got != "waiting:PodInitializing" {
		t.Fatalf("state %s", got)
	}
}
