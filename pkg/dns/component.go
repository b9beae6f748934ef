package dns

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/minik8s/minik8s/pkg/server"
)

// resolvConf is where the node's resolvers are read from.
const resolvConf = "/etc/resolv.conf"

// ServerComponent runs the cluster DNS inside `minik8s server` (unless
// --disable coredns): it listens on the node's address and on 127.0.0.1 at
// --cluster-dns-port, and keeps the kube-dns Service at the cluster DNS
// address with endpoints pointing at the node's address.
func ServerComponent(env *server.Env) (server.Component, error) {
	if env.Config.Disabled("coredns") {
		return nil, nil
	}
	ip, err := env.Config.ClusterDNSIP()
	if err != nil {
		return nil, err
	}
	clusterIP, _ := netip.AddrFromSlice(ip)
	clusterIP = clusterIP.Unmap()
	port := uint16(env.Config.ClusterDNSPort)
	listen := []netip.AddrPort{}
	var node netip.Addr
	if a, ok := netip.AddrFromSlice(env.AdvertiseAddress); ok {
		node = a.Unmap()
		listen = append(listen, netip.AddrPortFrom(node, port))
	}
	listen = append(listen, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port))
	log := env.Logger.With("component", "dns")
	var self []netip.AddrPort
	if port != 0 {
		self = listen
	}
	upstreams, err := Upstreams(resolvConf, self, []netip.Addr{clusterIP})
	if err != nil {
		log.Warn("no upstream resolvers: names outside the cluster will fail", "err", err)
	}
	rc := *env.Loopback
	rc.UserAgent = "minik8s-dns"
	// The kube-dns Endpoints are written on purpose: no deprecation warning.
	rc.WarningHandler = rest.NoWarnings{}
	client, err := kubernetes.NewForConfig(&rc)
	if err != nil {
		return nil, fmt.Errorf("cluster DNS client: %w", err)
	}
	cfg := ServerConfig{
		Handler: Config{Domain: env.Config.ClusterDomain, TTL: 5, ClusterDNS: []netip.Addr{clusterIP}, Upstreams: upstreams,
			ForwardTimeout: 2 * time.Second, Cache: DefaultCache, Log: log},
		Client: client, Listen: listen, MetricsPort: -1,
	}
	kd := KubeDNS{ClusterIP: clusterIP}
	cfg.Bound = func(ctx context.Context, bound netip.AddrPort, _ int) {
		if node.IsValid() {
			kd.Endpoint = netip.AddrPortFrom(node, bound.Port())
		}
		kd.KeepReconciled(ctx, client, 30*time.Second, log)
	}
	s, err := NewServer(cfg)
	if err != nil {
		return nil, err
	}
	return component{s: s, log: log}, nil
}

type component struct {
	s   *Server
	log *slog.Logger
}

func (c component) Name() string { return "dns" }

func (c component) Run(ctx context.Context) error { return c.s.Run(ctx) }
