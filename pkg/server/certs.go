package server

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/minik8s/minik8s/pkg/cluster/pki"
)

// certs are the control plane's credentials.
type certs struct {
	ca      *pki.KeyPair
	serving *pki.KeyPair
	admin   *pki.KeyPair
	// loopback is the identity in-process controllers use.
	loopback *pki.KeyPair
	// kubeletClient is the API server's identity towards kubelets (logs, exec, stats).
	kubeletClient *pki.KeyPair
	// frontProxyCA signs frontProxyClient, the identity the API server proxies
	// requests to extension API servers with (upstream's front-proxy-ca and
	// --proxy-client-cert-file); extension servers trust it through the
	// extension-apiserver-authentication ConfigMap.
	frontProxyCA     *pki.KeyPair
	frontProxyClient *pki.KeyPair
}

// ensureCerts loads the certificates from the data dir, making what is missing.
func ensureCerts(cfg *Config, serviceIP net.IP) (*certs, error) {
	dir := cfg.tlsDir()
	ca, err := pki.LoadOrCreateCA(dir, "ca", "minik8s-ca")
	if err != nil {
		return nil, fmt.Errorf("cluster CA: %w", err)
	}
	host, _ := os.Hostname()
	dns := []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
		"kubernetes.default.svc." + cfg.ClusterDomain}
	if host != "" {
		dns = append(dns, strings.ToLower(host))
	}
	ips := []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1"), serviceIP}
	if ip := net.ParseIP(cfg.BindAddress); ip != nil && !ip.IsUnspecified() {
		ips = append(ips, ip)
	}
	for _, san := range cfg.TLSSANs {
		if ip := net.ParseIP(san); ip != nil {
			ips = append(ips, ip)
		} else if san != "" {
			dns = append(dns, san)
		}
	}
	c := &certs{ca: ca}
	if c.serving, err = pki.LoadOrIssue(ca, dir, "serving", pki.Leaf{CommonName: "kube-apiserver", DNSNames: dns, IPs: ips, Server: true}); err != nil {
		return nil, fmt.Errorf("serving certificate: %w", err)
	}
	if c.admin, err = pki.LoadOrIssue(ca, dir, "admin", pki.Leaf{CommonName: "system:admin", Organization: []string{"system:masters"}, Client: true}); err != nil {
		return nil, fmt.Errorf("admin certificate: %w", err)
	}
	if c.loopback, err = pki.LoadOrIssue(ca, dir, "controller", pki.Leaf{CommonName: "system:minik8s-controller", Organization: []string{"system:masters"}, Client: true}); err != nil {
		return nil, fmt.Errorf("controller certificate: %w", err)
	}
	if c.kubeletClient, err = pki.LoadOrIssue(ca, dir, "kubelet-client", pki.Leaf{CommonName: "kube-apiserver-kubelet-client", Organization: []string{"system:masters"}, Client: true}); err != nil {
		return nil, fmt.Errorf("kubelet client certificate: %w", err)
	}
	if c.frontProxyCA, err = pki.LoadOrCreateCA(dir, "front-proxy-ca", "front-proxy-ca"); err != nil {
		return nil, fmt.Errorf("front proxy CA: %w", err)
	}
	if c.frontProxyClient, err = pki.LoadOrIssue(c.frontProxyCA, dir, "front-proxy-client", pki.Leaf{CommonName: frontProxyClientName, Client: true}); err != nil {
		return nil, fmt.Errorf("front proxy client certificate: %w", err)
	}
	return c, nil
}

// frontProxyClientName is the front proxy client certificate's CN, the one name
// extension API servers are told to accept (requestheader-allowed-names).
const frontProxyClientName = "front-proxy-client"

func caFile(cfg *Config) string { return filepath.Join(cfg.tlsDir(), "ca.crt") }
