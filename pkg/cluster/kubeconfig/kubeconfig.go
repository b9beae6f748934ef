// Package kubeconfig writes kubeconfig files that the real kubectl reads as they are.
package kubeconfig

import (
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/minik8s/minik8s/pkg/atomicfile"
)

// Spec is what a kubeconfig holds: one cluster, one user, one context.
type Spec struct {
	Server  string
	CAPEM   []byte
	Name    string // cluster, user and context name
	CertPEM []byte
	KeyPEM  []byte
	Token   string
}

// Build returns the kubeconfig for spec.
func Build(s Spec) *clientcmdapi.Config {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[s.Name] = &clientcmdapi.Cluster{Server: s.Server, CertificateAuthorityData: s.CAPEM}
	cfg.AuthInfos[s.Name] = &clientcmdapi.AuthInfo{ClientCertificateData: s.CertPEM, ClientKeyData: s.KeyPEM, Token: s.Token}
	cfg.Contexts[s.Name] = &clientcmdapi.Context{Cluster: s.Name, AuthInfo: s.Name}
	cfg.CurrentContext = s.Name
	return cfg
}

// Write writes spec to path (mode 0600), creating its directory.
func Write(path string, s Spec) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create directory of %s: %w", path, err)
	}
	data, err := clientcmd.Write(*Build(s))
	if err != nil {
		return fmt.Errorf("encode kubeconfig: %w", err)
	}
	return atomicfile.Write(path, data, 0o600)
}
