package kubelet

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	kubeletserver "github.com/minik8s/minik8s/pkg/kubelet/server"
)

// The kubelet API is wired here rather than in agent.go so that the agent's run
// loop stays about pods; both the in-process agent and `minik8s agent` pass
// ServeAPI as their Config.Serve.
func init() { ServeAPI = serveAPI }

// serveAPI runs the node's HTTPS API (logs, exec, attach, port-forward, stats,
// metrics) on the kubelet port until ctx ends. Callers must present a
// certificate of the cluster CA, the one the agent trusts for the API server.
func serveAPI(ctx context.Context, a *Agent) error {
	caPEM := a.cfg.REST.TLSClientConfig.CAData
	if len(caPEM) == 0 && a.cfg.REST.TLSClientConfig.CAFile != "" {
		data, err := os.ReadFile(a.cfg.REST.TLSClientConfig.CAFile)
		if err != nil {
			return fmt.Errorf("kubelet API: read the cluster CA: %w", err)
		}
		caPEM = data
	}
	cfg := kubeletserver.Config{
		NodeName: a.cfg.NodeName,
		Address:  net.JoinHostPort("", strconv.Itoa(a.cfg.KubeletPort)),
		TLSDir:   filepath.Join(a.cfg.Dir, "tls"),
		ClientCA: caPEM,
		Client:   a.Client,
		Runtime:  a.Runtime,
		Logger:   a.log,
	}
	if a.Metrics != nil {
		cfg.Metrics, cfg.ProbeMetrics = a.Metrics.Kubelet(), a.Metrics.Probes()
	}
	srv, err := kubeletserver.New(cfg)
	if err != nil {
		return err
	}
	return srv.Run(ctx)
}
