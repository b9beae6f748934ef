package certificates

import (
	"context"
	"fmt"
	"slices"
	"strings"

	certv1 "k8s.io/api/certificates/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/auth"
	"github.com/minik8s/minik8s/pkg/auth/authorizer"
)

var csrResource = schema.GroupResource{Group: "certificates.k8s.io", Resource: "certificatesigningrequests"}

// mayUseSigner asks whether user may verb the signer: the resource "signers"
// of certificates.k8s.io, named either signerName or its domain with "/*"
// (example.com/*), as upstream's plugins ask.
func mayUseSigner(ctx context.Context, authz authorizer.Authorizer, user *auth.User, verb, signerName string) (bool, error) {
	names := []string{signerName}
	if domain, _, ok := strings.Cut(signerName, "/"); ok {
		names = append(names, domain+"/*")
	}
	for _, name := range names {
		d, _, err := authz.Authorize(ctx, authorizer.Attributes{User: user, Verb: verb, IsResource: true,
			Group: "certificates.k8s.io", Version: "*", Resource: "signers", Name: name})
		if err != nil {
			return false, err
		}
		if d == authorizer.Allow {
			return true, nil
		}
	}
	return false, nil
}

// CheckApproval is upstream's CertificateApproval plugin: an update through
// certificatesigningrequests/approval needs the approve verb on the CSR's signer.
func CheckApproval(ctx context.Context, authz authorizer.Authorizer, user *auth.User, csr *certv1.CertificateSigningRequest) error {
	ok, err := mayUseSigner(ctx, authz, user, "approve", csr.Spec.SignerName)
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	if !ok {
		return apierrors.NewForbidden(csrResource, csr.Name, fmt.Errorf("user not permitted to approve requests with signerName %q", csr.Spec.SignerName))
	}
	return nil
}

// CheckSigning is upstream's CertificateSigning plugin: an update through
// certificatesigningrequests/status that changes status.certificate needs the
// sign verb on the CSR's signer. old is the stored object.
func CheckSigning(ctx context.Context, authz authorizer.Authorizer, user *auth.User, csr, old *certv1.CertificateSigningRequest) error {
	if old != nil && string(old.Status.Certificate) == string(csr.Status.Certificate) {
		return nil
	}
	// The signer name is immutable: the new object's is the old one's.
	ok, err := mayUseSigner(ctx, authz, user, "sign", csr.Spec.SignerName)
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	if !ok {
		return apierrors.NewForbidden(csrResource, csr.Name, fmt.Errorf("user not permitted to sign requests with signerName %q", csr.Spec.SignerName))
	}
	return nil
}

// CheckSubjectRestriction is upstream's CertificateSubjectRestriction plugin: a
// request to the kube-apiserver-client signer may not ask for system:masters.
func CheckSubjectRestriction(csr *certv1.CertificateSigningRequest) error {
	if csr.Spec.SignerName != certv1.KubeAPIServerClientSignerName {
		return nil
	}
	cr, err := ParseCSR(csr.Spec.Request)
	if err != nil {
		return apierrors.NewForbidden(csrResource, csr.Name, fmt.Errorf("failed to parse CSR: %v", err))
	}
	if slices.Contains(cr.Subject.Organization, auth.GroupMasters) {
		return apierrors.NewForbidden(csrResource, csr.Name, fmt.Errorf("use of %s signer with system:masters group is not allowed", csr.Spec.SignerName))
	}
	return nil
}
