package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/minik8s/minik8s/pkg/cluster/pki"
	"github.com/minik8s/minik8s/pkg/kubelet/clientcert"
	"github.com/minik8s/minik8s/test/e2e/framework"
)

// A node whose client certificate nears its end asks for a new one with a
// CSR, which the server's csrapproving controller approves (the node renews
// its own) and csrsigning issues; the node writes it over its files and
// authenticates with it. The agent cannot run here, so the test runs the
// agent's certificate manager against the server, as the node would.
func TestNodeClientCertificateIsRotatedThroughACSR(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	node := "rotating-" + s.Namespace[len(s.Namespace)-5:]
	serverTLS := filepath.Join(cluster.DataDir, "server", "tls")
	ca, err := pki.Load(serverTLS, "ca")
	if err != nil {
		t.Fatal(err)
	}
	// A first certificate of twenty seconds: renewed after fourteen at most.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(now.UnixNano()),
		Subject:   pkix.Name{CommonName: "system:node:" + node, Organization: []string{"system:nodes"}},
		NotBefore: now.Add(-time.Second), NotAfter: now.Add(19 * time.Second),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	first := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	dir := t.TempDir()
	if err := clientcert.Write(dir, first, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})); err != nil {
		t.Fatal(err)
	}

	admin, err := cluster.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	nodeCfg := &rest.Config{Host: admin.Host, TLSClientConfig: rest.TLSClientConfig{CAData: ca.CertPEM,
		CertFile: filepath.Join(dir, "node.crt"), KeyFile: filepath.Join(dir, "node.key")}}
	client, err := kubernetes.NewForConfig(nodeCfg)
	if err != nil {
		t.Fatal(err)
	}
	m, err := clientcert.New(clientcert.Config{NodeName: node, Dir: dir, Client: client, Jitter: func() float64 { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		list, _ := cluster.Client(t).CertificatesV1().CertificateSigningRequests().List(context.Background(), metav1.ListOptions{})
		for _, c := range list.Items {
			if c.Spec.Username == "system:node:"+node {
				s.Do("delete", "csr", c.Name)
			}
		}
	})

	framework.Eventually(t, 60*time.Second, func() error {
		data, err := os.ReadFile(filepath.Join(dir, "node.crt"))
		if err != nil || bytes.Equal(data, first) {
			return errors.New("the certificate was not rotated yet")
		}
		return nil
	})
	kp, err := pki.Load(dir, "node")
	if err != nil {
		t.Fatal(err)
	}
	if kp.Cert.Subject.CommonName != "system:node:"+node || time.Until(kp.Cert.NotAfter) < 300*24*time.Hour {
		t.Fatalf("the new certificate is for %q until %s, want the node for the signer's year", kp.Cert.Subject.CommonName, kp.Cert.NotAfter)
	}
	for _, f := range []string{"node.crt", "node.key"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v, want mode 0600", f, st.Mode().Perm(), err)
		}
	}
	list, err := cluster.Client(t).CertificatesV1().CertificateSigningRequests().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var csr *certv1.CertificateSigningRequest
	for i := range list.Items {
		if list.Items[i].Spec.Username == "system:node:"+node {
			csr = &list.Items[i]
		}
	}
	if csr == nil {
		t.Fatal("no CSR from the node")
	}
	framework.Contains(t, s.Run("get", "csr", csr.Name), "kubernetes.io/kube-apiserver-client-kubelet", "system:node:"+node, "Approved,Issued")
	framework.Contains(t, s.Run("get", "csr", csr.Name, "-o", `jsonpath={.status.conditions[?(@.type=="Approved")].reason}`), "AutoApproved")

	// kubectl with the rotated files is the node.
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	s.Run("--kubeconfig", kc, "config", "set-cluster", "c", "--server", admin.Host, "--certificate-authority", filepath.Join(serverTLS, "ca.crt"))
	s.Run("--kubeconfig", kc, "config", "set-credentials", "node", "--client-certificate", filepath.Join(dir, "node.crt"), "--client-key", filepath.Join(dir, "node.key"))
	s.Run("--kubeconfig", kc, "config", "set-context", "c", "--cluster", "c", "--user", "node", "--namespace", s.Namespace)
	s.Run("--kubeconfig", kc, "config", "use-context", "c")
	framework.Contains(t, s.Run("--kubeconfig", kc, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username} {.status.userInfo.groups}"),
		"system:node:"+node, "system:nodes")
}
