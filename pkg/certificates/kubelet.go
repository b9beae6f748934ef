package certificates

import (
	"crypto/x509"
	"slices"
	"strings"

	certv1 "k8s.io/api/certificates/v1"
)

// IsNodeClientCSR reports whether a request is a kubelet's client certificate
// request as upstream's auto-approver recognizes it: the kubelet client signer,
// subject system:node:<name> in exactly system:nodes, no alternative names, and
// client auth with at most digital signature and key encipherment besides.
func IsNodeClientCSR(csr *certv1.CertificateSigningRequest, cr *x509.CertificateRequest) bool {
	if csr.Spec.SignerName != certv1.KubeAPIServerClientKubeletSignerName {
		return false
	}
	if !slices.Equal(cr.Subject.Organization, []string{"system:nodes"}) || !strings.HasPrefix(cr.Subject.CommonName, "system:node:") ||
		len(cr.Subject.CommonName) == len("system:node:") {
		return false
	}
	if len(cr.DNSNames) > 0 || len(cr.IPAddresses) > 0 || len(cr.EmailAddresses) > 0 || len(cr.URIs) > 0 {
		return false
	}
	return checkUsages(csr.Spec.Usages, certv1.UsageClientAuth, certv1.UsageDigitalSignature, certv1.UsageKeyEncipherment) == nil
}

// IsSelfNodeClientCSR is a node client request made by that node itself
// (renewing with its current certificate).
func IsSelfNodeClientCSR(csr *certv1.CertificateSigningRequest, cr *x509.CertificateRequest) bool {
	return IsNodeClientCSR(csr, cr) && csr.Spec.Username == cr.Subject.CommonName
}
