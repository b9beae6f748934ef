package certificates

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"

	certv1 "k8s.io/api/certificates/v1"

	"github.com/minik8s/minik8s/pkg/cluster/pki"
)

// DefaultDuration is how long issued certificates last unless a CSR asks for
// less (upstream's --cluster-signing-duration).
const DefaultDuration = 365 * 24 * time.Hour

// minDuration is the shortest expirationSeconds the API accepts.
const minDuration = 10 * time.Minute

// backdate covers clocks a little behind the signer's.
const backdate = 5 * time.Minute

// Signers are the signer names minik8s signs for.
var Signers = []string{certv1.KubeAPIServerClientSignerName, certv1.KubeAPIServerClientKubeletSignerName, certv1.KubeletServingSignerName}

// IsOurs reports whether signerName is one of the built-in signers.
func IsOurs(signerName string) bool { return slices.Contains(Signers, signerName) }

// ParseCSR reads the PEM certificate request of a CSR and checks its signature.
func ParseCSR(pemBytes []byte) (*x509.CertificateRequest, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return nil, errors.New("PEM block type must be CERTIFICATE REQUEST")
	}
	cr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse certificate request: %w", err)
	}
	if err := cr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("certificate request signature: %w", err)
	}
	return cr, nil
}

// ValidateForSigner applies a built-in signer's rules to a request, as
// upstream's signers do before signing: what usages it may ask for, and, for
// the kubelet signers, the subject a node must have.
func ValidateForSigner(signerName string, cr *x509.CertificateRequest, usages []certv1.KeyUsage) error {
	switch signerName {
	case certv1.KubeAPIServerClientSignerName:
		return checkUsages(usages, certv1.UsageClientAuth, certv1.UsageDigitalSignature, certv1.UsageKeyEncipherment)
	case certv1.KubeAPIServerClientKubeletSignerName:
		if err := checkNodeSubject(cr); err != nil {
			return err
		}
		if len(cr.DNSNames) > 0 || len(cr.IPAddresses) > 0 || len(cr.EmailAddresses) > 0 || len(cr.URIs) > 0 {
			return errors.New("DNS, IP, email and URI subjectAltNames are not allowed")
		}
		return checkUsages(usages, certv1.UsageClientAuth, certv1.UsageDigitalSignature, certv1.UsageKeyEncipherment)
	case certv1.KubeletServingSignerName:
		if err := checkNodeSubject(cr); err != nil {
			return err
		}
		if len(cr.EmailAddresses) > 0 || len(cr.URIs) > 0 {
			return errors.New("email and URI subjectAltNames are not allowed")
		}
		if len(cr.DNSNames) == 0 && len(cr.IPAddresses) == 0 {
			return errors.New("at least one DNS or IP subjectAltName is required")
		}
		return checkUsages(usages, certv1.UsageServerAuth, certv1.UsageDigitalSignature, certv1.UsageKeyEncipherment)
	}
	return fmt.Errorf("signer %q is not handled here", signerName)
}

func checkNodeSubject(cr *x509.CertificateRequest) error {
	if !slices.Equal(cr.Subject.Organization, []string{"system:nodes"}) {
		return errors.New(`subject organization is not system:nodes`)
	}
	if len(cr.Subject.CommonName) <= len("system:node:") || cr.Subject.CommonName[:len("system:node:")] != "system:node:" {
		return errors.New(`subject common name does not begin with system:node:`)
	}
	return nil
}

// checkUsages requires the usage required and allows only the listed others.
func checkUsages(usages []certv1.KeyUsage, required certv1.KeyUsage, optional ...certv1.KeyUsage) error {
	if !slices.Contains(usages, required) {
		return fmt.Errorf("missing required usages: %s", required)
	}
	for _, u := range usages {
		if u != required && !slices.Contains(optional, u) {
			return fmt.Errorf("invalid usage for signer: %s", u)
		}
	}
	return nil
}

// Duration is how long a CSR's certificate lasts: what it asks for in
// expirationSeconds (at least ten minutes), at most max.
func Duration(spec *certv1.CertificateSigningRequestSpec, max time.Duration) time.Duration {
	if max <= 0 {
		max = DefaultDuration
	}
	if spec.ExpirationSeconds == nil {
		return max
	}
	d := time.Duration(*spec.ExpirationSeconds) * time.Second
	if d < minDuration {
		d = minDuration
	}
	if d > max {
		d = max
	}
	return d
}

// Sign issues the certificate of a CSR with ca: the request's subject and
// names, the usages of the spec, for duration, never beyond the CA's own expiry.
// It returns the certificate in PEM.
func Sign(ca *pki.KeyPair, cr *x509.CertificateRequest, usages []certv1.KeyUsage, now time.Time, duration time.Duration) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("serial number: %w", err)
	}
	notAfter := now.Add(duration)
	if notAfter.After(ca.Cert.NotAfter) {
		notAfter = ca.Cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:   serial,
		Subject:        cr.Subject,
		DNSNames:       cr.DNSNames,
		IPAddresses:    cr.IPAddresses,
		EmailAddresses: cr.EmailAddresses,
		URIs:           cr.URIs,
		NotBefore:      now.Add(-backdate),
		NotAfter:       notAfter,
		// No SubjectKeyId is given: Go derives it from the key, and the
		// authority key ID from the CA.
		BasicConstraintsValid: true,
	}
	for _, u := range usages {
		switch u {
		case certv1.UsageDigitalSignature:
			tmpl.KeyUsage |= x509.KeyUsageDigitalSignature
		case certv1.UsageKeyEncipherment:
			tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
		case certv1.UsageClientAuth:
			tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageClientAuth)
		case certv1.UsageServerAuth:
			tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, cr.PublicKey, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("sign certificate for %q: %w", cr.Subject.CommonName, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// HasCondition reports whether a CSR carries a true condition of type t.
func HasCondition(csr *certv1.CertificateSigningRequest, t certv1.RequestConditionType) bool {
	for _, c := range csr.Status.Conditions {
		if c.Type == t && (c.Status == "" || c.Status == "True") {
			return true
		}
	}
	return false
}
