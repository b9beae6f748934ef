package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	kubeletruntime "github.com/minik8s/minik8s/pkg/kubelet/runtime"
)

// fakeRuntime answers the listings the stats provider makes from fixed data.
type fakeRuntime struct {
	Runtime
	sandboxes  []*runtimeapi.PodSandbox
	containers []*runtimeapi.Container
	stats      []*runtimeapi.ContainerStats
	// statuses are the verbose ContainerStatus answers; a missing one fails.
	statuses map[string]*runtimeapi.ContainerStatusResponse
	listErr  error
}

func (f *fakeRuntime) ListPodSandbox(_ context.Context, filter *runtimeapi.PodSandboxFilter) ([]*runtimeapi.PodSandbox, error) {
	if f.listErr != nil {
		return nil, f.listErr
	}
	var out []*runtimeapi.PodSandbox
	for _, sb := range f.sandboxes {
		if filter.GetState() == nil || filter.GetState().State == sb.State {
			out = append(out, sb)
		}
	}
	return out, nil
}

func (f *fakeRuntime) ListContainers(_ context.Context, filter *runtimeapi.ContainerFilter) ([]*runtimeapi.Container, error) {
	var out []*runtimeapi.Container
	for _, c := range f.containers {
		if filter.GetState() == nil || filter.GetState().State == c.State {
			out = append(out, c)
		}
	}
	return out, nil
}

func (f *fakeRuntime) ListContainerStats(context.Context, *runtimeapi.ContainerStatsFilter) ([]*runtimeapi.ContainerStats, error) {
	return f.stats, nil
}

func (f *fakeRuntime) ContainerStatus(_ context.Context, id string, _ bool) (*runtimeapi.ContainerStatusResponse, error) {
	if st, ok := f.statuses[id]; ok {
		return st, nil
	}
	return nil, errors.New("no such container")
}

// fakeNode is a machine with fixed usage and swap.
type fakeNode struct{}

func (fakeNode) CPU() (uint64, error) { return 10e9, nil }
func (fakeNode) Memory() (MemoryStats, error) {
	u := func(v uint64) *uint64 { return &v }
	return MemoryStats{UsageBytes: u(1500), WorkingSetBytes: u(1000), RSSBytes: u(400), AvailableBytes: u(3000)}, nil
}
func (fakeNode) BootTime() (time.Time, error) { return time.Unix(1700000000, 0), nil }
func (fakeNode) Swap() (SwapStats, error) {
	used, free := uint64(500), uint64(100)
	return SwapStats{SwapUsageBytes: &used, SwapAvailableBytes: &free}, nil
}

// sampleAt is when every figure of the fixture was measured (milliseconds
// 1624396278302 in the exposition).
var sampleAt = time.Unix(0, 1624396278302091597)

func labelsOfPod(uid string) map[string]string {
	return map[string]string{kubeletruntime.LabelPodUID: uid}
}

func criUint(v uint64) *runtimeapi.UInt64Value { return &runtimeapi.UInt64Value{Value: v} }

// fixture: pod shop/web runs app (no swap figures) and side (swap reported);
// an exited container, a pod whose sandbox is not ready and a container of no
// pod are left out.
func fixtureRuntime() *fakeRuntime {
	ts := sampleAt.UnixNano()
	ready, notReady := runtimeapi.PodSandboxState_SANDBOX_READY, runtimeapi.PodSandboxState_SANDBOX_NOTREADY
	running, exited := runtimeapi.ContainerState_CONTAINER_RUNNING, runtimeapi.ContainerState_CONTAINER_EXITED
	ctr := func(id, name, uid string, state runtimeapi.ContainerState, created int64) *runtimeapi.Container {
		c := &runtimeapi.Container{Id: id, Metadata: &runtimeapi.ContainerMetadata{Name: name}, State: state,
			CreatedAt: time.Unix(created, 0).UnixNano(), Image: &runtimeapi.ImageSpec{Image: "sha256:" + name}}
		if uid != "" {
			c.Labels = labelsOfPod(uid)
		}
		return c
	}
	return &fakeRuntime{
		sandboxes: []*runtimeapi.PodSandbox{
			{Id: "sb1", Metadata: &runtimeapi.PodSandboxMetadata{Name: "web", Namespace: "shop"}, State: ready,
				CreatedAt: time.Unix(1624396200, 0).UnixNano(), Labels: labelsOfPod("u1")},
			{Id: "sb2", Metadata: &runtimeapi.PodSandboxMetadata{Name: "gone", Namespace: "shop"}, State: notReady,
				CreatedAt: time.Unix(1624396100, 0).UnixNano(), Labels: labelsOfPod("u2")},
		},
		containers: []*runtimeapi.Container{
			ctr("c1", "app", "u1", running, 1624396248),
			ctr("c2", "side", "u1", running, 1624396258),
			ctr("c0", "app", "u1", exited, 1624396210),
			ctr("c9", "stray", "", running, 1624396210),
		},
		stats: []*runtimeapi.ContainerStats{
			{Attributes: &runtimeapi.ContainerAttributes{Id: "c1"},
				Cpu:    &runtimeapi.CpuUsage{Timestamp: ts, UsageCoreNanoSeconds: criUint(2e9)},
				Memory: &runtimeapi.MemoryUsage{Timestamp: ts, WorkingSetBytes: criUint(300), UsageBytes: criUint(350), RssBytes: criUint(250)}},
			{Attributes: &runtimeapi.ContainerAttributes{Id: "c2"},
				Cpu:    &runtimeapi.CpuUsage{Timestamp: ts, UsageCoreNanoSeconds: criUint(1.5e9)},
				Memory: &runtimeapi.MemoryUsage{Timestamp: ts, WorkingSetBytes: criUint(200)},
				Swap:   &runtimeapi.SwapUsage{Timestamp: ts, SwapUsageBytes: criUint(10), SwapAvailableBytes: criUint(90)}},
		},
		statuses: map[string]*runtimeapi.ContainerStatusResponse{
			"c1": {Status: &runtimeapi.ContainerStatus{Image: &runtimeapi.ImageSpec{Image: "docker.io/library/nginx:1.25"}},
				Info: map[string]string{"info": `{"runtimeSpec":{"linux":{"cgroupsPath":"kubepods-besteffort-podu1.slice:cri-containerd:c1"}}}`}},
			"c2": {Status: &runtimeapi.ContainerStatus{},
				Info: map[string]string{"info": `{"runtimeSpec":{"linux":{"cgroupsPath":"/kubepods/besteffort/podu1/c2"}}}`}},
		},
	}
}

func fixtureProvider(rt Runtime) *statsProvider {
	p := newStatsProvider(rt, fakeNode{}, "n1")
	p.now = func() time.Time { return sampleAt }
	return p
}

func TestResourceMetrics(t *testing.T) {
	c := &resourceCollector{summary: fixtureProvider(fixtureRuntime()).summary}
	want := `# HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in core-seconds
# TYPE container_cpu_usage_seconds_total counter
container_cpu_usage_seconds_total{container="app",namespace="shop",pod="web"} 2 1624396278302
container_cpu_usage_seconds_total{container="side",namespace="shop",pod="web"} 1.5 1624396278302
# HELP container_memory_working_set_bytes [STABLE] Current working set of the container in bytes
# TYPE container_memory_working_set_bytes gauge
container_memory_working_set_bytes{container="app",namespace="shop",pod="web"} 300 1624396278302
container_memory_working_set_bytes{container="side",namespace="shop",pod="web"} 200 1624396278302
# HELP container_start_time_seconds [STABLE] Start time of the container since unix epoch in seconds
# TYPE container_start_time_seconds gauge
container_start_time_seconds{container="app",namespace="shop",pod="web"} 1.624396248e+09
container_start_time_seconds{container="side",namespace="shop",pod="web"} 1.624396258e+09
# HELP container_swap_limit_bytes [ALPHA] Current amount of the container swap limit in bytes. Reported only on non-windows systems
# TYPE container_swap_limit_bytes gauge
container_swap_limit_bytes{container="side",namespace="shop",pod="web"} 100 1624396278302
# HELP container_swap_usage_bytes [ALPHA] Current amount of the container swap usage in bytes. Reported only on non-windows systems
# TYPE container_swap_usage_bytes gauge
container_swap_usage_bytes{container="side",namespace="shop",pod="web"} 10 1624396278302
# HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the node in core-seconds
# TYPE node_cpu_usage_seconds_total counter
node_cpu_usage_seconds_total 10 1624396278302
# HELP node_memory_working_set_bytes [STABLE] Current working set of the node in bytes
# TYPE node_memory_working_set_bytes gauge
node_memory_working_set_bytes 1000 1624396278302
# HELP node_swap_usage_bytes [ALPHA] Current swap usage of the node in bytes. Reported only on non-windows systems
# TYPE node_swap_usage_bytes gauge
node_swap_usage_bytes 500 1624396278302
# HELP pod_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the pod in core-seconds
# TYPE pod_cpu_usage_seconds_total counter
pod_cpu_usage_seconds_total{namespace="shop",pod="web"} 3.5 1624396278302
# HELP pod_memory_working_set_bytes [STABLE] Current working set of the pod in bytes
# TYPE pod_memory_working_set_bytes gauge
pod_memory_working_set_bytes{namespace="shop",pod="web"} 500 1624396278302
# HELP pod_swap_usage_bytes [ALPHA] Current amount of the pod swap usage in bytes. Reported only on non-windows systems
# TYPE pod_swap_usage_bytes gauge
pod_swap_usage_bytes{namespace="shop",pod="web"} 10 1624396278302
# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container metrics, 0 otherwise
# TYPE resource_scrape_error gauge
resource_scrape_error 0
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}

func TestResourceMetricsWhenTheRuntimeFails(t *testing.T) {
	rt := fixtureRuntime()
	rt.listErr = errors.New("runtime down")
	c := &resourceCollector{summary: fixtureProvider(rt).summary}
	want := `# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container metrics, 0 otherwise
# TYPE resource_scrape_error gauge
resource_scrape_error 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}

// The resource figures are the summary's: both are built from one reading.
func TestResourceMetricsAgreeWithTheSummary(t *testing.T) {
	p := fixtureProvider(fixtureRuntime())
	sum, err := p.summary(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(&resourceCollector{summary: p.summary})
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	byContainer := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "container_memory_working_set_bytes" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "container" {
					byContainer[l.GetValue()] = m.GetGauge().GetValue()
				}
			}
		}
	}
	for _, c := range sum.Pods[0].Containers {
		if got, want := byContainer[c.Name], float64(*c.Memory.WorkingSetBytes); got != want {
			t.Errorf("%s: metric %v, summary %v", c.Name, got, want)
		}
	}
	if len(byContainer) != len(sum.Pods[0].Containers) {
		t.Errorf("metrics for %v, summary has %d containers", byContainer, len(sum.Pods[0].Containers))
	}
}

func TestCadvisorMetrics(t *testing.T) {
	rt := fixtureRuntime()
	c := newCadvisorCollector(fixtureProvider(rt), rt)
	c.now = func() time.Time { return sampleAt }
	app := `container="app",id="/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podu1.slice/cri-containerd-c1.scope",image="docker.io/library/nginx:1.25",name="c1",namespace="shop",pod="web"`
	side := `container="side",id="/kubepods/besteffort/podu1/c2",image="sha256:side",name="c2",namespace="shop",pod="web"`
	root := `container="",id="/",image="",name="",namespace="",pod=""`
	want := `# HELP container_cpu_usage_seconds_total Cumulative cpu time consumed in seconds.
# TYPE container_cpu_usage_seconds_total counter
container_cpu_usage_seconds_total{` + withCPU(root) + `} 10 1624396278302
container_cpu_usage_seconds_total{` + withCPU(app) + `} 2 1624396278302
container_cpu_usage_seconds_total{` + withCPU(side) + `} 1.5 1624396278302
# HELP container_last_seen Last time a container was seen by the exporter
# TYPE container_last_seen gauge
container_last_seen{` + root + `} 1.624396278e+09 1624396278302
container_last_seen{` + app + `} 1.624396278e+09 1624396278302
container_last_seen{` + side + `} 1.624396278e+09 1624396278302
# HELP container_memory_rss Size of RSS in bytes.
# TYPE container_memory_rss gauge
container_memory_rss{` + root + `} 400 1624396278302
container_memory_rss{` + app + `} 250 1624396278302
# HELP container_memory_swap Container swap usage in bytes.
# TYPE container_memory_swap gauge
container_memory_swap{` + root + `} 500 1624396278302
container_memory_swap{` + side + `} 10 1624396278302
# HELP container_memory_usage_bytes Current memory usage in bytes, including all memory regardless of when it was accessed
# TYPE container_memory_usage_bytes gauge
container_memory_usage_bytes{` + root + `} 1500 1624396278302
container_memory_usage_bytes{` + app + `} 350 1624396278302
# HELP container_memory_working_set_bytes Current working set in bytes.
# TYPE container_memory_working_set_bytes gauge
container_memory_working_set_bytes{` + root + `} 1000 1624396278302
container_memory_working_set_bytes{` + app + `} 300 1624396278302
container_memory_working_set_bytes{` + side + `} 200 1624396278302
# HELP container_scrape_error 1 if there was an error while getting container metrics, 0 otherwise
# TYPE container_scrape_error gauge
container_scrape_error 0
# HELP container_start_time_seconds Start time of the container since unix epoch in seconds.
# TYPE container_start_time_seconds gauge
container_start_time_seconds{` + root + `} 1.7e+09
container_start_time_seconds{` + app + `} 1.624396248e+09
container_start_time_seconds{` + side + `} 1.624396258e+09
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	// A container that stopped is forgotten, and its identity with it.
	rt.containers = rt.containers[1:]
	testutil.CollectAndCount(c)
	if _, ok := c.identities["c1"]; ok || len(c.identities) != 1 {
		t.Fatalf("identities after c1 stopped: %v", c.identities)
	}
}

// withCPU adds the cpu label where the exposition sorts it, after container.
func withCPU(labels string) string {
	container, rest, _ := strings.Cut(labels, ",")
	return container + `,cpu="total",` + rest
}

func TestCadvisorMetricsWhenTheRuntimeFails(t *testing.T) {
	rt := fixtureRuntime()
	rt.listErr = errors.New("runtime down")
	c := newCadvisorCollector(fixtureProvider(rt), rt)
	want := `# HELP container_scrape_error 1 if there was an error while getting container metrics, 0 otherwise
# TYPE container_scrape_error gauge
container_scrape_error 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}

func TestCadvisorCgroupName(t *testing.T) {
	for _, tc := range []struct{ name, path, want string }{
		{"a cgroupfs path is the id as it is", "/kubepods/burstable/podabc/c1", "/kubepods/burstable/podabc/c1"},
		{"a systemd path nests the slice and names the scope", "kubepods-burstable-poda_b.slice:cri-containerd:c1",
			"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-poda_b.slice/cri-containerd-c1.scope"},
		{"a guaranteed pod's slice sits right under kubepods", "kubepods-podx.slice:cri-containerd:c1",
			"/kubepods.slice/kubepods-podx.slice/cri-containerd-c1.scope"},
		{"a systemd path without a prefix names the scope alone", "kubepods.slice::c1", "/kubepods.slice/c1.scope"},
		{"a malformed path gives no id", "kubepods.slice:c1", ""},
		{"no path gives no id", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := cadvisorCgroupName(tc.path); got != tc.want {
				t.Fatalf("cadvisorCgroupName(%q) = %q, want %q", tc.path, got, tc.want)
			}
		})
	}
}

// The endpoints answer Prometheus text; the agent's registries are served
// only when given.
func TestMetricsEndpoints(t *testing.T) {
	rt := fixtureRuntime()
	own := prometheus.NewRegistry()
	own.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kubelet_test_gauge", Help: "test"}, func() float64 { return 1 }))
	s := &Server{cfg: Config{Runtime: rt, Metrics: own}, stats: fixtureProvider(rt), mux: http.NewServeMux()}
	if err := s.handleMetrics(); err != nil {
		t.Fatal(err)
	}
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		s.mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		body, _ := io.ReadAll(rec.Result().Body)
		return rec.Code, string(body)
	}
	for path, want := range map[string]string{
		"/metrics/resource": `container_cpu_usage_seconds_total{container="app",namespace="shop",pod="web"} 2 1624396278302`,
		"/metrics/cadvisor": `container_memory_working_set_bytes{container="side",id="/kubepods/besteffort/podu1/c2"`,
		"/metrics":          "kubelet_test_gauge 1",
	} {
		code, body := get(path)
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("GET %s: %d, want %q in:\n%s", path, code, want, body)
		}
	}
	if code, _ := get("/metrics/probes"); code != http.StatusNotFound {
		t.Errorf("GET /metrics/probes without a probe registry: %d", code)
	}
}
