package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/minik8s/minik8s/pkg/auth/serviceaccount"
	"github.com/minik8s/minik8s/pkg/controller/manager"
)

// newControllerManagerCommand runs the controllers alone against any cluster: a
// `minik8s server --disable-controllers ...` whose controllers run elsewhere, or
// another control plane. Benchmarks use it to measure the controllers' CPU and
// memory apart from the API server's.
func newControllerManagerCommand() *cobra.Command {
	var kubeconfig string
	var verbose bool
	var pprofPort int
	var saKeyFile, rootCAFile string
	cfg := manager.Config{NodeCIDRMaskSize: 24}
	cmd := &cobra.Command{
		Use:   "controller-manager",
		Short: "Run only the controllers, against the cluster of a kubeconfig",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cc, err := clientConfig(kubeconfig)
			if err != nil {
				return err
			}
			rc, err := cc.ClientConfig()
			if err != nil {
				return fmt.Errorf("load kubeconfig: %w", err)
			}
			rc.QPS, rc.Burst = 500, 1000
			// The root CA publisher hands out the CA the kubeconfig trusts.
			cfg.CAPEM = rc.CAData
			if len(cfg.CAPEM) == 0 && rc.CAFile != "" {
				if cfg.CAPEM, err = os.ReadFile(rc.CAFile); err != nil {
					return fmt.Errorf("read the cluster CA: %w", err)
				}
			}
			if rootCAFile != "" {
				if cfg.CAPEM, err = os.ReadFile(rootCAFile); err != nil {
					return fmt.Errorf("read --root-ca-file: %w", err)
				}
			}
			if saKeyFile != "" {
				if cfg.ServiceAccountSigner, err = serviceaccount.LoadSigner(saKeyFile, serviceaccount.Issuer); err != nil {
					return err
				}
			}
			m, err := manager.New(rc, cfg, newLogger(verbose).With("component", "controller-manager"))
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if pprofPort > 0 {
				mux := http.NewServeMux()
				mux.HandleFunc("/debug/pprof/", pprof.Index)
				mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
				srv := &http.Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(pprofPort)), Handler: mux, ReadHeaderTimeout: 5 * time.Second}
				go func() {
					if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
						fmt.Fprintln(os.Stderr, "pprof:", err)
					}
				}()
				defer srv.Close()
			}
			go releaseAfterStart(ctx)
			return m.Run(ctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig of the cluster, as an admin (default: $KUBECONFIG, else the local server's)")
	f.StringVar(&cfg.ClusterCIDR, "cluster-cidr", "10.244.0.0/16", "range of pod IPs, one /24 per node")
	f.StringVar(&cfg.ServiceCIDR, "service-cidr", "10.96.0.0/12", "range of Service cluster IPs")
	f.StringSliceVar(&cfg.Disabled, "disable-controllers", nil, "controllers not to run, by upstream's names; see docs/controllers.md")
	f.IntVar(&cfg.TerminatedPodGCThreshold, "terminated-pod-gc-threshold", 12500, "terminated pods kept before the oldest are deleted (0: keep them all)")
	f.DurationVar(&cfg.NodeMonitorPeriod, "node-monitor-period", 5*time.Second, "how often the node lifecycle controller checks nodes' health")
	f.DurationVar(&cfg.NodeMonitorGracePeriod, "node-monitor-grace-period", 50*time.Second, "how long a node may go silent before it is marked Unknown")
	f.DurationVar(&cfg.HPASyncPeriod, "horizontal-pod-autoscaler-sync-period", 15*time.Second, "how often each HorizontalPodAutoscaler is reconciled")
	f.DurationVar(&cfg.SigningDuration, "cluster-signing-duration", 365*24*time.Hour, "longest lifetime of certificates issued for CertificateSigningRequests")
	f.DurationVar(&cfg.LegacyTokenCleanUpPeriod, "legacy-service-account-token-clean-up-period", 365*24*time.Hour, "how long an auto-generated secret-based service account token may go unused before it is marked invalid, and then stay invalid before it is deleted")
	f.StringVar(&saKeyFile, "service-account-private-key-file", "", "PEM ECDSA key that signs the tokens of service account token Secrets, the API server's (<data-dir>/server/tls/service-account.key); without it they are not filled")
	f.StringVar(&rootCAFile, "root-ca-file", "", "CA put into service account token Secrets and kube-root-ca.crt ConfigMaps (default: the kubeconfig's)")
	f.IntVar(&pprofPort, "pprof-port", 0, "serve profiles on 127.0.0.1:PORT/debug/pprof (0: off)")
	f.BoolVarP(&verbose, "verbose", "v", false, "log debug messages")
	return cmd
}
