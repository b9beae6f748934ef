package certificatesigning

import (
	"context"
	"testing"

	certv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/admission"
	"github.com/minik8s/minik8s/pkg/admission/admissiontest"
	"github.com/minik8s/minik8s/pkg/auth"
)

func csr(signer, cert string, conditions ...certv1.RequestConditionType) *certv1.CertificateSigningRequest {
	c := &certv1.CertificateSigningRequest{ObjectMeta: metav1.ObjectMeta{Name: "req"},
		Spec: certv1.CertificateSigningRequestSpec{SignerName: signer}}
	if cert != "" {
		c.Status.Certificate = []byte(cert)
	}
	for _, t := range conditions {
		c.Status.Conditions = append(c.Status.Conditions, certv1.CertificateSigningRequestCondition{Type: t, Status: corev1.ConditionTrue})
	}
	return c
}

func TestSigningNeedsTheSignVerbOnTheSigner(t *testing.T) {
	const denied = `certificatesigningrequests.certificates.k8s.io "req" is forbidden: user not permitted to sign requests with signerName "abc.com/xyz"`
	for _, tc := range []struct {
		name     string
		allowed  string
		failing  bool
		old, obj runtime.Object
		want     string
	}{
		{name: "an object that is not a request is refused", old: &corev1.Pod{}, obj: &corev1.Pod{},
			want: `certificatesigningrequests.certificates.k8s.io "req" is forbidden: expected type CertificateSigningRequest, got: *v1.Pod`},
		{name: "a status update that changes neither certificate nor conditions passes even when the authorizer fails", failing: true,
			old: csr("abc.com/xyz", "data"), obj: csr("abc.com/xyz", "data")},
		{name: "a new certificate is refused when the authorizer fails", allowed: "abc.com/xyz", failing: true,
			old: csr("abc.com/xyz", ""), obj: csr("abc.com/xyz", "data"), want: denied},
		{name: "a new condition is refused when the authorizer fails", allowed: "abc.com/xyz", failing: true,
			old: csr("abc.com/xyz", ""), obj: csr("abc.com/xyz", "", certv1.CertificateFailed), want: denied},
		{name: "a user allowed to sign for the signer's name may issue the certificate", allowed: "abc.com/xyz",
			old: csr("abc.com/xyz", ""), obj: csr("abc.com/xyz", "data")},
		{name: "a user allowed to sign for the signer's domain wildcard may issue the certificate", allowed: "abc.com/*",
			old: csr("abc.com/xyz", ""), obj: csr("abc.com/xyz", "data")},
		{name: "a user allowed to sign for another signer is refused", allowed: "notabc.com/xyz",
			old: csr("abc.com/xyz", ""), obj: csr("abc.com/xyz", "data"), want: denied},
		{name: "a user renaming the signer to one they may sign for is judged by the stored signer", allowed: "allowed.com/xyz",
			old: csr("abc.com/xyz", ""), obj: csr("allowed.com/xyz", "data"), want: denied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			authz := &admissiontest.Authorizer{Allowed: map[string]bool{"sign certificates.k8s.io/signers " + tc.allowed: true}, Failing: tc.failing}
			a := &admission.Attributes{Operation: admission.Update, Name: "req", User: &auth.User{Name: "alice"},
				Resource:    schema.GroupVersionResource{Group: "certificates.k8s.io", Version: "v1", Resource: "certificatesigningrequests"},
				Subresource: "status", Object: tc.obj, OldObject: tc.old}
			got := ""
			if err := New(authz).Validate(context.Background(), a); err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSigningHandlesOnlyUpdatesOfTheStatusSubresource(t *testing.T) {
	p := New(&admissiontest.Authorizer{})
	gr := schema.GroupResource{Group: "certificates.k8s.io", Resource: "certificatesigningrequests"}
	if !p.Handles(admission.Update) || p.Handles(admission.Create) {
		t.Error("the plugin should handle updates only")
	}
	if !p.HandlesResource(admission.Target{Resource: gr, Subresource: "status"}) || p.HandlesResource(admission.Target{Resource: gr, Subresource: "approval"}) {
		t.Error("the plugin should handle the status subresource only")
	}
}
