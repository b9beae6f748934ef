package scheduler

import (
	"errors"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the scheduler's Prometheus metrics, named as upstream's.
type metrics struct {
	attempts *prometheus.CounterVec
	duration *prometheus.HistogramVec
	e2e      *prometheus.HistogramVec
	pending  *prometheus.GaugeVec
	// the four pending gauges, looked up once.
	active, backoff, unschedulable, gated prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Subsystem: "scheduler", Name: "schedule_attempts_total",
			Help: "Number of attempts to schedule pods, by the result. 'unschedulable' means a pod could not be scheduled, while 'error' means an internal scheduler problem.",
		}, []string{"result", "profile"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Subsystem: "scheduler", Name: "scheduling_attempt_duration_seconds",
			Help:    "Scheduling attempt latency in seconds (scheduling algorithm + binding)",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
		}, []string{"result", "profile"}),
		e2e: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Subsystem: "scheduler", Name: "pod_scheduling_sli_duration_seconds",
			Help:    "E2e latency for a pod being scheduled, from the time the pod enters the scheduling queue and might involve multiple scheduling attempts.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 20),
		}, []string{"attempts"}),
		pending: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Subsystem: "scheduler", Name: "pending_pods",
			Help: "Number of pending pods, by the queue type. 'active' means number of pods in activeQ; 'backoff' means number of pods in backoffQ; 'unschedulable' means number of pods in unschedulablePods that the scheduler attempted to schedule and failed; 'gated' is the number of unschedulable pods that the scheduler never attempted to schedule because they are gated.",
		}, []string{"queue"}),
	}
	if reg != nil {
		// A registry that already has them (the scheduler made again after losing
		// its Lease, a second one in tests) keeps its series, and this one feeds them.
		m.attempts = register(reg, m.attempts)
		m.duration = register(reg, m.duration)
		m.e2e = register(reg, m.e2e)
		m.pending = register(reg, m.pending)
	}
	m.active, m.backoff = m.pending.WithLabelValues("active"), m.pending.WithLabelValues("backoff")
	m.unschedulable, m.gated = m.pending.WithLabelValues("unschedulable"), m.pending.WithLabelValues("gated")
	return m
}

// register adds c to reg, or returns the collector of the same description
// that reg already has.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	return c
}

func (m *metrics) setPending(active, backoff, unschedulable, gated int) {
	m.active.Set(float64(active))
	m.backoff.Set(float64(backoff))
	m.unschedulable.Set(float64(unschedulable))
	m.gated.Set(float64(gated))
}

func (m *metrics) attempt(result, profile string, seconds float64) {
	m.attempts.WithLabelValues(result, profile).Inc()
	m.duration.WithLabelValues(result, profile).Observe(seconds)
}
