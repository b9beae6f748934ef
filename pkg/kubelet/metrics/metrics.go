package metrics

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Runtime is the part of the CRI client the runtime counts need.
type Runtime interface {
	ListPodSandbox(ctx context.Context, filter *runtimeapi.PodSandboxFilter) ([]*runtimeapi.PodSandbox, error)
	ListContainers(ctx context.Context, filter *runtimeapi.ContainerFilter) ([]*runtimeapi.Container, error)
}

// Config configures the agent's metrics.
type Config struct {
	NodeName string
	// Runtime is listed at each scrape of /metrics for the running pods and
	// containers, so the counts are never older than the scrape.
	Runtime Runtime
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.NodeName == "" || c.Runtime == nil {
		return errors.New("kubelet metrics: node name and runtime are required")
	}
	return nil
}

// Help texts carry the stability level in brackets, as upstream's component-base
// prefixes them, so scraped text reads the same as from upstream's kubelet.
const (
	alpha = "[ALPHA] "
	beta  = "[BETA] "
)

// podStartBuckets are upstream's for pod start latencies, in seconds.
var podStartBuckets = []float64{0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600}

// Metrics is the agent's registries and the instruments its parts record into.
type Metrics struct {
	kubelet *prometheus.Registry
	probes  *prometheus.Registry

	podStart      prometheus.Histogram
	probeTotal    *prometheus.CounterVec
	probeDuration *prometheus.HistogramVec

	mu sync.Mutex
	// probed are the pods with probe series, by UID.
	probed map[string]probedPod
}

// New builds the registries.
func New(cfg Config) (*Metrics, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Metrics{kubelet: prometheus.NewRegistry(), probes: prometheus.NewRegistry(), probed: map[string]probedPod{}}

	nodeName := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Subsystem: "kubelet", Name: "node_name",
		Help: alpha + "The node's name. The count is always 1.",
	}, []string{"node"})
	nodeName.WithLabelValues(cfg.NodeName).Set(1)
	m.podStart = prometheus.NewHistogram(prometheus.HistogramOpts{
		Subsystem: "kubelet", Name: "pod_start_duration_seconds",
		Help:    alpha + "Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run",
		Buckets: podStartBuckets,
	})
	for _, c := range []prometheus.Collector{
		nodeName, m.podStart, newRuntimeCollector(cfg.Runtime), newBuildInfo(),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := m.kubelet.Register(c); err != nil {
			return nil, err
		}
	}

	m.probeTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Subsystem: "prober", Name: "probe_total",
		Help: beta + "Cumulative number of a liveness, readiness or startup probe for a container by result.",
	}, []string{"probe_type", "result", "container", "pod", "namespace", "pod_uid"})
	m.probeDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Subsystem: "prober", Name: "probe_duration_seconds",
		Help:    alpha + "Duration in seconds for a probe response.",
		Buckets: prometheus.DefBuckets,
	}, []string{"probe_type", "container", "pod", "namespace"})
	for _, c := range []prometheus.Collector{m.probeTotal, m.probeDuration, newProcessStartTime()} {
		if err := m.probes.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Kubelet is what the kubelet API serves on /metrics.
func (m *Metrics) Kubelet() prometheus.Gatherer { return m.kubelet }

// Probes is what the kubelet API serves on /metrics/probes.
func (m *Metrics) Probes() prometheus.Gatherer { return m.probes }

// PodStarted records how long a pod took from the agent first seeing it to
// running.
func (m *Metrics) PodStarted(firstSeen time.Time) {
	if m == nil || firstSeen.IsZero() {
		return
	}
	m.podStart.Observe(time.Since(firstSeen).Seconds())
}
