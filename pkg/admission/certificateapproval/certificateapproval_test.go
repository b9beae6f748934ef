package certificateapproval

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

func csr(signer string) *certv1.CertificateSigningRequest {
	return &certv1.CertificateSigningRequest{ObjectMeta: metav1.ObjectMeta{Name: "req"},
		Spec: certv1.CertificateSigningRequestSpec{SignerName: signer}}
}

func TestApprovalNeedsTheApproveVerbOnTheSigner(t *testing.T) {
	const denied = `certificatesigningrequests.certificates.k8s.io "req" is forbidden: user not permitted to approve requests with signerName "abc.com/xyz"`
	for _, tc := range []struct {
		name        string
		allowed     string
		failing     bool
		subresource string
		old, obj    runtime.Object
		want        string
	}{
		{name: "an object that is not a request is refused", subresource: "approval", old: &corev1.Pod{}, obj: &corev1.Pod{},
			want: `certificatesigningrequests.certificates.k8s.io "req" is forbidden: expected type CertificateSigningRequest, got: *v1.Pod`},
		{name: "a user allowed to approve for the signer's name may approve", allowed: "abc.com/xyz", subresource: "approval",
			old: csr("abc.com/xyz"), obj: csr("abc.com/xyz")},
		{name: "a user allowed to approve for the signer's domain wildcard may approve", allowed: "abc.com/*", subresource: "approval",
			old: csr("abc.com/xyz"), obj: csr("abc.com/xyz")},
		{name: "a user allowed to approve for another signer is refused", allowed: "notabc.com/xyz", subresource: "approval",
			old: csr("abc.com/xyz"), obj: csr("abc.com/xyz"), want: denied},
		{name: "a user renaming the signer to one they may approve for is judged by the stored signer", allowed: "allowed.com/xyz",
			subresource: "approval", old: csr("abc.com/xyz"), obj: csr("allowed.com/xyz"), want: denied},
		{name: "an authorizer that fails to decide refuses", allowed: "abc.com/xyz", failing: true, subresource: "approval",
			old: csr("abc.com/xyz"), obj: csr("abc.com/xyz"), want: denied},
		{name: "an update of the request itself is not this plugin's business", subresource: "",
			old: csr("abc.com/xyz"), obj: csr("abc.com/xyz")},
		{name: "an update of the status is not this plugin's business", subresource: "status",
			old: csr("abc.com/xyz"), obj: csr("abc.com/xyz")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			authz := &admissiontest.Authorizer{Allowed: map[string]bool{"approve certificates.k8s.io/signers " + tc.allowed: true}, Failing: tc.failing}
			a := &admission.Attributes{Operation: admission.Update, Name: "req", User: &auth.User{Name: "alice"},
				Resource:    schema.GroupVersionResource{Group: "certificates.k8s.io", Version: "v1", Resource: "certificatesigningrequests"},
				Subresource: tc.subresource, Object: tc.obj, OldObject: tc.old}
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

func TestApprovalHandlesOnlyUpdatesOfTheApprovalSubresource(t *testing.T) {
	p := New(&admissiontest.Authorizer{})
	gr := schema.GroupResource{Group: "certificates.k8s.io", Resource: "certificatesigningrequests"}
	if !p.Handles(admission.Update) || p.Handles(admission.Create) || p.Handles(admission.Delete) {
		t.Error("the plugin should handle updates only")
	}
	if !p.HandlesResource(admission.Target{Resource: gr, Subresource: "approval"}) || p.HandlesResource(admission.Target{Resource: gr}) {
		t.Error("the plugin should handle the approval subresource only")
	}
}
