package csrapproving

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"testing"

	authzv1 "k8s.io/api/authorization/v1"
	certv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/minik8s/minik8s/pkg/certificates"
)

func nodeCSR(t *testing.T, name, cn, requester string) *certv1.CertificateSigningRequest {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn, Organization: []string{"system:nodes"}}}, key)
	return &certv1.CertificateSigningRequest{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: certv1.CertificateSigningRequestSpec{
		Request: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), SignerName: certv1.KubeAPIServerClientKubeletSignerName,
		Usages: []certv1.KeyUsage{certv1.UsageDigitalSignature, certv1.UsageClientAuth}, Username: requester}}
}

func TestNodeClientRequestsAreApprovedWhenTheRequesterMayCreateThem(t *testing.T) {
	for _, tc := range []struct {
		name    string
		csr     *certv1.CertificateSigningRequest
		allowed map[string]bool // subresource -> SAR answer
		wantSub string
		approve bool
	}{
		{"a node renewing its own certificate with selfnodeclient", nodeCSR(t, "a", "system:node:n1", "system:node:n1"), map[string]bool{"selfnodeclient": true}, "selfnodeclient", true},
		{"a bootstrapper with nodeclient", nodeCSR(t, "b", "system:node:n2", "system:node-bootstrap"), map[string]bool{"nodeclient": true}, "nodeclient", true},
		{"a bootstrapper without the right waits for a person", nodeCSR(t, "c", "system:node:n3", "system:node-bootstrap"), map[string]bool{"selfnodeclient": true}, "nodeclient", false},
		{"a request that is not a node's is not reviewed", nodeCSR(t, "d", "alice", "alice"), nil, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Subresource(tc.csr); got != tc.wantSub {
				t.Fatalf("subresource %q, want %q", got, tc.wantSub)
			}
			client := fake.NewSimpleClientset(tc.csr)
			client.PrependReactor("create", "subjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
				sar := a.(k8stesting.CreateAction).GetObject().(*authzv1.SubjectAccessReview)
				sar.Status.Allowed = tc.allowed[sar.Spec.ResourceAttributes.Subresource] && sar.Spec.User == tc.csr.Spec.Username
				return true, sar, nil
			})
			f := informers.NewSharedInformerFactory(client, 0)
			inf := f.Certificates().V1().CertificateSigningRequests()
			c, err := New(Config{Client: client, CSRs: inf, Workers: 1})
			if err != nil {
				t.Fatal(err)
			}
			inf.Informer().GetIndexer().Add(tc.csr)
			if err := c.Sync(context.Background(), tc.csr.Name); err != nil {
				t.Fatal(err)
			}
			got, _ := client.CertificatesV1().CertificateSigningRequests().Get(context.Background(), tc.csr.Name, metav1.GetOptions{})
			if approved := certificates.HasCondition(got, certv1.CertificateApproved); approved != tc.approve {
				t.Fatalf("approved %v, want %v", approved, tc.approve)
			}
			if tc.approve && got.Status.Conditions[0].Reason != "AutoApproved" {
				t.Fatalf("reason %q", got.Status.Conditions[0].Reason)
			}
		})
	}
}
