package core

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minik8s/minik8s/pkg/registry"
)

// createdPod runs a pod through the pod strategy's create steps.
func createdPod(t *testing.T, mutate func(*corev1.Pod)) *corev1.Pod {
	t.Helper()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx:1.27"}}}}
	if mutate != nil {
		mutate(pod)
	}
	s := Pods().Strategy
	s.Default(pod)
	s.PrepareForCreate(context.Background(), pod)
	if errs := s.Validate(context.Background(), pod); len(errs) > 0 {
		t.Fatalf("created pod is invalid: %v", errs)
	}
	return pod
}

func TestPodCreateSetsWhatUpstreamSets(t *testing.T) {
	pod := createdPod(t, func(p *corev1.Pod) { p.Spec.ServiceAccountName = "builder" })
	if pod.Status.Phase != corev1.PodPending || pod.Status.QOSClass != corev1.PodQOSBestEffort {
		t.Errorf("status = %+v", pod.Status)
	}
	if pod.Generation != 1 {
		t.Errorf("generation = %d", pod.Generation)
	}
	if pod.Spec.DeprecatedServiceAccount != "builder" {
		t.Errorf("spec.serviceAccount = %q, want the account's name", pod.Spec.DeprecatedServiceAccount)
	}
}

func TestGatedPodIsMarkedUnscheduled(t *testing.T) {
	pod := createdPod(t, func(p *corev1.Pod) {
		p.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "example.com/wait"}}
	})
	if len(pod.Status.Conditions) != 1 || pod.Status.Conditions[0].Reason != corev1.PodReasonSchedulingGated {
		t.Errorf("gated pod conditions = %+v", pod.Status.Conditions)
	}
}

func TestPodGracePeriod(t *testing.T) {
	sixty, neg := int64(60), int64(-5)
	cases := []struct {
		name      string
		node      string
		phase     corev1.PodPhase
		requested *int64
		want      int64
	}{
		{"an unscheduled pod goes at once", "", corev1.PodPending, nil, 0},
		{"a running pod gets its termination grace period", "n1", corev1.PodRunning, nil, 30},
		{"a requested period wins", "n1", corev1.PodRunning, &sixty, 60},
		{"a finished pod goes at once", "n1", corev1.PodSucceeded, &sixty, 0},
		{"a negative period means one second", "n1", corev1.PodRunning, &neg, 1},
	}
	gs := Pods().Strategy.(registry.GracefulStrategy)
	for _, tc := range cases {
		pod := createdPod(t, func(p *corev1.Pod) { p.Spec.NodeName = tc.node })
		pod.Status.Phase = tc.phase
		got, graceful := gs.GracePeriod(pod, tc.requested)
		if got != tc.want || !graceful {
			t.Errorf("%s: got %d (%v), want %d", tc.name, got, graceful, tc.want)
		}
	}
}

func TestPodUpdateAllowsOnlyUpstreamsFields(t *testing.T) {
	s := Pods().Strategy
	old := createdPod(t, nil)
	cases := []struct {
		name   string
		mutate func(*corev1.Pod)
		want   string // prefix of the first error; "" means allowed
	}{
		{"an image may change", func(p *corev1.Pod) { p.Spec.Containers[0].Image = "nginx:1.28" }, ""},
		{"a toleration may be added", func(p *corev1.Pod) {
			p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: "k", Operator: corev1.TolerationOpExists})
		}, ""},
		{"the restart policy may not change", func(p *corev1.Pod) { p.Spec.RestartPolicy = corev1.RestartPolicyNever },
			"spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`"},
		{"containers may not be added", func(p *corev1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "b", Image: "b", ImagePullPolicy: "Always", TerminationMessagePolicy: "File"})
		}, "spec.containers: Forbidden: pod updates may not add or remove containers"},
		{"the deadline may only shrink", func(p *corev1.Pod) {
			d := int64(10)
			p.Spec.ActiveDeadlineSeconds = &d
		}, ""},
	}
	for _, tc := range cases {
		pod := old.DeepCopy()
		tc.mutate(pod)
		s.PrepareForUpdate(context.Background(), pod, old)
		errs := s.ValidateUpdate(context.Background(), pod, old)
		if tc.want == "" {
			if len(errs) > 0 {
				t.Errorf("%s: %v", tc.name, errs)
			}
			continue
		}
		if len(errs) == 0 || !strings.HasPrefix(errs[0].Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.name, errs, tc.want)
		}
	}
}

func TestPodUpdateMessageShowsTheChangedField(t *testing.T) {
	old := createdPod(t, nil)
	pod := old.DeepCopy()
	pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	errs := validatePodUpdate(pod, old)
	if len(errs) != 1 || !strings.Contains(errs[0].Detail, "- \"RestartPolicy\": \"Always\",\n+ \"RestartPolicy\": \"Never\",") {
		t.Errorf("got %v", errs)
	}
}

func TestPodTableStatus(t *testing.T) {
	ago := metav1.NewTime(time.Now().Add(-5 * time.Minute))
	started := true
	cases := []struct {
		name                    string
		pod                     func(*corev1.Pod)
		ready, status, restarts string
	}{
		{"a new pod is Pending", func(*corev1.Pod) {}, "0/1", "Pending", "0"},
		{"a crashing container shows its waiting reason and last restart", func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodRunning
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", RestartCount: 3,
				State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
				LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, FinishedAt: ago}}}}
		}, "0/1", "CrashLoopBackOff", "3 (5m ago)"},
		{"a running ready container counts as ready", func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodRunning
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", Ready: true,
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}
		}, "1/1", "Running", "0"},
		{"a second init container running shows Init:1/2", func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "i1"}, {Name: "i2"}}
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{
				{Name: "i1", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed"}}},
				{Name: "i2", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}
		}, "0/1", "Init:1/2", "0"},
		{"a failed init container shows its reason", func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "i1"}}
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{
				{Name: "i1", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 2}}}}
		}, "0/1", "Init:ExitCode:2", "0"},
		{"a started sidecar counts towards ready", func(p *corev1.Pod) {
			always := corev1.ContainerRestartPolicyAlways
			p.Spec.InitContainers = []corev1.Container{{Name: "side", RestartPolicy: &always}}
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "side", Ready: true, Started: &started,
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}
		}, "1/2", "Pending", "0"},
		{"a deleted pod is Terminating", func(p *corev1.Pod) {
			p.DeletionTimestamp = &ago
			p.Status.Phase = corev1.PodRunning
		}, "0/1", "Terminating", "0"},
		{"a completed pod says Completed", func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodSucceeded
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app",
				State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed"}}}}
		}, "0/1", "Completed", "0"},
	}
	for _, tc := range cases {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", CreationTimestamp: ago},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}}, Status: corev1.PodStatus{Phase: corev1.PodPending}}
		tc.pod(pod)
		cells := podTable.Cells(pod)
		if cells[1] != tc.ready || cells[2] != tc.status || cells[3] != tc.restarts {
			t.Errorf("%s: got %v %v %v, want %s %s %s", tc.name, cells[1], cells[2], cells[3], tc.ready, tc.status, tc.restarts)
		}
		if cells[4] != "5m" || cells[5] != "<none>" || cells[6] != "<none>" || cells[8] != "<none>" {
			t.Errorf("%s: wide cells %v", tc.name, cells[4:])
		}
	}
}

func TestPodFieldSelectors(t *testing.T) {
	pod := createdPod(t, func(p *corev1.Pod) {
		p.Spec.NodeName = "n1"
		p.Spec.HostNetwork = true
		p.Spec.ServiceAccountName = "default"
	})
	pod.Status.PodIPs = []corev1.PodIP{{IP: "10.1.2.3"}}
	got := podFields(pod)
	want := map[string]string{"spec.nodeName": "n1", "spec.host": "n1", "spec.restartPolicy": "Always",
		"spec.schedulerName": "default-scheduler", "spec.serviceAccountName": "default", "spec.hostNetwork": "true",
		"status.phase": "Pending", "status.podIP": "10.1.2.3", "status.nominatedNodeName": "", "status.podIPs": ""}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("fields %v", got)
	}
}

func TestPodSubresources(t *testing.T) {
	ctx := context.Background()
	s := Pods().Strategy.(registry.SubresourceStrategy)
	old := createdPod(t, func(p *corev1.Pod) {
		p.Spec.Containers[0].Resources = corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}}
	})
	debug := old.DeepCopy()
	debug.Labels = map[string]string{"sneaky": "change"}
	debug.Spec.RestartPolicy = corev1.RestartPolicyNever
	debug.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
		Name: "debugger", Image: "busybox", ImagePullPolicy: corev1.PullAlways, TerminationMessagePolicy: corev1.TerminationMessageReadFile}}}
	s.PrepareForSubresourceUpdate(ctx, "ephemeralcontainers", debug, old)
	if errs := s.ValidateSubresourceUpdate(ctx, "ephemeralcontainers", debug, old); len(errs) > 0 {
		t.Fatalf("adding an ephemeral container: %v", errs)
	}
	if debug.Spec.RestartPolicy != corev1.RestartPolicyAlways || debug.Labels != nil || len(debug.Spec.EphemeralContainers) != 1 || debug.Generation != 2 {
		t.Errorf("ephemeralcontainers changed more than its own field: %+v %v gen %d", debug.Spec.RestartPolicy, debug.Labels, debug.Generation)
	}
	removed := debug.DeepCopy()
	removed.Spec.EphemeralContainers = nil
	s.PrepareForSubresourceUpdate(ctx, "ephemeralcontainers", removed, debug)
	if got := firstError(s.ValidateSubresourceUpdate(ctx, "ephemeralcontainers", removed, debug)); !strings.HasPrefix(got, `spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger" may not be removed`) {
		t.Errorf("removing an ephemeral container: %q", got)
	}
	resized := old.DeepCopy()
	resized.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = resource.MustParse("200m")
	resized.Spec.Containers[0].Image = "other"
	s.PrepareForSubresourceUpdate(ctx, "resize", resized, old)
	if errs := s.ValidateSubresourceUpdate(ctx, "resize", resized, old); len(errs) > 0 {
		t.Fatalf("resizing cpu: %v", errs)
	}
	if resized.Spec.Containers[0].Image != old.Spec.Containers[0].Image || resized.Spec.Containers[0].Resources.Requests.Cpu().String() != "200m" {
		t.Errorf("resize took more than resources: %+v", resized.Spec.Containers[0])
	}
	qos := old.DeepCopy()
	qos.Spec.Containers[0].Resources = corev1.ResourceRequirements{}
	s.PrepareForSubresourceUpdate(ctx, "resize", qos, old)
	if got := firstError(s.ValidateSubresourceUpdate(ctx, "resize", qos, old)); !strings.Contains(got, "Pod QOS Class may not change as a result of resizing") {
		t.Errorf("resizing to BestEffort: %q", got)
	}
}
