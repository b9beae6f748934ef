// Package certificates is what the certificates.k8s.io API does with
// CertificateSigningRequests besides storing them: the rules of upstream's three
// built-in signers and signing with the cluster CA (signer.go), recognizing a
// node's client certificate request (kubelet.go), and the checks of upstream's
// CertificateApproval, CertificateSigning and CertificateSubjectRestriction
// admission plugins (admission.go), kept here as plain functions so that the
// admission chain can wrap them.
package certificates
