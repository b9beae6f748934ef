package cli

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/minik8s/minik8s/pkg/dns"
)

// newDNSCommand runs the cluster DNS alone, as CoreDNS runs beside a control
// plane: against another cluster, or in a process of its own to be measured
// (bench/network). Inside `minik8s server` it runs unless --disable coredns.
func newDNSCommand() *cobra.Command {
	var kubeconfig, domain, clusterDNS string
	var listen []string
	var metricsPort int
	var verbose bool
	var profilePort int
	cmd := &cobra.Command{
		Use:   "dns",
		Short: "Run only the cluster DNS, against the cluster of a kubeconfig",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var addrs []netip.AddrPort
			for _, l := range listen {
				a, err := netip.ParseAddrPort(l)
				if err != nil {
					return fmt.Errorf("--listen %q: want IP:PORT: %w", l, err)
				}
				addrs = append(addrs, a)
			}
			var ns []netip.Addr
			if clusterDNS != "" {
				a, err := netip.ParseAddr(clusterDNS)
				if err != nil {
					return fmt.Errorf("--cluster-dns %q: %w", clusterDNS, err)
				}
				ns = append(ns, a)
			}
			log := newLogger(verbose).With("component", "dns")
			upstreams, err := dns.Upstreams("/etc/resolv.conf", addrs, ns)
			if err != nil {
				log.Warn("no upstream resolvers: names outside the cluster will fail", "err", err)
			}
			rc, err := restConfig(kubeconfig)
			if err != nil {
				return err
			}
			rc.UserAgent = "minik8s-dns"
			rc.ContentType = "application/vnd.kubernetes.protobuf"
			rc.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
			client, err := kubernetes.NewForConfig(rc)
			if err != nil {
				return err
			}
			s, err := dns.NewServer(dns.ServerConfig{
				Handler: dns.Config{Domain: domain, TTL: 5, ClusterDNS: ns, Upstreams: upstreams,
					ForwardTimeout: 2 * time.Second, Cache: dns.DefaultCache, Log: log},
				Client: client, Listen: addrs, MetricsPort: metricsPort,
			})
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			go releaseAfterStart(ctx)
			serveProfiles(ctx, profilePort)
			return s.Run(ctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig of the cluster (default: $KUBECONFIG, else the local server's)")
	f.StringSliceVar(&listen, "listen", []string{"127.0.0.1:53"}, "IP:PORT to answer on, UDP and TCP (port 0 on the first picks a free port for all)")
	f.StringVar(&domain, "cluster-domain", "cluster.local", "DNS domain of the cluster")
	f.StringVar(&clusterDNS, "cluster-dns", "", "ClusterIP of the kube-dns Service, named in the zone's NS record")
	f.IntVar(&metricsPort, "metrics-port", -1, "serve Prometheus metrics on the first listen address at this port (0: a free one, -1: none)")
	f.BoolVarP(&verbose, "verbose", "v", false, "log debug messages")
	addProfileFlag(f, &profilePort)
	return cmd
}
