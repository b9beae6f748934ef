package kubelet

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/rest"

	"github.com/minik8s/minik8s/pkg/atomicfile"
	"github.com/minik8s/minik8s/pkg/cluster/kubeconfig"
	"github.com/minik8s/minik8s/pkg/cluster/pki"
	"github.com/minik8s/minik8s/pkg/kubelet/clientcert"
	"github.com/minik8s/minik8s/pkg/server"
)

// Join gets node credentials from a server with the join token, keeping them in
// dir/tls so a restarted agent does not need the server's help again.
func Join(ctx context.Context, serverURL, token, nodeName, dir string) (*rest.Config, error) {
	tlsDir := filepath.Join(dir, "tls")
	caFile := filepath.Join(tlsDir, "ca.crt")
	if kp, err := pki.Load(tlsDir, "node"); err == nil {
		_, perr := pki.Load(tlsDir, "proxy") // credentials from before the proxy: join again
		// A key that does not fit the certificate (a crash between writing
		// the two when rotating) is useless: join again.
		_, pairErr := tls.X509KeyPair(kp.CertPEM, kp.KeyPEM)
		if caPEM, err := os.ReadFile(caFile); err == nil && perr == nil && pairErr == nil && strings.HasSuffix(kp.Cert.Subject.CommonName, ":"+nodeName) {
			return NodeREST(serverURL, nodeName, caPEM, tlsDir), nil
		}
	}
	caHash, _ := server.ParseJoinToken(token)
	if caHash == "" {
		return nil, fmt.Errorf("the token must be the full join token (K10…::server:…) from the server's %s", "server/node-token")
	}
	caPEM, err := fetchCA(ctx, serverURL, caHash)
	if err != nil {
		return nil, err
	}
	creds, err := fetchCredentials(ctx, serverURL, caPEM, token, nodeName)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(tlsDir, 0o700); err != nil {
		return nil, err
	}
	if err := atomicfile.Write(caFile, caPEM, 0o644); err != nil {
		return nil, err
	}
	kp := &pki.KeyPair{CertPEM: []byte(creds.CertPEM), KeyPEM: []byte(creds.KeyPEM)}
	if err := kp.Save(tlsDir, "node"); err != nil {
		return nil, err
	}
	if creds.ProxyCertPEM != "" {
		pkp := &pki.KeyPair{CertPEM: []byte(creds.ProxyCertPEM), KeyPEM: []byte(creds.ProxyKeyPEM)}
		if err := pkp.Save(tlsDir, "proxy"); err != nil {
			return nil, err
		}
	}
	cfg := NodeREST(serverURL, nodeName, caPEM, tlsDir)
	// A kubeconfig of the node's identity, for debugging with kubectl.
	_ = kubeconfig.Write(filepath.Join(dir, "node.kubeconfig"), kubeconfig.Spec{Server: serverURL, CAPEM: caPEM,
		Name: "minik8s-node", CertPEM: kp.CertPEM, KeyPEM: kp.KeyPEM})
	return cfg, nil
}

// ProxyREST is the service proxy's API configuration from the credentials
// Join kept in dir; nil when the server handed out none.
func ProxyREST(serverURL, nodeName, dir string) *rest.Config {
	tlsDir := filepath.Join(dir, "tls")
	kp, err := pki.Load(tlsDir, "proxy")
	if err != nil {
		return nil
	}
	caPEM, err := os.ReadFile(filepath.Join(tlsDir, "ca.crt"))
	if err != nil {
		return nil
	}
	cfg := restConfig(serverURL, nodeName, caPEM, kp.CertPEM, kp.KeyPEM)
	cfg.UserAgent = "minik8s-proxy/" + nodeName
	return cfg
}

// NodeREST reaches the API server as the node, with the client certificate
// and key in tlsDir read from their files: client-go reloads them when they
// change, so a rotated certificate serves new connections without a restart.
func NodeREST(serverURL, nodeName string, caPEM []byte, tlsDir string) *rest.Config {
	return &rest.Config{Host: serverURL, UserAgent: "minik8s-agent/" + nodeName, QPS: 50, Burst: 100,
		TLSClientConfig: rest.TLSClientConfig{CAData: caPEM,
			CertFile: filepath.Join(tlsDir, clientcert.Name+".crt"), KeyFile: filepath.Join(tlsDir, clientcert.Name+".key")}}
}

func restConfig(serverURL, nodeName string, caPEM, certPEM, keyPEM []byte) *rest.Config {
	return &rest.Config{Host: serverURL, UserAgent: "minik8s-agent/" + nodeName, QPS: 50, Burst: 100,
		TLSClientConfig: rest.TLSClientConfig{CAData: caPEM, CertData: certPEM, KeyData: keyPEM}}
}

// fetchCA reads the server's CA without trusting the connection, and accepts it
// only if it hashes to what the token says.
func fetchCA(ctx context.Context, serverURL, wantHash string) ([]byte, error) {
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(serverURL, "/")+server.CACertsPath, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch the cluster CA from %s: %w", serverURL, err)
	}
	defer resp.Body.Close()
	pem, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch the cluster CA from %s: status %d %v", serverURL, resp.StatusCode, err)
	}
	sum := sha256.Sum256(pem)
	if hex.EncodeToString(sum[:]) != wantHash {
		return nil, fmt.Errorf("the server's CA does not match the join token: refusing to join %s", serverURL)
	}
	return pem, nil
}

func fetchCredentials(ctx context.Context, serverURL string, caPEM []byte, token, nodeName string) (*server.NodeCredentials, error) {
	pool, err := certPool(caPEM)
	if err != nil {
		return nil, err
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	body, _ := json.Marshal(map[string]string{"nodeName": nodeName})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(serverURL, "/")+server.NodeCredentialsPath, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get node credentials from %s: %w", serverURL, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("get node credentials from %s: %s: %s", serverURL, resp.Status, strings.TrimSpace(string(data)))
	}
	var creds server.NodeCredentials
	if err := json.Unmarshal(data, &creds); err != nil {
		return nil, fmt.Errorf("decode node credentials: %w", err)
	}
	return &creds, nil
}
