package kubelet

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
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
	// Issued here at the first start (and when missing or near expiry);
	// renewed after that through CSRs, as a joined node's is.
	if _, err := pki.LoadOrIssue(env.CA, filepath.Join(dir, "tls"), "node", pki.Leaf{
		CommonName: "system:node:" + name, Organization: []string{"system:nodes"}, Client: true}); err != nil {
		return nil, fmt.Errorf("node credentials: %w", err)
	}
	dnsIP, err := env.Config.ClusterDNSIP()
	if err != nil {
		return nil, err
	}
	restCfg := NodeREST(env.ServerURL, name, env.CAPEM, filepath.Join(dir, "tls"))
	// The service proxy runs as kube-proxy does, with upstream's identity.
	pkp, err := pki.LoadOrIssue(env.CA, filepath.Join(dir, "tls"), "proxy", pki.Leaf{CommonName: ProxyUser, Client: true})
	if err != nil {
		return nil, fmt.Errorf("service proxy credentials: %w", err)
	}
	proxyCfg := &rest.Config{Host: env.ServerURL, UserAgent: "minik8s-proxy/" + name, QPS: 50, Burst: 100,
		TLSClientConfig: rest.TLSClientConfig{CAData: env.CAPEM, CertData: pkp.CertPEM, KeyData: pkp.KeyPEM}}
	a, err := New(Config{
		NodeName: name, Dir: dir, REST: restCfg,
		ContainerRuntimeEndpoint: env.Config.Agent.ContainerRuntimeEndpoint,
		Bridge:                   env.Config.Agent.Bridge,
		KubeletPort:              env.Config.Agent.KubeletPort,
		Logs:                     env.Config.Agent.Logs,
		ClusterDomain:            env.Config.ClusterDomain,
		ClusterDNS:               []string{dnsIP.String()},
		KubeletVersion:           version.Get().GitVersion,
		Logger:                   env.Logger,
		Extend:                   Extensions,
		Serve:                    ServeAPI,
		ProxyREST:                proxyCfg,
		DisableProxy:             env.Config.Agent.DisableProxy,
		DisableNetworkPolicy:     env.Config.Agent.DisableNetworkPolicy,
		RotateClientCertificate:  true,
	})
	if err != nil {
		return nil, err
	}
	admin, err := kubernetes.NewForConfig(env.Loopback)
	if err != nil {
		return nil, fmt.Errorf("control plane client: %w", err)
	}
	return component{a: a, admin: admin, node: name}, nil
}

type component struct {
	a     *Agent
	admin kubernetes.Interface
	node  string
}

func (c component) Name() string { return "agent" }

func (c component) Run(ctx context.Context) error {
	go labelControlPlane(ctx, c.admin, c.node)
	return c.a.Run(ctx)
}

// ProxyUser is the service proxy's user name, bound to system:node-proxier.
const ProxyUser = "system:kube-proxy"

// controlPlaneLabel marks the server's own node. NodeRestriction forbids a
// node to give itself a role, so the server sets it with its own credentials
// once the node has registered, as k3s does.
const controlPlaneLabel = "node-role.kubernetes.io/control-plane"

func labelControlPlane(ctx context.Context, client kubernetes.Interface, name string) {
	patch := []byte(`{"metadata":{"labels":{"` + controlPlaneLabel + `":"true"}}}`)
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		n, err := client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err == nil && n.Labels[controlPlaneLabel] == "true" {
			return
		}
		if err == nil {
			if _, err = client.CoreV1().Nodes().Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}); err == nil {
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Extensions and ServeAPI are set by the packages that add volumes, probes and the
// kubelet API; nil leaves the defaults.
var (
	Extensions func(*pods.Config) error
	ServeAPI   func(ctx context.Context, a *Agent) error
)
