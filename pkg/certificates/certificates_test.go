package certificates

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"net"
	"strings"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"

	"github.com/minik8s/minik8s/pkg/auth"
	"github.com/minik8s/minik8s/pkg/auth/authorizer"
	"github.com/minik8s/minik8s/pkg/cluster/pki"
)

func request(t *testing.T, tmpl x509.CertificateRequest) (*x509.CertificateRequest, []byte) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.CreateCertificateRequest(rand.Reader, &tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	p := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
	cr, err := ParseCSR(p)
	if err != nil {
		t.Fatal(err)
	}
	return cr, p
}

var (
	node     = x509.CertificateRequest{Subject: pkix.Name{CommonName: "system:node:n1", Organization: []string{"system:nodes"}}}
	nodeSAN  = x509.CertificateRequest{Subject: node.Subject, DNSNames: []string{"n1"}, IPAddresses: []net.IP{net.ParseIP("10.0.0.1")}}
	user     = x509.CertificateRequest{Subject: pkix.Name{CommonName: "alice", Organization: []string{"dev"}}}
	client   = []certv1.KeyUsage{certv1.UsageDigitalSignature, certv1.UsageKeyEncipherment, certv1.UsageClientAuth}
	serving  = []certv1.KeyUsage{certv1.UsageDigitalSignature, certv1.UsageKeyEncipherment, certv1.UsageServerAuth}
	apiCli   = certv1.KubeAPIServerClientSignerName
	kubelet  = certv1.KubeAPIServerClientKubeletSignerName
	kServing = certv1.KubeletServingSignerName
)

func TestEachSignerAcceptsOnlyWhatUpstreamsDoes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		signer string
		req    x509.CertificateRequest
		usages []certv1.KeyUsage
		want   string
	}{
		{"a user's client certificate", apiCli, user, client, ""},
		{"client auth alone is enough", apiCli, user, []certv1.KeyUsage{certv1.UsageClientAuth}, ""},
		{"a client signer refuses server auth", apiCli, user, serving, "missing required usages: client auth"},
		{"a client signer refuses extra usages", apiCli, user, append(client, certv1.UsageCodeSigning), "invalid usage for signer: code signing"},
		{"a node's client certificate", kubelet, node, client, ""},
		{"the kubelet client signer wants a node subject", kubelet, user, client, "subject organization is not system:nodes"},
		{"the kubelet client signer refuses names", kubelet, nodeSAN, client, "subjectAltNames are not allowed"},
		{"a node's serving certificate", kServing, nodeSAN, serving, ""},
		{"a serving certificate needs a name", kServing, node, serving, "at least one DNS or IP subjectAltName is required"},
		{"a serving certificate needs server auth", kServing, nodeSAN, client, "missing required usages: server auth"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cr, _ := request(t, tc.req)
			err := ValidateForSigner(tc.signer, cr, tc.usages)
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func testCA(t *testing.T) *pki.KeyPair {
	t.Helper()
	ca, err := pki.LoadOrCreateCA(t.TempDir(), "ca", "test-ca")
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func TestSignIssuesTheRequestedSubjectForTheRequestedTime(t *testing.T) {
	ca := testCA(t)
	cr, _ := request(t, nodeSAN)
	now := time.Now()
	out, err := Sign(ca, cr, serving, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(out)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != "system:node:n1" || cert.DNSNames[0] != "n1" || !cert.IPAddresses[0].Equal(net.ParseIP("10.0.0.1")) {
		t.Fatalf("subject %v names %v %v", cert.Subject, cert.DNSNames, cert.IPAddresses)
	}
	if cert.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth || cert.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		t.Fatalf("usages %v %v", cert.ExtKeyUsage, cert.KeyUsage)
	}
	if d := cert.NotAfter.Sub(now); d < 59*time.Minute || d > time.Hour {
		t.Fatalf("lasts %s", d)
	}
	if err := cert.CheckSignatureFrom(ca.Cert); err != nil {
		t.Fatalf("not signed by the CA: %v", err)
	}
	long, _ := Sign(ca, cr, serving, now, 100*365*24*time.Hour)
	block, _ = pem.Decode(long)
	lc, _ := x509.ParseCertificate(block.Bytes)
	if lc.NotAfter.After(ca.Cert.NotAfter) {
		t.Fatal("a certificate outlives its CA")
	}
}

func TestDurationHonoursExpirationSecondsWithinLimits(t *testing.T) {
	secs := func(n int32) *certv1.CertificateSigningRequestSpec {
		return &certv1.CertificateSigningRequestSpec{ExpirationSeconds: &n}
	}
	for _, tc := range []struct {
		name string
		spec *certv1.CertificateSigningRequestSpec
		max  time.Duration
		want time.Duration
	}{
		{"no expirationSeconds gives the default year", &certv1.CertificateSigningRequestSpec{}, 0, DefaultDuration},
		{"an hour asked is an hour given", secs(3600), 0, time.Hour},
		{"less than ten minutes is raised to ten", secs(60), 0, 10 * time.Minute},
		{"more than the maximum is cut to it", secs(3600 * 24 * 400), 0, DefaultDuration},
		{"a configured maximum applies", secs(7200), time.Hour, time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Duration(tc.spec, tc.max); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestNodeClientRequestsAreRecognizedAsUpstreamsApproverDoes(t *testing.T) {
	_, nodePEM := request(t, node)
	_, userPEM := request(t, user)
	_, sanPEM := request(t, nodeSAN)
	for _, tc := range []struct {
		name     string
		csr      certv1.CertificateSigningRequestSpec
		isNode   bool
		selfNode bool
	}{
		{"a node renewing its own certificate", certv1.CertificateSigningRequestSpec{Request: nodePEM, SignerName: kubelet, Usages: client, Username: "system:node:n1"}, true, true},
		{"a bootstrapper asking for a node", certv1.CertificateSigningRequestSpec{Request: nodePEM, SignerName: kubelet, Usages: client, Username: "system:node-bootstrap"}, true, false},
		{"the wrong signer", certv1.CertificateSigningRequestSpec{Request: nodePEM, SignerName: apiCli, Usages: client}, false, false},
		{"a user subject", certv1.CertificateSigningRequestSpec{Request: userPEM, SignerName: kubelet, Usages: client}, false, false},
		{"alternative names", certv1.CertificateSigningRequestSpec{Request: sanPEM, SignerName: kubelet, Usages: client}, false, false},
		{"server auth", certv1.CertificateSigningRequestSpec{Request: nodePEM, SignerName: kubelet, Usages: serving}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			csr := &certv1.CertificateSigningRequest{Spec: tc.csr}
			cr, _ := ParseCSR(tc.csr.Request)
			if got := IsNodeClientCSR(csr, cr); got != tc.isNode {
				t.Fatalf("node client %v, want %v", got, tc.isNode)
			}
			if got := IsSelfNodeClientCSR(csr, cr); got != tc.selfNode {
				t.Fatalf("self node client %v, want %v", got, tc.selfNode)
			}
		})
	}
}

type signerAuthz map[string]bool // "verb name" allowed

func (s signerAuthz) Authorize(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	if a.Resource == "signers" && a.Group == "certificates.k8s.io" && a.Version == "*" && a.IsResource && s[a.Verb+" "+a.Name] {
		return authorizer.Allow, "", nil
	}
	return authorizer.NoOpinion, "", nil
}

func TestMayUseSignerAsksForTheSignerThenItsDomain(t *testing.T) {
	u := &auth.User{Name: "alice"}
	for _, tc := range []struct {
		name  string
		rules signerAuthz
		want  bool
	}{
		{"the verb on the signer's own name allows", signerAuthz{"approve kubernetes.io/kube-apiserver-client": true}, true},
		{"the verb on the signer's domain wildcard allows", signerAuthz{"approve kubernetes.io/*": true}, true},
		{"another verb on the signer does not allow", signerAuthz{"sign kubernetes.io/kube-apiserver-client": true}, false},
		{"the verb on another signer does not allow", signerAuthz{"approve example.com/*": true}, false},
		{"no rules do not allow", signerAuthz{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := MayUseSigner(context.Background(), tc.rules, u, "approve", apiCli); got != tc.want {
				t.Fatalf("MayUseSigner = %v, want %v", got, tc.want)
			}
		})
	}
}
