package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// healthChecks serves each externalTrafficPolicy Local Service's
// healthCheckNodePort, as kube-proxy does: load balancers ask every node and
// send traffic only to nodes that answer 200, those with a local endpoint.
type healthChecks struct {
	// listen opens a listener; health checks answer on every address, as
	// kube-proxy's do with its default --nodeport-addresses.
	listen func(network, address string) (net.Listener, error)
	log    *slog.Logger

	mu      sync.Mutex
	servers map[uint16]*healthServer
}

type healthServer struct {
	svc   types.NamespacedName
	srv   *http.Server
	count int // local ready endpoints
	mu    sync.Mutex
}

func newHealthChecks(listen func(network, address string) (net.Listener, error), log *slog.Logger) *healthChecks {
	return &healthChecks{listen: listen, log: log, servers: map[uint16]*healthServer{}}
}

// healthCheck is what one Service needs served.
type healthCheck struct {
	svc            types.NamespacedName
	localEndpoints int
}

// sync makes the servers match want (by port): new ports listen, gone ones
// close, counts update.
func (h *healthChecks) sync(want map[uint16]healthCheck) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for port, s := range h.servers {
		if w, ok := want[port]; !ok || w.svc != s.svc {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = s.srv.Shutdown(ctx)
			cancel()
			delete(h.servers, port)
		}
	}
	for port, w := range want {
		s := h.servers[port]
		if s == nil {
			var err error
			if s, err = h.serve(port, w.svc); err != nil {
				// Another process holds the port: kube-proxy logs and retries on the next sync.
				h.log.Error("serve health check node port", "service", w.svc.String(), "port", port, "err", err)
				continue
			}
			h.servers[port] = s
		}
		s.mu.Lock()
		s.count = w.localEndpoints
		s.mu.Unlock()
	}
}

func (h *healthChecks) serve(port uint16, svc types.NamespacedName) (*healthServer, error) {
	ln, err := h.listen("tcp", ":"+strconv.Itoa(int(port)))
	if err != nil {
		return nil, err
	}
	s := &healthServer{svc: svc}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			h.log.Error("health check server stopped", "service", svc.String(), "port", port, "err", err)
		}
	}()
	return s, nil
}

// close stops every server.
func (h *healthChecks) close() { h.sync(nil) }

// ServeHTTP answers as kube-proxy's service health server does.
func (s *healthServer) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	count := s.count
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Load-Balancing-Endpoint-Weight", strconv.Itoa(count))
	if count == 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
	} else {
		w.WriteHeader(http.StatusOK)
	}
	body, _ := json.Marshal(map[string]any{
		"service":             map[string]string{"namespace": s.svc.Namespace, "name": s.svc.Name},
		"localEndpoints":      count,
		"serviceProxyHealthy": true,
	})
	fmt.Fprintf(w, "%s\n", body)
}
