package dns

import (
	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics counts what the server does, with the label values resolved once
// so counting costs an atomic add.
type metrics struct {
	registry                  *prometheus.Registry
	udp, tcp                  prometheus.Counter
	byRcode                   map[int]prometheus.Counter
	otherRcode                prometheus.Counter
	cacheHits, cacheMisses    prometheus.Counter
	forwards, forwardFailures prometheus.Counter
}

func newMetrics() *metrics {
	r := prometheus.NewRegistry()
	req := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "minik8s", Subsystem: "dns", Name: "requests_total",
		Help: "DNS queries received, by transport."}, []string{"proto"})
	resp := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "minik8s", Subsystem: "dns", Name: "responses_total",
		Help: "DNS answers sent, by response code."}, []string{"rcode"})
	hits := prometheus.NewCounter(prometheus.CounterOpts{Namespace: "minik8s", Subsystem: "dns", Name: "cache_hits_total",
		Help: "Forwarded names answered from the cache."})
	misses := prometheus.NewCounter(prometheus.CounterOpts{Namespace: "minik8s", Subsystem: "dns", Name: "cache_misses_total",
		Help: "Forwarded names not in the cache."})
	fwd := prometheus.NewCounter(prometheus.CounterOpts{Namespace: "minik8s", Subsystem: "dns", Name: "forward_requests_total",
		Help: "Queries sent to the upstream resolvers."})
	fail := prometheus.NewCounter(prometheus.CounterOpts{Namespace: "minik8s", Subsystem: "dns", Name: "forward_failures_total",
		Help: "Queries no upstream resolver answered."})
	r.MustRegister(req, resp, hits, misses, fwd, fail)
	m := &metrics{registry: r, udp: req.WithLabelValues("udp"), tcp: req.WithLabelValues("tcp"), byRcode: map[int]prometheus.Counter{},
		otherRcode: resp.WithLabelValues("other"), cacheHits: hits, cacheMisses: misses, forwards: fwd, forwardFailures: fail}
	for _, rc := range []int{mdns.RcodeSuccess, mdns.RcodeFormatError, mdns.RcodeServerFailure, mdns.RcodeNameError,
		mdns.RcodeNotImplemented, mdns.RcodeRefused} {
		m.byRcode[rc] = resp.WithLabelValues(mdns.RcodeToString[rc])
	}
	return m
}

func (m *metrics) requests(tcp bool) prometheus.Counter {
	if tcp {
		return m.tcp
	}
	return m.udp
}

func (m *metrics) responses(rcode int) prometheus.Counter {
	if c, ok := m.byRcode[rcode]; ok {
		return c
	}
	return m.otherRcode
}
