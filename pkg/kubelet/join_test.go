package kubelet

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/minik8s/minik8s/pkg/cluster/pki"
)

func TestJoinReusesKeptCredentialsOnlyWhenTheKeyFitsTheCertificate(t *testing.T) {
	ca, err := pki.LoadOrCreateCA(t.TempDir(), "ca", "test-ca")
	if err != nil {
		t.Fatal(err)
	}
	issue := func(cn string) *pki.KeyPair {
		kp, err := pki.Issue(ca, pki.Leaf{CommonName: cn, Organization: []string{"system:nodes"}, Client: true})
		if err != nil {
			t.Fatal(err)
		}
		return kp
	}
	for _, tc := range []struct {
		name  string
		match bool
	}{
		{"a key that fits its certificate is reused, read from the files", true},
		{"a key left from a rotation cut short is not reused: the node joins again", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tlsDir := filepath.Join(dir, "tls")
			node := issue("system:node:n1")
			if !tc.match {
				node.KeyPEM = issue("system:node:n1").KeyPEM
			}
			if err := node.Save(tlsDir, "node"); err != nil {
				t.Fatal(err)
			}
			if err := issue(ProxyUser).Save(tlsDir, "proxy"); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(tlsDir, "ca.crt"), ca.CertPEM, 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, err := Join(context.Background(), "https://127.0.0.1:1", "not-a-join-token", "n1", dir)
			if !tc.match {
				if err == nil {
					t.Fatal("mismatched credentials were reused")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.CertFile != filepath.Join(tlsDir, "node.crt") || cfg.KeyFile != filepath.Join(tlsDir, "node.key") || len(cfg.CertData) > 0 {
				t.Fatalf("the node's client should read its certificate files, got %q %q", cfg.CertFile, cfg.KeyFile)
			}
		})
	}
}
