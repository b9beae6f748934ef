// Package certificatesubjectrestriction is upstream's
// CertificateSubjectRestriction admission plugin: a CertificateSigningRequest
// to the kubernetes.io/kube-apiserver-client signer may not ask for the
// system:masters group, whose members pass every authorization check, so
// that approving client certificates never hands out cluster-admin by mistake.
package certificatesubjectrestriction

import (
	"context"
	"fmt"
	"slices"

	certv1 "k8s.io/api/certificates/v1"

	"github.com/minik8s/minik8s/pkg/admission"
	"github.com/minik8s/minik8s/pkg/auth"
	"github.com/minik8s/minik8s/pkg/certificates"
)

// Name is the plugin's name.
const Name = "CertificateSubjectRestriction"

// Plugin is the CertificateSubjectRestriction plugin.
type Plugin struct{ admission.Handler }

var (
	_ admission.ValidationInterface = &Plugin{}
	_ admission.ResourceSelector    = &Plugin{}
)

// New returns the plugin.
func New() *Plugin { return &Plugin{Handler: admission.NewHandler(admission.Create)} }

// HandlesResource: CSRs themselves.
func (p *Plugin) HandlesResource(t admission.Target) bool {
	return t.Resource.Group == certv1.GroupName && t.Resource.Resource == "certificatesigningrequests" && t.Subresource == ""
}

// Validate refuses a client certificate request for system:masters.
func (p *Plugin) Validate(_ context.Context, a *admission.Attributes) error {
	if !a.Is(certv1.GroupName, "certificatesigningrequests", "") {
		return nil
	}
	csr, ok := a.Object.(*certv1.CertificateSigningRequest)
	if !ok {
		return a.Forbidden(fmt.Errorf("expected type CertificateSigningRequest, got: %T", a.Object))
	}
	if csr.Spec.SignerName != certv1.KubeAPIServerClientSignerName {
		return nil
	}
	cr, err := certificates.ParseCSR(csr.Spec.Request)
	if err != nil {
		return a.Forbidden(fmt.Errorf("failed to parse CSR: %v", err))
	}
	if slices.Contains(cr.Subject.Organization, auth.GroupMasters) {
		return a.Forbidden(fmt.Errorf("use of %s signer with system:masters group is not allowed", certv1.KubeAPIServerClientSignerName))
	}
	return nil
}
