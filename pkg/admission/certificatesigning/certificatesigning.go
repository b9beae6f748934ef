// Package certificatesigning is upstream's CertificateSigning admission
// plugin: changing the certificate or the conditions of a
// CertificateSigningRequest through its status subresource (issuing it, or
// marking it Failed) needs the sign verb on the request's signer (the resource
// "signers" of certificates.k8s.io, named by the signer or by its domain with
// "/*"). Status updates that change neither pass.
package certificatesigning

import (
	"bytes"
	"context"
	"fmt"

	certv1 "k8s.io/api/certificates/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/minik8s/minik8s/pkg/admission"
	"github.com/minik8s/minik8s/pkg/auth/authorizer"
	"github.com/minik8s/minik8s/pkg/certificates"
)

// Name is the plugin's name.
const Name = "CertificateSigning"

// Plugin is the CertificateSigning plugin.
type Plugin struct {
	admission.Handler
	authz authorizer.Authorizer
}

var (
	_ admission.ValidationInterface = &Plugin{}
	_ admission.ResourceSelector    = &Plugin{}
)

// New returns the plugin asking authz.
func New(authz authorizer.Authorizer) *Plugin {
	return &Plugin{Handler: admission.NewHandler(admission.Update), authz: authz}
}

// HandlesResource: the status subresource of CSRs.
func (p *Plugin) HandlesResource(t admission.Target) bool {
	return t.Resource.Group == certv1.GroupName && t.Resource.Resource == "certificatesigningrequests" && t.Subresource == "status"
}

// Validate refuses a new certificate or conditions from a user who may not
// sign for the signer.
func (p *Plugin) Validate(ctx context.Context, a *admission.Attributes) error {
	if !a.Is(certv1.GroupName, "certificatesigningrequests", "status") || a.User == nil {
		return nil
	}
	old, ok := a.OldObject.(*certv1.CertificateSigningRequest)
	if !ok {
		return a.Forbidden(fmt.Errorf("expected type CertificateSigningRequest, got: %T", a.OldObject))
	}
	csr, ok := a.Object.(*certv1.CertificateSigningRequest)
	if !ok {
		return a.Forbidden(fmt.Errorf("expected type CertificateSigningRequest, got: %T", a.Object))
	}
	if bytes.Equal(old.Status.Certificate, csr.Status.Certificate) && equality.Semantic.DeepEqual(old.Status.Conditions, csr.Status.Conditions) {
		return nil
	}
	if !certificates.MayUseSigner(ctx, p.authz, a.User, "sign", old.Spec.SignerName) {
		return a.Forbidden(fmt.Errorf("user not permitted to sign requests with signerName %q", old.Spec.SignerName))
	}
	return nil
}
