// Package certificateapproval is upstream's CertificateApproval admission
// plugin: approving or denying a CertificateSigningRequest (an update of its
// approval subresource) needs, besides the right to update that subresource,
// the approve verb on the request's signer (the resource "signers" of
// certificates.k8s.io, named by the signer or by its domain with "/*").
package certificateapproval

import (
	"context"
	"fmt"

	certv1 "k8s.io/api/certificates/v1"

	"github.com/minik8s/minik8s/pkg/admission"
	"github.com/minik8s/minik8s/pkg/auth/authorizer"
	"github.com/minik8s/minik8s/pkg/certificates"
)

// Name is the plugin's name.
const Name = "CertificateApproval"

// Plugin is the CertificateApproval plugin.
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

// HandlesResource: the approval subresource of CSRs.
func (p *Plugin) HandlesResource(t admission.Target) bool {
	return t.Resource.Group == certv1.GroupName && t.Resource.Resource == "certificatesigningrequests" && t.Subresource == "approval"
}

// Validate refuses an approval by a user who may not approve for the signer.
func (p *Plugin) Validate(ctx context.Context, a *admission.Attributes) error {
	if !a.Is(certv1.GroupName, "certificatesigningrequests", "approval") || a.User == nil {
		return nil
	}
	// The stored request names the signer: an update may not change it, and
	// asking with the old one keeps a changed name from choosing the check.
	csr, ok := a.OldObject.(*certv1.CertificateSigningRequest)
	if !ok {
		return a.Forbidden(fmt.Errorf("expected type CertificateSigningRequest, got: %T", a.OldObject))
	}
	if !certificates.MayUseSigner(ctx, p.authz, a.User, "approve", csr.Spec.SignerName) {
		return a.Forbidden(fmt.Errorf("user not permitted to approve requests with signerName %q", csr.Spec.SignerName))
	}
	return nil
}
