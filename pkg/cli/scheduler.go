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

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/minik8s/minik8s/pkg/scheduler"
)

// newSchedulerCommand runs the scheduler alone against any cluster: a second
// scheduler with profiles of its own, or minik8s's scheduler in front of another
// control plane.
func newSchedulerCommand() *cobra.Command {
	var kubeconfig, configFile string
	var leaderElect, verbose bool
	var metricsPort int
	cmd := &cobra.Command{
		Use:   "scheduler",
		Short: "Run only the scheduler, against the cluster of a kubeconfig",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			kcfg, err := scheduler.LoadConfiguration(configFile)
			if err != nil {
				return err
			}
			rc, err := restConfig(kubeconfig)
			if err != nil {
				return err
			}
			rc.QPS, rc.Burst = 5000, 10000
			reg := prometheus.NewRegistry()
			reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
			host, _ := os.Hostname()
			cfg := scheduler.Config{Rest: rc, LeaderElect: leaderElect, Identity: fmt.Sprintf("%s_%d", host, os.Getpid()),
				Metrics: reg, Logger: newLogger(verbose).With("component", "scheduler")}
			if err := cfg.ApplyConfiguration(kcfg); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			s, err := scheduler.New(ctx, cfg)
			if err != nil {
				return err
			}
			if metricsPort > 0 {
				mux := http.NewServeMux()
				mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
				mux.HandleFunc("/debug/pprof/", pprof.Index)
				mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
				srv := &http.Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(metricsPort)), Handler: mux, ReadHeaderTimeout: 5 * time.Second}
				go func() {
					if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
						fmt.Fprintln(os.Stderr, "metrics:", err)
					}
				}()
				defer srv.Close()
			}
			go releaseAfterStart(ctx)
			return s.Run(ctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig of the cluster (default: $KUBECONFIG, else the local server's)")
	f.StringVar(&configFile, "config", "", "KubeSchedulerConfiguration file (kubescheduler.config.k8s.io/v1); empty uses the defaults")
	f.BoolVar(&leaderElect, "leader-elect", true, "hold the kube-system/kube-scheduler Lease while scheduling, so two schedulers never place the same pod")
	f.IntVar(&metricsPort, "metrics-port", 0, "serve Prometheus metrics on 127.0.0.1:PORT/metrics and profiles on /debug/pprof (0: off)")
	f.BoolVarP(&verbose, "verbose", "v", false, "log debug messages")
	return cmd
}
