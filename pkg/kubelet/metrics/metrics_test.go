package metrics

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	kubeletruntime "github.com/minik8s/minik8s/pkg/kubelet/runtime"
)

type fakeRuntime struct {
	sandboxes  []*runtimeapi.PodSandbox
	containers []*runtimeapi.Container
}

func (f *fakeRuntime) ListPodSandbox(_ context.Context, filter *runtimeapi.PodSandboxFilter) ([]*runtimeapi.PodSandbox, error) {
	var out []*runtimeapi.PodSandbox
	for _, sb := range f.sandboxes {
		if filter.GetState() == nil || filter.GetState().State == sb.State {
			out = append(out, sb)
		}
	}
	return out, nil
}

func (f *fakeRuntime) ListContainers(context.Context, *runtimeapi.ContainerFilter) ([]*runtimeapi.Container, error) {
	return f.containers, nil
}

func pod(uid string) map[string]string { return map[string]string{kubeletruntime.LabelPodUID: uid} }

func newTestMetrics(t *testing.T) *Metrics {
	t.Helper()
	ready, notReady := runtimeapi.PodSandboxState_SANDBOX_READY, runtimeapi.PodSandboxState_SANDBOX_NOTREADY
	rt := &fakeRuntime{
		sandboxes: []*runtimeapi.PodSandbox{
			{Id: "a1", State: ready, Labels: pod("a")},
			{Id: "a0", State: notReady, Labels: pod("a")},
			{Id: "b1", State: ready, Labels: pod("b")},
			{Id: "c1", State: notReady, Labels: pod("c")},
			{Id: "x", State: ready},
		},
		containers: []*runtimeapi.Container{
			{Id: "1", State: runtimeapi.ContainerState_CONTAINER_RUNNING, Labels: pod("a")},
			{Id: "2", State: runtimeapi.ContainerState_CONTAINER_RUNNING, Labels: pod("b")},
			{Id: "3", State: runtimeapi.ContainerState_CONTAINER_EXITED, Labels: pod("b")},
			{Id: "4", State: runtimeapi.ContainerState_CONTAINER_CREATED, Labels: pod("c")},
			{Id: "5", State: runtimeapi.ContainerState_CONTAINER_RUNNING},
		},
	}
	m, err := New(Config{NodeName: "n1", Runtime: rt})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestConfigNeedsNodeAndRuntime(t *testing.T) {
	if _, err := New(Config{NodeName: "n1"}); err == nil {
		t.Fatal("no error without a runtime")
	}
	if _, err := New(Config{Runtime: &fakeRuntime{}}); err == nil {
		t.Fatal("no error without a node name")
	}
}

// Pods count once however many sandboxes they have, and only pods' sandboxes
// and containers count.
func TestKubeletRegistryCountsTheRuntime(t *testing.T) {
	m := newTestMetrics(t)
	want := `# HELP kubelet_node_name [ALPHA] The node's name. The count is always 1.
# TYPE kubelet_node_name gauge
kubelet_node_name{node="n1"} 1
# HELP kubelet_running_containers [ALPHA] Number of containers currently running
# TYPE kubelet_running_containers gauge
kubelet_running_containers{container_state="created"} 1
kubelet_running_containers{container_state="exited"} 1
kubelet_running_containers{container_state="running"} 2
kubelet_running_containers{container_state="unknown"} 0
# HELP kubelet_running_pods [ALPHA] Number of pods that have a running pod sandbox
# TYPE kubelet_running_pods gauge
kubelet_running_pods 2
`
	if err := testutil.GatherAndCompare(m.Kubelet(), strings.NewReader(want),
		"kubelet_node_name", "kubelet_running_containers", "kubelet_running_pods"); err != nil {
		t.Fatal(err)
	}
	// Go and process figures and the build are there too, under upstream's names.
	for _, name := range []string{"go_goroutines", "process_start_time_seconds", "kubernetes_build_info"} {
		if n, err := testutil.GatherAndCount(m.Kubelet(), name); err != nil || n != 1 {
			t.Errorf("%s: %d series, %v", name, n, err)
		}
	}
}

func TestPodStartDuration(t *testing.T) {
	m := newTestMetrics(t)
	m.PodStarted(time.Now().Add(-1500 * time.Millisecond))
	m.PodStarted(time.Time{}) // never seen: not observed
	var none *Metrics
	none.PodStarted(time.Now()) // a part built without metrics records nothing
	families, err := m.Kubelet().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "kubelet_pod_start_duration_seconds" {
			continue
		}
		if f.GetHelp() != "[ALPHA] Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run" {
			t.Errorf("help %q", f.GetHelp())
		}
		h := f.GetMetric()[0].GetHistogram()
		if h.GetSampleCount() != 1 || h.GetSampleSum() < 1.5 || h.GetSampleSum() > 60 {
			t.Fatalf("count %d sum %v, want one start of about 1.5s", h.GetSampleCount(), h.GetSampleSum())
		}
		var bounds []float64
		for _, b := range h.GetBucket() {
			bounds = append(bounds, b.GetUpperBound())
			if b.GetUpperBound() == 1 && b.GetCumulativeCount() != 0 || b.GetUpperBound() == 2 && b.GetCumulativeCount() != 1 {
				t.Errorf("bucket le=%v holds %d", b.GetUpperBound(), b.GetCumulativeCount())
			}
		}
		if len(bounds) != len(podStartBuckets) || bounds[0] != 0.5 || bounds[len(bounds)-1] != 3600 {
			t.Errorf("buckets %v, want upstream's", bounds)
		}
		return
	}
	t.Fatal("no kubelet_pod_start_duration_seconds")
}

// Probe results count by result with upstream's labels; a pod's series go
// when it is forgotten, and another pod's stay.
func TestProbeResults(t *testing.T) {
	m := newTestMetrics(t)
	web := Probe{Type: "Readiness", Container: "c", Pod: "web", Namespace: "shop", PodUID: "u1"}
	db := Probe{Type: "Liveness", Container: "db", Pod: "db", Namespace: "shop", PodUID: "u2"}
	m.ProbeRan(web, ProbeSuccessful, 10*time.Millisecond)
	m.ProbeRan(web, ProbeSuccessful, 10*time.Millisecond)
	m.ProbeRan(web, ProbeFailed, time.Second)
	m.ProbeRan(db, ProbeFailed, time.Second)
	want := `# HELP prober_probe_total [BETA] Cumulative number of a liveness, readiness or startup probe for a container by result.
# TYPE prober_probe_total counter
prober_probe_total{container="c",namespace="shop",pod="web",pod_uid="u1",probe_type="Readiness",result="failed"} 1
prober_probe_total{container="c",namespace="shop",pod="web",pod_uid="u1",probe_type="Readiness",result="successful"} 2
prober_probe_total{container="db",namespace="shop",pod="db",pod_uid="u2",probe_type="Liveness",result="failed"} 1
`
	if err := testutil.GatherAndCompare(m.Probes(), strings.NewReader(want), "prober_probe_total"); err != nil {
		t.Fatal(err)
	}
	// Only successful probes are timed, as upstream.
	if n, _ := testutil.GatherAndCount(m.Probes(), "prober_probe_duration_seconds"); n != 1 {
		t.Fatalf("%d duration histograms, want web's only", n)
	}
	if n, _ := testutil.GatherAndCount(m.Probes(), "process_start_time_seconds"); n != 1 {
		t.Fatalf("%d process start times", n)
	}
	m.ForgetProbes("u1")
	want = `# HELP prober_probe_total [BETA] Cumulative number of a liveness, readiness or startup probe for a container by result.
# TYPE prober_probe_total counter
prober_probe_total{container="db",namespace="shop",pod="db",pod_uid="u2",probe_type="Liveness",result="failed"} 1
`
	if err := testutil.GatherAndCompare(m.Probes(), strings.NewReader(want), "prober_probe_total"); err != nil {
		t.Fatal(err)
	}
	if n, _ := testutil.GatherAndCount(m.Probes(), "prober_probe_duration_seconds"); n != 0 {
		t.Fatalf("%d duration histograms after the pod went", n)
	}
}
