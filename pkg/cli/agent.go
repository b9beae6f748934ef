package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/minik8s/minik8s/pkg/kubelet"
	"github.com/minik8s/minik8s/pkg/kubelet/logs"
	"github.com/minik8s/minik8s/pkg/memory"
	"github.com/minik8s/minik8s/pkg/version"
)

func newAgentCommand() *cobra.Command {
	var (
		serverURL, token, dataDir, nodeName, criEndpoint, bridge string
		kubeletPort                                              int
		verbose, disableProxy, disableNetworkPolicy              bool
		logPolicy                                                logs.Policy
		clusterDNS                                               []string
		clusterDomain                                            string
	)
	cmd := &cobra.Command{
		Use:   "agent --server URL --token TOKEN",
		Short: "Run a node that joins a cluster",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if serverURL == "" || token == "" {
				return fmt.Errorf("--server and --token are required")
			}
			if nodeName == "" {
				h, err := os.Hostname()
				if err != nil {
					return err
				}
				nodeName = strings.ToLower(h)
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			log := newLogger(verbose)
			dir := filepath.Join(dataDir, "agent")
			rest, err := kubelet.Join(ctx, serverURL, token, nodeName, dir)
			if err != nil {
				return err
			}
			a, err := kubelet.New(kubelet.Config{
				NodeName: nodeName, Dir: dir, REST: rest, ContainerRuntimeEndpoint: criEndpoint,
				Bridge: bridge, KubeletPort: kubeletPort, Logs: logPolicy, KubeletVersion: version.Get().GitVersion,
				ClusterDNS: clusterDNS, ClusterDomain: clusterDomain,
				Logger: log, Extend: kubelet.Extensions, Serve: kubelet.ServeAPI,
				ProxyREST: kubelet.ProxyREST(serverURL, nodeName, dir), DisableProxy: disableProxy,
				DisableNetworkPolicy:    disableNetworkPolicy,
				RotateClientCertificate: true,
			})
			if err != nil {
				return err
			}
			go releaseAfterStart(ctx)
			return a.Run(ctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&serverURL, "server", "", "URL of the server to join, e.g. https://10.0.0.1:6443")
	f.StringVar(&token, "token", "", "join token (the server's <data-dir>/server/node-token)")
	f.StringVar(&dataDir, "data-dir", DefaultDataDir, "folder to hold state")
	f.StringVar(&nodeName, "node-name", "", "name of this node (the host name if empty)")
	f.StringVar(&criEndpoint, "container-runtime-endpoint", "", "CRI socket of an existing runtime; empty runs containerd")
	f.StringVar(&bridge, "cni-bridge", "cni0", "Linux bridge of the pod network")
	f.IntVar(&kubeletPort, "kubelet-port", 10250, "port of the node agent's API")
	f.StringSliceVar(&clusterDNS, "cluster-dns", []string{"10.96.0.10"}, "name servers of ClusterFirst pods: the server's kube-dns ClusterIP (empty: pods use the node's resolvers)")
	f.StringVar(&clusterDomain, "cluster-domain", "cluster.local", "DNS domain of the cluster")
	addLogFlags(f, &logPolicy)
	f.BoolVar(&disableProxy, "disable-proxy", false, "do not run the service proxy (another one programs Services on this node)")
	f.BoolVar(&disableNetworkPolicy, "disable-network-policy", false, "do not enforce NetworkPolicies on this node (another enforcer does, or none)")
	f.BoolVarP(&verbose, "verbose", "v", false, "log debug messages")
	return cmd
}

// releaseAfterStart gives start-up memory back once the agent has settled.
func releaseAfterStart(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-afterSeconds(5):
		_, _ = memory.ReleaseStartupPages()
	}
}
