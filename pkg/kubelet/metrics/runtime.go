package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	kubeletruntime "github.com/minik8s/minik8s/pkg/kubelet/runtime"
)

// listTimeout bounds the runtime listing of one scrape.
const listTimeout = 10 * time.Second

var (
	runningPodsDesc = prometheus.NewDesc("kubelet_running_pods",
		alpha+"Number of pods that have a running pod sandbox", nil, nil)
	runningContainersDesc = prometheus.NewDesc("kubelet_running_containers",
		alpha+"Number of containers currently running", []string{"container_state"}, nil)
)

// containerStates are upstream's container_state values by CRI state.
var containerStates = map[runtimeapi.ContainerState]string{
	runtimeapi.ContainerState_CONTAINER_CREATED: "created",
	runtimeapi.ContainerState_CONTAINER_RUNNING: "running",
	runtimeapi.ContainerState_CONTAINER_EXITED:  "exited",
	runtimeapi.ContainerState_CONTAINER_UNKNOWN: "unknown",
}

// runtimeCollector counts the pods' sandboxes and containers in the runtime at
// each scrape. Upstream sets the same gauges on every relist of its PLEG; a
// listing at scrape time gives the same figures without a loop of its own.
type runtimeCollector struct{ rt Runtime }

func newRuntimeCollector(rt Runtime) *runtimeCollector { return &runtimeCollector{rt: rt} }

func (c *runtimeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- runningPodsDesc
	ch <- runningContainersDesc
}

// Collect leaves out a count the runtime could not answer rather than report a
// zero that was not measured.
func (c *runtimeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
	defer cancel()
	if sandboxes, err := c.rt.ListPodSandbox(ctx, &runtimeapi.PodSandboxFilter{
		State: &runtimeapi.PodSandboxStateValue{State: runtimeapi.PodSandboxState_SANDBOX_READY}}); err == nil {
		ch <- prometheus.MustNewConstMetric(runningPodsDesc, prometheus.GaugeValue, float64(countPods(sandboxes)))
	}
	if containers, err := c.rt.ListContainers(ctx, &runtimeapi.ContainerFilter{}); err == nil {
		counts := countContainers(containers)
		for _, state := range []runtimeapi.ContainerState{
			runtimeapi.ContainerState_CONTAINER_CREATED, runtimeapi.ContainerState_CONTAINER_RUNNING,
			runtimeapi.ContainerState_CONTAINER_EXITED, runtimeapi.ContainerState_CONTAINER_UNKNOWN,
		} {
			name := containerStates[state]
			ch <- prometheus.MustNewConstMetric(runningContainersDesc, prometheus.GaugeValue, float64(counts[name]), name)
		}
	}
}

// countPods counts the pods with a ready sandbox, once each however many
// sandboxes a pod has; sandboxes that are not a pod's are not counted.
func countPods(sandboxes []*runtimeapi.PodSandbox) int {
	pods := map[string]bool{}
	for _, sb := range sandboxes {
		if uid := sb.GetLabels()[kubeletruntime.LabelPodUID]; uid != "" && sb.GetState() == runtimeapi.PodSandboxState_SANDBOX_READY {
			pods[uid] = true
		}
	}
	return len(pods)
}

// countContainers counts pods' containers by upstream's state names.
func countContainers(containers []*runtimeapi.Container) map[string]int {
	counts := map[string]int{}
	for _, c := range containers {
		if c.GetLabels()[kubeletruntime.LabelPodUID] == "" {
			continue
		}
		state, ok := containerStates[c.GetState()]
		if !ok {
			state = "unknown"
		}
		counts[state]++
	}
	return counts
}
