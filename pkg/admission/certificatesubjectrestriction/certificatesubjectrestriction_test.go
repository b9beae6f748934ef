package certificatesubjectrestriction

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
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/admission"
)

func request(t *testing.T, groups ...string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "eve", Organization: groups}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func TestClientRequestsForSystemMastersAreRefused(t *testing.T) {
	const denied = `certificatesigningrequests.certificates.k8s.io "req" is forbidden: use of kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed`
	csr := func(signer string, req []byte) *certv1.CertificateSigningRequest {
		return &certv1.CertificateSigningRequest{ObjectMeta: metav1.ObjectMeta{Name: "req"},
			Spec: certv1.CertificateSigningRequestSpec{SignerName: signer, Request: req}}
	}
	for _, tc := range []struct {
		name        string
		subresource string
		obj         runtime.Object
		want        string
	}{
		{name: "an object that is not a request is refused", obj: &corev1.Pod{},
			want: `certificatesigningrequests.certificates.k8s.io "req" is forbidden: expected type CertificateSigningRequest, got: *v1.Pod`},
		{name: "system:masters through the client signer is refused", obj: csr(certv1.KubeAPIServerClientSignerName, request(t, "system:masters")), want: denied},
		{name: "system:masters among other groups through the client signer is refused",
			obj: csr(certv1.KubeAPIServerClientSignerName, request(t, "team", "system:masters")), want: denied},
		{name: "other groups through the client signer pass", obj: csr(certv1.KubeAPIServerClientSignerName, request(t, "team"))},
		{name: "no group through the client signer passes", obj: csr(certv1.KubeAPIServerClientSignerName, request(t))},
		{name: "system:masters through another signer is not this plugin's business", obj: csr("example.com/signer", request(t, "system:masters"))},
		{name: "an unreadable request to the client signer is refused", obj: csr(certv1.KubeAPIServerClientSignerName, []byte("junk")),
			want: `certificatesigningrequests.certificates.k8s.io "req" is forbidden: failed to parse CSR: PEM block type must be CERTIFICATE REQUEST`},
		{name: "a subresource is not this plugin's business", subresource: "status", obj: csr(certv1.KubeAPIServerClientSignerName, request(t, "system:masters"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &admission.Attributes{Operation: admission.Create, Name: "req",
				Resource:    schema.GroupVersionResource{Group: "certificates.k8s.io", Version: "v1", Resource: "certificatesigningrequests"},
				Subresource: tc.subresource, Object: tc.obj}
			got := ""
			if err := New().Validate(context.Background(), a); err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}
