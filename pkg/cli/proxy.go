package cli

import (
	"context"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/minik8s/minik8s/pkg/proxy"
)

// newProxyCommand runs the service proxy alone, as kube-proxy runs beside a
// kubelet: for a node whose agent runs with --disable-proxy, and for measuring
// the proxy in a process of its own (bench/network).
func newProxyCommand() *cobra.Command {
	var kubeconfig, nodeName, table string
	var verbose bool
	var profilePort int
	cmd := &cobra.Command{
		Use:   "proxy",
		Short: "Run only the service proxy (nftables) for one node, against the cluster of a kubeconfig",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if nodeName == "" {
				h, err := os.Hostname()
				if err != nil {
					return err
				}
				nodeName = strings.ToLower(h)
			}
			rc, err := restConfig(kubeconfig)
			if err != nil {
				return err
			}
			rc.UserAgent = "minik8s-proxy"
			rc.ContentType = "application/vnd.kubernetes.protobuf"
			rc.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
			client, err := kubernetes.NewForConfig(rc)
			if err != nil {
				return err
			}
			px, err := proxy.New(proxy.Config{Client: client, NodeName: nodeName, Table: table, Log: newLogger(verbose)})
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			go releaseAfterStart(ctx)
			serveProfiles(ctx, profilePort)
			return px.Run(ctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig of the cluster (default: $KUBECONFIG, else the local server's)")
	f.StringVar(&nodeName, "node-name", "", "name of the Node whose pod CIDR the rules use (the host name if empty)")
	f.StringVar(&table, "table", proxy.DefaultTable, "name of the nftables table (ip and ip6) the rules live in")
	f.BoolVarP(&verbose, "verbose", "v", false, "log debug messages")
	addProfileFlag(f, &profilePort)
	return cmd
}
