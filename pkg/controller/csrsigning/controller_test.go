package csrsigning

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"testing"

	certv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/minik8s/minik8s/pkg/certificates"
	"github.com/minik8s/minik8s/pkg/cluster/pki"
)

func csrFor(t *testing.T, name, cn, signer string, conds ...certv1.RequestConditionType) *certv1.CertificateSigningRequest {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}}, key)
	if err != nil {
		t.Fatal(err)
	}
	c := &certv1.CertificateSigningRequest{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: certv1.CertificateSigningRequestSpec{
		Request: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), SignerName: signer,
		Usages: []certv1.KeyUsage{certv1.UsageClientAuth}}}
	for _, ct := range conds {
		c.Status.Conditions = append(c.Status.Conditions, certv1.CertificateSigningRequestCondition{Type: ct, Status: "True"})
	}
	return c
}

func TestSyncSignsApprovedRequestsAndFailsInvalidOnes(t *testing.T) {
	ca, err := pki.LoadOrCreateCA(t.TempDir(), "ca", "test-ca")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		csr       *certv1.CertificateSigningRequest
		issued    bool
		failed    bool
		untouched bool
	}{
		{"an approved client request is signed", csrFor(t, "a", "alice", certv1.KubeAPIServerClientSignerName, certv1.CertificateApproved), true, false, false},
		{"a pending request waits", csrFor(t, "b", "alice", certv1.KubeAPIServerClientSignerName), false, false, true},
		{"a denied request is left", csrFor(t, "c", "alice", certv1.KubeAPIServerClientSignerName, certv1.CertificateDenied), false, false, true},
		{"another signer's request is left", csrFor(t, "d", "alice", "example.com/signer", certv1.CertificateApproved), false, false, true},
		{"a kubelet request for a non-node fails", csrFor(t, "e", "alice", certv1.KubeAPIServerClientKubeletSignerName, certv1.CertificateApproved), false, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := fake.NewSimpleClientset(tc.csr)
			f := informers.NewSharedInformerFactory(client, 0)
			inf := f.Certificates().V1().CertificateSigningRequests()
			c, err := New(Config{Client: client, CSRs: inf, CA: ca, Workers: 1})
			if err != nil {
				t.Fatal(err)
			}
			inf.Informer().GetIndexer().Add(tc.csr)
			if err := c.Sync(context.Background(), tc.csr.Name); err != nil {
				t.Fatal(err)
			}
			if tc.untouched {
				if n := len(client.Actions()); n != 0 {
					t.Fatalf("%d actions on a request that is not ours to sign", n)
				}
				return
			}
			got, _ := client.CertificatesV1().CertificateSigningRequests().Get(context.Background(), tc.csr.Name, metav1.GetOptions{})
			if issued := len(got.Status.Certificate) > 0; issued != tc.issued {
				t.Fatalf("issued %v, want %v", issued, tc.issued)
			}
			if failed := certificates.HasCondition(got, certv1.CertificateFailed); failed != tc.failed {
				t.Fatalf("failed %v, want %v", failed, tc.failed)
			}
			if tc.failed && got.Status.Conditions[len(got.Status.Conditions)-1].Reason != "SignerValidationFailure" {
				t.Fatalf("conditions %+v", got.Status.Conditions)
			}
		})
	}
}
