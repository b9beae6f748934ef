// Package certificates is what the certificates.k8s.io API does with
// CertificateSigningRequests besides storing them: the rules of upstream's three
// built-in signers and signing with the cluster CA (signer.go), recognizing a
// node's client certificate request (kubelet.go), and whether a user may
// approve or sign for a signer (signers.go), which the CertificateApproval and
// CertificateSigning admission plugins ask.
package certificates
