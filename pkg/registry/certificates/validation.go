package certificates

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// legacyUnknownSigner is the signer of old v1beta1 requests, refused in v1.
const legacyUnknownSigner = "kubernetes.io/legacy-unknown"

var usages = []certificatesv1.KeyUsage{certificatesv1.UsageAny, certificatesv1.UsageCRLSign, certificatesv1.UsageCertSign,
	certificatesv1.UsageClientAuth, certificatesv1.UsageCodeSigning, certificatesv1.UsageContentCommitment,
	certificatesv1.UsageDataEncipherment, certificatesv1.UsageDecipherOnly, certificatesv1.UsageDigitalSignature,
	certificatesv1.UsageEmailProtection, certificatesv1.UsageEncipherOnly, certificatesv1.UsageIPsecEndSystem,
	certificatesv1.UsageIPsecTunnel, certificatesv1.UsageIPsecUser, certificatesv1.UsageKeyAgreement,
	certificatesv1.UsageKeyEncipherment, certificatesv1.UsageMicrosoftSGC, certificatesv1.UsageNetscapeSGC,
	certificatesv1.UsageOCSPSigning, certificatesv1.UsageSMIME, certificatesv1.UsageServerAuth,
	certificatesv1.UsageSigning, certificatesv1.UsageTimestamping}

// csrOptions relax the rules for data stored under older ones, and say what an
// update path may change.
type csrOptions struct {
	allowBothApprovedAndDenied, allowLegacySigner, allowDuplicateConditionTypes, allowEmptyConditionType bool
	allowArbitraryCertificate, allowDuplicateUsages, allowUnknownUsages                                  bool
	allowSettingCertificate, allowSettingApproval                                                        bool
}

func optionsFor(csr, old *certificatesv1.CertificateSigningRequest) csrOptions {
	var o csrOptions
	if old == nil {
		return o
	}
	approved, denied := len(conditionIndices(old, certificatesv1.CertificateApproved)) > 0, len(conditionIndices(old, certificatesv1.CertificateDenied)) > 0
	o.allowBothApprovedAndDenied = approved && denied
	o.allowLegacySigner = old.Spec.SignerName == legacyUnknownSigner
	seen := map[certificatesv1.RequestConditionType]bool{}
	for _, c := range old.Status.Conditions {
		if seen[c.Type] {
			o.allowDuplicateConditionTypes = true
		}
		seen[c.Type] = true
		if c.Type == "" {
			o.allowEmptyConditionType = true
		}
	}
	o.allowArbitraryCertificate = bytes.Equal(csr.Status.Certificate, old.Status.Certificate) || validateCertificate(old.Status.Certificate) != nil
	usageSeen := map[certificatesv1.KeyUsage]bool{}
	for _, u := range old.Spec.Usages {
		if usageSeen[u] {
			o.allowDuplicateUsages = true
		}
		usageSeen[u] = true
		if !knownUsage(u) {
			o.allowUnknownUsages = true
		}
	}
	return o
}

func knownUsage(u certificatesv1.KeyUsage) bool {
	for _, k := range usages {
		if k == u {
			return true
		}
	}
	return false
}

func validateCSR(csr *certificatesv1.CertificateSigningRequest, o csrOptions) field.ErrorList {
	spec := field.NewPath("spec")
	var errs field.ErrorList
	if err := checkRequest(csr.Spec.Request); err != nil {
		errs = append(errs, field.Invalid(spec.Child("request"), csr.Spec.Request, err.Error()))
	}
	if len(csr.Spec.Usages) == 0 {
		errs = append(errs, field.Required(spec.Child("usages"), ""))
	}
	seen := map[certificatesv1.KeyUsage]bool{}
	for i, u := range csr.Spec.Usages {
		if !o.allowUnknownUsages && !knownUsage(u) {
			errs = append(errs, field.NotSupported(spec.Child("usages").Index(i), u, usages))
		}
		if !o.allowDuplicateUsages && seen[u] {
			errs = append(errs, field.Duplicate(spec.Child("usages").Index(i), u))
		}
		seen[u] = true
	}
	if !o.allowLegacySigner && csr.Spec.SignerName == legacyUnknownSigner {
		errs = append(errs, field.Invalid(spec.Child("signerName"), csr.Spec.SignerName, "the legacy signerName is not allowed via this API version"))
	} else {
		errs = append(errs, validateSignerName(spec.Child("signerName"), csr.Spec.SignerName)...)
	}
	if e := csr.Spec.ExpirationSeconds; e != nil && *e < 600 {
		errs = append(errs, field.Invalid(spec.Child("expirationSeconds"), *e, "may not specify a duration less than 600 seconds (10 minutes)"))
	}
	errs = append(errs, validateConditions(csr, o)...)
	if !o.allowArbitraryCertificate {
		if err := validateCertificate(csr.Status.Certificate); err != nil {
			errs = append(errs, field.Invalid(field.NewPath("status", "certificate"), "<certificate data>", err.Error()))
		}
	}
	return errs
}

// checkRequest parses a PEM certificate request and checks its signature.
func checkRequest(data []byte) error {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return errors.New("PEM block type must be CERTIFICATE REQUEST")
	}
	req, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return err
	}
	return req.CheckSignature()
}

// validateCertificate accepts nothing or a chain of CERTIFICATE PEM blocks.
func validateCertificate(data []byte) error {
	if len(data) == 0 {
		return nil
	}
	blocks := 0
	for {
		block, rest := pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return fmt.Errorf("only CERTIFICATE PEM blocks are allowed, found %q", block.Type)
		}
		if len(block.Headers) != 0 {
			return fmt.Errorf("no PEM block headers are permitted")
		}
		blocks++
		certs, err := x509.ParseCertificates(block.Bytes)
		if err != nil {
			return err
		}
		if len(certs) == 0 {
			return fmt.Errorf("found CERTIFICATE PEM block containing 0 certificates")
		}
		data = rest
	}
	if blocks == 0 {
		return fmt.Errorf("must contain at least one CERTIFICATE PEM block")
	}
	return nil
}

// validateSignerName: a domain with at least two labels, a slash, and a path
// of DNS subdomains, like "example.com/signer".
func validateSignerName(fld *field.Path, name string) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(fld, "")}
	}
	parts := strings.Split(name, "/")
	if len(parts) != 2 {
		return field.ErrorList{field.Invalid(fld, name, "must be a fully qualified domain and path of the form 'example.com/signer-name'")}
	}
	var errs field.ErrorList
	if len(parts[0]) > validation.DNS1123SubdomainMaxLength {
		errs = append(errs, field.TooLong(fld, "", validation.DNS1123SubdomainMaxLength))
	}
	domain := strings.Split(parts[0], ".")
	for _, l := range domain {
		if msgs := validation.IsDNS1123Label(l); len(msgs) > 0 {
			for _, m := range msgs {
				errs = append(errs, field.Invalid(fld, parts[0], fmt.Sprintf("validating label %q: %s", l, m)))
			}
			break
		}
	}
	if len(domain) < 2 {
		errs = append(errs, field.Invalid(fld, parts[0], "should be a domain with at least two segments separated by dots"))
	}
	for _, l := range strings.Split(parts[1], ".") {
		if msgs := validation.IsDNS1123Subdomain(l); len(msgs) > 0 {
			for _, m := range msgs {
				errs = append(errs, field.Invalid(fld, parts[1], fmt.Sprintf("validating label %q: %s", l, m)))
			}
			break
		}
	}
	maxLength := validation.DNS1123SubdomainMaxLength + validation.DNS1123SubdomainMaxLength + validation.DNS1123LabelMaxLength + 2
	if len(name) > maxLength {
		errs = append(errs, field.TooLong(fld, "", maxLength))
	}
	return errs
}

// Approved, Denied and Failed may only be True.
var trueOnly = map[certificatesv1.RequestConditionType]bool{
	certificatesv1.CertificateApproved: true, certificatesv1.CertificateDenied: true, certificatesv1.CertificateFailed: true,
}

func validateConditions(csr *certificatesv1.CertificateSigningRequest, o csrOptions) field.ErrorList {
	fld := field.NewPath("status", "conditions")
	var errs field.ErrorList
	seen := map[certificatesv1.RequestConditionType]bool{}
	approved, denied := false, false
	for i, c := range csr.Status.Conditions {
		if !o.allowEmptyConditionType && c.Type == "" {
			errs = append(errs, field.Required(fld.Index(i).Child("type"), ""))
		}
		allowed := []corev1.ConditionStatus{corev1.ConditionFalse, corev1.ConditionTrue, corev1.ConditionUnknown}
		if trueOnly[c.Type] {
			allowed = []corev1.ConditionStatus{corev1.ConditionTrue}
		}
		switch {
		case c.Status == "":
			errs = append(errs, field.Required(fld.Index(i).Child("status"), ""))
		case !hasStatus(allowed, c.Status):
			errs = append(errs, field.NotSupported(fld.Index(i).Child("status"), c.Status, allowed))
		}
		if !o.allowBothApprovedAndDenied {
			switch c.Type {
			case certificatesv1.CertificateApproved:
				approved = true
				if denied {
					errs = append(errs, field.Invalid(fld, c.Type, "Approved and Denied conditions are mutually exclusive"))
				}
			case certificatesv1.CertificateDenied:
				denied = true
				if approved {
					errs = append(errs, field.Invalid(fld, c.Type, "Approved and Denied conditions are mutually exclusive"))
				}
			}
		}
		if !o.allowDuplicateConditionTypes && seen[c.Type] {
			errs = append(errs, field.Duplicate(fld.Index(i).Child("type"), c.Type))
		}
		seen[c.Type] = true
	}
	return errs
}

func hasStatus(list []corev1.ConditionStatus, s corev1.ConditionStatus) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// validateCSRUpdate: conditions are never removed; approval conditions change
// only through approval; the certificate only through status, and only once.
func validateCSRUpdate(csr, old *certificatesv1.CertificateSigningRequest, o csrOptions) field.ErrorList {
	errs := validateCSR(csr, o)
	fld := field.NewPath("status", "conditions")
	for _, t := range []certificatesv1.RequestConditionType{certificatesv1.CertificateApproved, certificatesv1.CertificateDenied, certificatesv1.CertificateFailed} {
		if len(conditionIndices(csr, t)) < len(conditionIndices(old, t)) {
			errs = append(errs, field.Forbidden(fld, fmt.Sprintf("updates may not remove a condition of type %q", t)))
		}
	}
	if !o.allowSettingApproval {
		for _, t := range []certificatesv1.RequestConditionType{certificatesv1.CertificateApproved, certificatesv1.CertificateDenied} {
			before, after := conditionsOf(old, t), conditionsOf(csr, t)
			switch {
			case len(after) < len(before):
			case len(after) > len(before):
				errs = append(errs, field.Forbidden(fld, fmt.Sprintf("updates may not add a condition of type %q", t)))
			case !equality.Semantic.DeepEqual(before, after):
				errs = append(errs, field.Forbidden(fld, fmt.Sprintf("updates may not modify a condition of type %q", t)))
			}
		}
	}
	if !bytes.Equal(csr.Status.Certificate, old.Status.Certificate) {
		switch {
		case !o.allowSettingCertificate:
			errs = append(errs, field.Forbidden(field.NewPath("status", "certificate"), "updates may not set certificate content"))
		case len(old.Status.Certificate) > 0:
			errs = append(errs, field.Forbidden(field.NewPath("status", "certificate"), "updates may not modify existing certificate content"))
		}
	}
	return errs
}

func conditionsOf(csr *certificatesv1.CertificateSigningRequest, t certificatesv1.RequestConditionType) []certificatesv1.CertificateSigningRequestCondition {
	var out []certificatesv1.CertificateSigningRequestCondition
	for _, c := range csr.Status.Conditions {
		if c.Type == t {
			out = append(out, c)
		}
	}
	return out
}
