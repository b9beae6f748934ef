package apiserver

import (
	"net/http"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/minik8s/minik8s/pkg/registry"
)

// metrics are the API server's Prometheus metrics, named as upstream names them.
type metrics struct {
	// served tells the resources whose names may become label values.
	served   *registry.Registry
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	handler  http.Handler
}

func newMetrics(r *registry.Registry) *metrics {
	m := &metrics{served: r, reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "apiserver_request_total",
		Help: "Counter of apiserver requests broken out for each verb, group, version, resource, scope, component, and HTTP response code.",
	}, []string{"verb", "group", "version", "resource", "subresource", "scope", "component", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "apiserver_request_duration_seconds",
		Help:    "Response latency distribution in seconds for each verb, group, version, resource, subresource, scope and component.",
		Buckets: []float64{0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60},
	}, []string{"verb", "group", "version", "resource", "subresource", "scope", "component"})
	objects := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "minik8s_storage_objects_total", Help: "Objects held in storage, all resources."},
		func() float64 {
			n := 0
			for _, res := range r.All() {
				if res.Store != nil && !res.Converts() {
					n += res.Store.Count()
				}
			}
			return float64(n)
		})
	m.reg.MustRegister(m.requests, m.latency, objects,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return m
}

func (m *metrics) observe(r *http.Request, info requestInfo, code int, d time.Duration) {
	if code == 0 {
		code = http.StatusOK
	}
	// Label values come from the request; only those of what the server serves
	// are kept, so that made-up paths and methods cannot grow the series without
	// end (upstream's metrics do the same).
	verb := info.Verb
	if !info.IsResource {
		verb = r.Method
	}
	if !knownMetricVerbs[verb] {
		verb = "other"
	}
	if info.IsResource {
		res := m.served.Get(schema.GroupVersionResource{Group: info.Group, Version: info.Version, Resource: info.Resource})
		switch {
		case res == nil:
			info.Group, info.Version, info.Resource, info.Subresource = "", "", "", ""
		case info.Subresource != "" && !hasSubresource(res, info.Subresource):
			info.Subresource = ""
		}
	}
	scope := ""
	switch {
	case !info.IsResource:
	case info.Name != "":
		scope = "resource"
	case info.Namespace != "":
		scope = "namespace"
	default:
		scope = "cluster"
	}
	m.requests.WithLabelValues(verb, info.Group, info.Version, info.Resource, info.Subresource, scope, "apiserver", strconv.Itoa(code)).Inc()
	if verb != "watch" {
		m.latency.WithLabelValues(verb, info.Group, info.Version, info.Resource, info.Subresource, scope, "apiserver").Observe(d.Seconds())
	}
}

// knownMetricVerbs are the verbs and methods that are label values as they are.
var knownMetricVerbs = map[string]bool{
	"get": true, "list": true, "watch": true, "create": true, "update": true, "patch": true, "delete": true,
	"deletecollection": true, "connect": true,
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true, http.MethodPatch: true,
	http.MethodDelete: true, http.MethodOptions: true,
}

func hasSubresource(res *registry.Resource, name string) bool {
	for _, s := range res.AllSubresources() {
		if s.Name == name {
			return true
		}
	}
	return false
}

func (m *metrics) serve(w http.ResponseWriter, r *http.Request) { m.handler.ServeHTTP(w, r) }

// MetricsRegistry is where components in the same process register their metrics,
// so /metrics shows them with the API server's.
func (s *Server) MetricsRegistry() prometheus.Registerer { return s.metrics.reg }
