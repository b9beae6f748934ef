package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// newCSR makes a key and a PEM certificate request for cn in orgs.
func newCSR(t *testing.T, cn string, orgs ...string) (keyPEM, csrPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn, Organization: orgs}}, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func csrManifest(name string, csrPEM []byte, signer string, extra string) string {
	return `apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata:
  name: ` + name + `
spec:
  request: ` + base64.StdEncoding.EncodeToString(csrPEM) + `
  signerName: ` + signer + `
  usages: [client auth]
` + extra
}

// A user's CSR approved with kubectl gives a certificate that authenticates as
// the CSR's subject; a denied one gets none; a bad one fails.
func TestCertificateApproveIssuesACertificateThatAuthenticates(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	name := "alice-" + s.Namespace[len(s.Namespace)-5:]
	keyPEM, csrPEM := newCSR(t, name, "dev-team")
	s.Apply(csrManifest(name, csrPEM, "kubernetes.io/kube-apiserver-client", "  expirationSeconds: 3600\n"))
	t.Cleanup(func() { s.Do("delete", "csr", name) })
	framework.Contains(t, s.Run("get", "csr", name), "Pending")
	framework.Contains(t, s.Run("certificate", "approve", name), "certificatesigningrequest.certificates.k8s.io/"+name+" approved")

	var certB64 string
	framework.Eventually(t, 20*time.Second, func() error {
		certB64 = s.Run("get", "csr", name, "-o", "jsonpath={.status.certificate}")
		if certB64 == "" {
			return os.ErrNotExist
		}
		return nil
	})
	framework.Contains(t, s.Run("get", "csr", name), "Approved,Issued")
	certPEM, err := base64.StdEncoding.DecodeString(certB64)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(certPEM)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if life := cert.NotAfter.Sub(time.Now()); life > time.Hour+time.Minute || life < 50*time.Minute {
		t.Fatalf("certificate lasts %s, want the hour expirationSeconds asked for", life)
	}

	// A kubeconfig of the new user's own, as an administrator would hand out.
	dir := t.TempDir()
	certFile, keyFile, kc := filepath.Join(dir, "u.crt"), filepath.Join(dir, "u.key"), filepath.Join(dir, "kubeconfig")
	os.WriteFile(certFile, certPEM, 0o600)
	os.WriteFile(keyFile, keyPEM, 0o600)
	server := s.Run("config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}")
	ca := filepath.Join(cluster.DataDir, "server", "tls", "ca.crt")
	s.Run("--kubeconfig", kc, "config", "set-cluster", "c", "--server", server, "--certificate-authority", ca)
	s.Run("--kubeconfig", kc, "config", "set-credentials", name, "--client-certificate", certFile, "--client-key", keyFile)
	s.Run("--kubeconfig", kc, "config", "set-context", "c", "--cluster", "c", "--user", name, "--namespace", s.Namespace)
	s.Run("--kubeconfig", kc, "config", "use-context", "c")
	who := s.Run("--kubeconfig", kc, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username} {.status.userInfo.groups}")
	framework.Contains(t, who, name, "dev-team")
	// The new user has no rights until granted some.
	r := s.Do("--kubeconfig", kc, "get", "pods")
	if r.Code == 0 || !strings.Contains(r.Stderr, `User "`+name+`" cannot list resource "pods"`) {
		t.Fatalf("unbound user listing pods: %d %s", r.Code, r.Stderr)
	}
	s.Run("create", "rolebinding", name, "--clusterrole", "view", "--user", name)
	framework.Eventually(t, 10*time.Second, func() error {
		if r := s.Do("--kubeconfig", kc, "get", "pods"); r.Code != 0 {
			return os.ErrPermission
		}
		return nil
	})

	// Denied: no certificate.
	denied := name + "-denied"
	_, csr2 := newCSR(t, "mallory")
	s.Apply(csrManifest(denied, csr2, "kubernetes.io/kube-apiserver-client", ""))
	t.Cleanup(func() { s.Do("delete", "csr", denied) })
	framework.Contains(t, s.Run("certificate", "deny", denied), "denied")
	time.Sleep(time.Second)
	framework.Contains(t, s.Run("get", "csr", denied), "Denied")
	if got := s.Run("get", "csr", denied, "-o", "jsonpath={.status.certificate}"); got != "" {
		t.Fatal("a denied CSR got a certificate")
	}

	// The kubelet client signer refuses a subject that is not a node.
	bad := name + "-bad"
	_, csr3 := newCSR(t, "not-a-node")
	s.Apply(csrManifest(bad, csr3, "kubernetes.io/kube-apiserver-client-kubelet", ""))
	t.Cleanup(func() { s.Do("delete", "csr", bad) })
	s.Run("certificate", "approve", bad)
	framework.Eventually(t, 20*time.Second, func() error {
		if !strings.Contains(s.Run("get", "csr", bad), "Failed") {
			return os.ErrNotExist
		}
		return nil
	})
	framework.Contains(t, s.Run("get", "csr", bad, "-o", "jsonpath={.status.conditions[?(@.type==\"Failed\")].reason}"), "SignerValidationFailure")
}

// The certificate admission plugins: a user who may update the approval of
// CSRs still needs the approve verb on the signer, a user who may update their
// status needs the sign verb to hand out a certificate, and nobody gets a
// system:masters client certificate through the client signer.
func TestCertificatePluginsAskForTheSignerVerbs(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	suffix := s.Namespace[len(s.Namespace)-5:]
	role := "csr-approver-" + suffix
	s.Run("create", "serviceaccount", "approver")
	s.Apply(`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: ` + role + `
rules:
- apiGroups: [certificates.k8s.io]
  resources: [certificatesigningrequests]
  verbs: [get, list, watch]
- apiGroups: [certificates.k8s.io]
  resources: [certificatesigningrequests/approval, certificatesigningrequests/status]
  verbs: [get, update, patch]
`)
	t.Cleanup(func() { s.Do("delete", "clusterrole", role); s.Do("delete", "clusterrolebinding", role) })
	s.Run("create", "clusterrolebinding", role, "--clusterrole", role, "--serviceaccount", s.Namespace+":approver")

	// A kubeconfig with only the service account's token: not an administrator.
	token := strings.TrimSpace(s.Run("create", "token", "approver"))
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	server := s.Run("config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}")
	s.Run("--kubeconfig", kc, "config", "set-cluster", "c", "--server", server,
		"--certificate-authority", filepath.Join(cluster.DataDir, "server", "tls", "ca.crt"))
	s.Run("--kubeconfig", kc, "config", "set-credentials", "approver", "--token", token)
	s.Run("--kubeconfig", kc, "config", "set-context", "c", "--cluster", "c", "--user", "approver", "--namespace", s.Namespace)
	s.Run("--kubeconfig", kc, "config", "use-context", "c")

	name := "bob-" + suffix
	_, csrPEM := newCSR(t, name, "dev-team")
	s.Apply(csrManifest(name, csrPEM, "kubernetes.io/kube-apiserver-client", ""))
	t.Cleanup(func() { s.Do("delete", "csr", name) })
	r := s.Do("--kubeconfig", kc, "certificate", "approve", name)
	want := `certificatesigningrequests.certificates.k8s.io "` + name + `" is forbidden: user not permitted to approve requests with signerName "kubernetes.io/kube-apiserver-client"`
	if r.Code == 0 || !strings.Contains(r.Stderr, want) {
		t.Fatalf("approving without the approve verb on the signer: code %d, stderr %q, want %q", r.Code, r.Stderr, want)
	}
	framework.Contains(t, s.Run("get", "csr", name), "Pending")

	// Granted approve on the signer's domain, the same user approves.
	s.Apply(`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: ` + role + `
rules:
- apiGroups: [certificates.k8s.io]
  resources: [certificatesigningrequests]
  verbs: [get, list, watch]
- apiGroups: [certificates.k8s.io]
  resources: [certificatesigningrequests/approval, certificatesigningrequests/status]
  verbs: [get, update, patch]
- apiGroups: [certificates.k8s.io]
  resources: [signers]
  resourceNames: [kubernetes.io/*]
  verbs: [approve]
`)
	framework.Eventually(t, 10*time.Second, func() error {
		if r := s.Do("--kubeconfig", kc, "certificate", "approve", name); r.Code != 0 {
			return errors.New(r.Stderr)
		}
		return nil
	})
	var certB64 string
	framework.Eventually(t, 20*time.Second, func() error {
		if certB64 = s.Run("get", "csr", name, "-o", "jsonpath={.status.certificate}"); certB64 == "" {
			return os.ErrNotExist
		}
		return nil
	})

	// Handing out a certificate for a signer needs the sign verb on it.
	other := "carol-" + suffix
	_, csr2 := newCSR(t, other)
	s.Apply(csrManifest(other, csr2, "example.com/signer", ""))
	t.Cleanup(func() { s.Do("delete", "csr", other) })
	s.Run("certificate", "approve", other)
	r = s.Do("--kubeconfig", kc, "patch", "csr", other, "--subresource=status", "--type=merge",
		"-p", `{"status":{"certificate":"`+certB64+`"}}`)
	want = `certificatesigningrequests.certificates.k8s.io "` + other + `" is forbidden: user not permitted to sign requests with signerName "example.com/signer"`
	if r.Code == 0 || !strings.Contains(r.Stderr, want) {
		t.Fatalf("signing without the sign verb on the signer: code %d, stderr %q, want %q", r.Code, r.Stderr, want)
	}

	// No system:masters through the client signer, not even for an administrator.
	masters := "eve-" + suffix
	_, csr3 := newCSR(t, masters, "system:masters")
	r = s.DoIn(csrManifest(masters, csr3, "kubernetes.io/kube-apiserver-client", ""), "create", "-f", "-")
	want = `certificatesigningrequests.certificates.k8s.io "` + masters + `" is forbidden: use of kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed`
	if r.Code == 0 || !strings.Contains(r.Stderr, want) {
		t.Fatalf("a system:masters client CSR: code %d, stderr %q, want %q", r.Code, r.Stderr, want)
	}
}
