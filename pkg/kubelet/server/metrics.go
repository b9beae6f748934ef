package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The metrics endpoints, as upstream's kubelet serves them: /metrics (the
// agent's own registry), /metrics/resource (usage for metrics-server),
// /metrics/cadvisor (per-container usage for Prometheus) and /metrics/probes.
// authorize maps them all to the nodes/metrics subresource.
const (
	metricsPath         = "/metrics"
	resourceMetricsPath = "/metrics/resource"
	cadvisorMetricsPath = "/metrics/cadvisor"
	probeMetricsPath    = "/metrics/probes"
)

// handleMetrics registers the metrics endpoints; the agent's own registries
// are served only when given.
func (s *Server) handleMetrics() error {
	resource := prometheus.NewRegistry()
	if err := resource.Register(&resourceCollector{summary: s.stats.summary}); err != nil {
		return err
	}
	cadvisor := prometheus.NewRegistry()
	if err := cadvisor.Register(newCadvisorCollector(s.stats, s.cfg.Runtime)); err != nil {
		return err
	}
	s.mux.Handle("GET "+resourceMetricsPath, metricsHandler(resource))
	s.mux.Handle("GET "+cadvisorMetricsPath, metricsHandler(cadvisor))
	if s.cfg.Metrics != nil {
		s.mux.Handle("GET "+metricsPath, metricsHandler(s.cfg.Metrics))
	}
	if s.cfg.ProbeMetrics != nil {
		s.mux.Handle("GET "+probeMetricsPath, metricsHandler(s.cfg.ProbeMetrics))
	}
	return nil
}

// metricsHandler serves a registry; a collector's error leaves out its series
// but not the others, as upstream's kubelet answers.
func metricsHandler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}
