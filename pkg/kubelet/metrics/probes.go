package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ProbeResult is the result label of prober_probe_total.
type ProbeResult string

// Upstream's result values. A probe that errors (the prober itself failed) is
// not counted, as upstream drops its result before counting.
const (
	ProbeSuccessful ProbeResult = "successful"
	ProbeFailed     ProbeResult = "failed"
)

// Probe names one probe of one container: the labels its series carry.
type Probe struct {
	// Type is "Liveness", "Readiness" or "Startup".
	Type      string
	Container string
	Pod       string
	Namespace string
	PodUID    string
}

// probedPod is a pod whose probes have series, for ForgetProbes to find them.
type probedPod struct{ namespace, name string }

// ProbeRan counts a probe's result; a successful probe's duration is observed
// too, as upstream observes it.
func (m *Metrics) ProbeRan(p Probe, result ProbeResult, took time.Duration) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.probed[p.PodUID] = probedPod{namespace: p.Namespace, name: p.Pod}
	m.mu.Unlock()
	m.probeTotal.WithLabelValues(p.Type, string(result), p.Container, p.Pod, p.Namespace, p.PodUID).Inc()
	if result == ProbeSuccessful {
		m.probeDuration.WithLabelValues(p.Type, p.Container, p.Pod, p.Namespace).Observe(took.Seconds())
	}
}

// ForgetProbes drops a pod's probe series once its probes stop for good; while
// the pod lives, counts carry on across container restarts, as upstream's
// worker per container keeps them.
func (m *Metrics) ForgetProbes(podUID string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	pod, ok := m.probed[podUID]
	delete(m.probed, podUID)
	m.mu.Unlock()
	if !ok {
		return
	}
	m.probeTotal.DeletePartialMatch(prometheus.Labels{"pod_uid": podUID})
	m.probeDuration.DeletePartialMatch(prometheus.Labels{"namespace": pod.namespace, "pod": pod.name})
}
