package dns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strconv"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// ServerConfig is a running cluster DNS: what it answers, where, and the API
// it learns the cluster from.
type ServerConfig struct {
	Handler Config
	Client  kubernetes.Interface
	// Listen are the addresses of the UDP and TCP listeners (the node's
	// address, loopback). Port 0 on the first picks a free port, which the
	// others then use too.
	Listen []netip.AddrPort
	// MetricsPort serves /metrics on Listen's address; 0 picks a free port, -1 serves none.
	MetricsPort int
	// Bound is called once listening, with the address and metrics port
	// actually bound (the kube-dns endpoints are published from it).
	Bound func(ctx context.Context, addr netip.AddrPort, metricsPort int)
}

// Validate checks the configuration.
func (c *ServerConfig) Validate() error {
	if err := c.Handler.Validate(); err != nil {
		return err
	}
	switch {
	case c.Client == nil:
		return errors.New("cluster DNS: an API client is required")
	case len(c.Listen) == 0:
		return errors.New("cluster DNS: a listen address is required")
	case c.MetricsPort < -1 || c.MetricsPort > 65535:
		return fmt.Errorf("cluster DNS: metrics port %d is out of range", c.MetricsPort)
	}
	for _, a := range c.Listen {
		if !a.Addr().IsValid() {
			return errors.New("cluster DNS: a listen address is invalid")
		}
	}
	return nil
}

// Server is the cluster DNS.
type Server struct {
	cfg     ServerConfig
	z       *zone
	h       *Handler
	factory informers.SharedInformerFactory
	w       *watcher
	log     *slog.Logger
}

// NewServer builds the DNS server; Run starts it.
func NewServer(cfg ServerConfig) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	now := cfg.Handler.Now
	if now == nil {
		now = time.Now
	}
	z := newZone(now)
	h, err := NewHandler(cfg.Handler, z)
	if err != nil {
		return nil, err
	}
	f := informers.NewSharedInformerFactory(cfg.Client, 0)
	w, err := newWatcher(f, z, cfg.Handler.Domain)
	if err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, z: z, h: h, factory: f, w: w, log: h.log}, nil
}

// Handler is the server's query handler.
func (s *Server) Handler() *Handler { return s.h }

// Run serves until ctx ends. It waits for the cluster's records to be loaded
// before it listens, so it never answers NXDOMAIN for a name it has not read
// yet; a listen address it cannot bind is retried, not fatal.
func (s *Server) Run(ctx context.Context) error {
	s.factory.Start(ctx.Done())
	defer s.factory.Shutdown()
	defer s.h.Close()
	if !cache.WaitForCacheSync(ctx.Done(), s.w.synced...) {
		return nil
	}
	// The first lists are decoded whole before they are slimmed: hand that
	// memory back now rather than keep it as heap headroom.
	debug.FreeOSMemory()
	var servers []*mdns.Server
	var bound netip.AddrPort
	for i, addr := range s.cfg.Listen {
		if i > 0 {
			addr = netip.AddrPortFrom(addr.Addr(), bound.Port())
		}
		udp, tcp, err := s.listenRetrying(ctx, addr)
		if err != nil {
			closeAll(servers)
			return nil
		}
		if i == 0 {
			b := udp.LocalAddr().(*net.UDPAddr).AddrPort()
			bound = netip.AddrPortFrom(b.Addr().Unmap(), b.Port())
		}
		servers = append(servers,
			&mdns.Server{PacketConn: udp, Handler: s.h, UDPSize: 4096},
			&mdns.Server{Listener: tcp, Handler: s.h, ReadTimeout: 2 * time.Second, IdleTimeout: func() time.Duration { return 10 * time.Second }})
	}
	errc := make(chan error, len(servers)+1)
	for _, srv := range servers {
		go func() { errc <- srv.ActivateAndServe() }()
	}
	metricsPort := -1
	var metricsSrv *http.Server
	if s.cfg.MetricsPort >= 0 {
		lc := net.ListenConfig{Control: freebind}
		ml, err := lc.Listen(ctx, "tcp", net.JoinHostPort(bound.Addr().String(), strconv.Itoa(s.cfg.MetricsPort)))
		if err != nil {
			s.log.Info("cluster DNS metrics not served", "err", err)
		} else {
			metricsPort = ml.Addr().(*net.TCPAddr).Port
			mux := http.NewServeMux()
			mux.Handle("/metrics", promhttp.HandlerFor(s.h.metrics.registry, promhttp.HandlerOpts{}))
			metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
			go func() {
				if err := metricsSrv.Serve(ml); err != nil && !errors.Is(err, http.ErrServerClosed) {
					errc <- err
				}
			}()
		}
	}
	s.log.Info("cluster DNS listening", "addresses", fmt.Sprint(s.cfg.Listen), "port", bound.Port(), "domain", s.cfg.Handler.Domain, "upstreams", fmt.Sprint(s.cfg.Handler.Upstreams))
	if s.cfg.Bound != nil {
		go s.cfg.Bound(ctx, bound, metricsPort)
	}
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	shutdownAll(servers)
	if metricsSrv != nil {
		_ = metricsSrv.Close()
	}
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("cluster DNS: %w", runErr)
}

// listenRetrying binds addr until it can or ctx ends (nil, nil, ctx.Err()).
func (s *Server) listenRetrying(ctx context.Context, addr netip.AddrPort) (net.PacketConn, net.Listener, error) {
	for delay := time.Second; ; delay = min(delay*2, 30*time.Second) {
		udp, tcp, err := listen(ctx, addr)
		if err == nil {
			return udp, tcp, nil
		}
		s.log.Error("cluster DNS cannot listen, retrying", "address", addr.String(), "in", delay, "err", err)
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(delay):
		}
	}
}

// closeAll closes the sockets of servers that never started.
func closeAll(servers []*mdns.Server) {
	for _, srv := range servers {
		if srv.PacketConn != nil {
			srv.PacketConn.Close()
		}
		if srv.Listener != nil {
			srv.Listener.Close()
		}
	}
}

func shutdownAll(servers []*mdns.Server) {
	for _, srv := range servers {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = srv.ShutdownContext(sctx)
		cancel()
	}
}

// udpReadBuffer is the UDP socket's receive buffer; the kernel caps it at
// net.core.rmem_max.
const udpReadBuffer = 4 << 20

// listen binds UDP and TCP on one address (with port 0, one free port for both).
func listen(ctx context.Context, addr netip.AddrPort) (net.PacketConn, net.Listener, error) {
	lc := net.ListenConfig{Control: freebind}
	network := "udp4"
	if addr.Addr().Is6() && !addr.Addr().Is4In6() {
		network = "udp6"
	}
	for attempt := 0; attempt < 10; attempt++ {
		udp, err := lc.ListenPacket(ctx, network, addr.String())
		if err != nil {
			return nil, nil, err
		}
		// Room for a burst of queries (hundreds in flight from many pods):
		// the default buffer holds a few hundred small datagrams and the
		// rest would be dropped, each a client retrying after seconds.
		if u, ok := udp.(*net.UDPConn); ok {
			_ = u.SetReadBuffer(udpReadBuffer)
		}
		port := udp.LocalAddr().(*net.UDPAddr).Port
		tcp, err := lc.Listen(ctx, "tcp"+network[3:], netip.AddrPortFrom(addr.Addr(), uint16(port)).String())
		if err == nil {
			return udp, tcp, nil
		}
		udp.Close()
		if addr.Port() != 0 {
			return nil, nil, err
		}
		// The free UDP port was taken for TCP: try another.
	}
	return nil, nil, errors.New("no port free for both UDP and TCP")
}
