package pods

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/minik8s/minik8s/pkg/kubelet/metrics"
)

// emptyRuntime lists nothing: the metrics' runtime counts are not under test.
type emptyRuntime struct{}

func (emptyRuntime) ListPodSandbox(context.Context, *runtimeapi.PodSandboxFilter) ([]*runtimeapi.PodSandbox, error) {
	return nil, nil
}

func (emptyRuntime) ListContainers(context.Context, *runtimeapi.ContainerFilter) ([]*runtimeapi.Container, error) {
	return nil, nil
}

func TestObserveStart(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before corev1.PodPhase
		phases []corev1.PodPhase
		want   int
	}{
		{"a pod that goes from pending to running is observed once", corev1.PodPending,
			[]corev1.PodPhase{corev1.PodPending, corev1.PodRunning, corev1.PodRunning}, 1},
		{"a pod with no status yet that starts running is observed", "", []corev1.PodPhase{corev1.PodRunning}, 1},
		{"a pod found running after the agent restarted is not observed", corev1.PodRunning,
			[]corev1.PodPhase{corev1.PodRunning}, 0},
		{"a pod that never runs is not observed", corev1.PodPending,
			[]corev1.PodPhase{corev1.PodPending, corev1.PodFailed}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			km, err := metrics.New(metrics.Config{NodeName: "n", Runtime: emptyRuntime{}})
			if err != nil {
				t.Fatal(err)
			}
			m := &Manager{cfg: Config{Metrics: km}}
			pod := &corev1.Pod{Status: corev1.PodStatus{Phase: tc.before}}
			w := newWorker(m, pod)
			w.firstSeen = time.Now().Add(-time.Second)
			for _, phase := range tc.phases {
				m.observeStart(w, pod, corev1.PodStatus{Phase: phase})
			}
			if got := histogramCount(t, km); got != tc.want {
				t.Fatalf("%d starts observed, want %d", got, tc.want)
			}
		})
	}
}

func histogramCount(t *testing.T, km *metrics.Metrics) int {
	t.Helper()
	families, err := km.Kubelet().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "kubelet_pod_start_duration_seconds" {
			return int(f.GetMetric()[0].GetHistogram().GetSampleCount())
		}
	}
	return 0
}
