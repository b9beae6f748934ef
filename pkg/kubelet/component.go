package kubelet

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/client-go/rest"

	"github.com/minik8s/minik8s/pkg/cluster/pki"
	"github.com/minik8s/minik8s/pkg/kubelet/pods"
	"github.com/minik8s/minik8s/pkg/server"
	"github.com/minik8s/minik8s/pkg/version"
)

// ServerComponent runs the local node agent inside `minik8s server` unless
// --disable-agent is given. The agent gets node credentials of its own
// (system:node:<name> in system:nodes) and uses the API like a remote agent.
func ServerComponent(env *server.Env) (server.Component, error) {
	if env.Config.DisableAgent {
		return nil, nil
	}
	name := env.Config.Agent.NodeName
	if name == "" {
		h, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("node name: %w", err)
		}
		name = strings.ToLower(h)
	}
	dir := filepath.Join(env.Config.DataDir, "agent")
	kp, err := pki.LoadOrIssue(env.CA, filepath.Join(dir, "tls"), "node", pki.Leaf{
		CommonName: "system:node:" + name, Organization: []string{"system:nodes"}, Client: true})
	if err != nil {
		return nil, fmt.Errorf("node credentials: %w", err)
	}
	restCfg := &rest.Config{Host: env.ServerURL, UserAgent: "minik8s-agent/" + name, QPS: 50, Burst: 100,
		TLSClientConfig: rest.TLSClientConfig{CAData: env.CAPEM, CertData: kp.CertPEM, KeyData: kp.KeyPEM}}
	a, err := New(Config{
		NodeName: name, Dir: dir, REST: restCfg,
		ContainerRuntimeEndpoint: env.Config.Agent.ContainerRuntimeEndpoint,
		Bridge:                   env.Config.Agent.Bridge,
		KubeletPort:              env.Config.Agent.KubeletPort,
		Logs:                     env.Config.Agent.Logs,
		ClusterDomain:            env.Config.ClusterDomain,
		Labels:                   map[string]string{"node-role.kubernetes.io/control-plane": "true"},
		KubeletVersion:           version.Get().GitVersion,
		Logger:                   env.Logger,
		Extend:                   Extensions,
		Serve:                    ServeAPI,
	})
	if err != nil {
		return nil, err
	}
	return component{a}, nil
}

type component struct{ a *Agent }

func (c component) Name() string                  { return "agent" }
func (c component) Run(ctx context.Context) error { return c.a.Run(ctx) }

// Extensions and ServeAPI are set by the packages that add volumes, probes and the
// kubelet API; nil leaves the defaults.
var (
	Extensions func(*pods.Config) error
	ServeAPI   func(ctx context.Context, a *Agent) error
)
