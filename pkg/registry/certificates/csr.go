// Package certificates describes certificates.k8s.io/v1
// CertificateSigningRequests: the requester is recorded from the caller, the
// request and any issued certificate are checked as PEM.
package certificates

import (
	"context"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/auth"
	"github.com/minik8s/minik8s/pkg/registry"
)

// Resources returns every certificates.k8s.io/v1 resource.
func Resources() []*registry.Resource { return []*registry.Resource{CertificateSigningRequests()} }

// CertificateSigningRequests is certificates.k8s.io/v1 certificatesigningrequests.
func CertificateSigningRequests() *registry.Resource {
	return &registry.Resource{
		Group: "certificates.k8s.io", Version: "v1", Name: "certificatesigningrequests", Kind: "CertificateSigningRequest",
		SingularName: "certificatesigningrequest", ShortNames: []string{"csr"},
		New:       func() runtime.Object { return &certificatesv1.CertificateSigningRequest{} },
		NewList:   func() runtime.Object { return &certificatesv1.CertificateSigningRequestList{} },
		KeyPrefix: "certificatesigningrequests",
		// Any name goes: requests are often named after what they ask for.
		ValidName:    func(string, bool) []string { return nil },
		Status:       true,
		Subresources: []registry.Subresource{{Name: "approval", Verbs: []string{"get", "patch", "update"}}},
		Strategy:     &csrStrategy{},
		Fields: func(obj runtime.Object) map[string]string {
			return map[string]string{"spec.signerName": obj.(*certificatesv1.CertificateSigningRequest).Spec.SignerName}
		},
		Table: csrTable(),
	}
}

// csrStrategy records who asked for a certificate, which needs the request's
// context, so it extends the generic strategy.
type csrStrategy struct{ registry.Generic }

var (
	_ registry.Strategy            = &csrStrategy{}
	_ registry.StatusStrategy      = &csrStrategy{}
	_ registry.SubresourceStrategy = &csrStrategy{}
)

// PrepareForCreate sets the requester from the caller and starts without status.
func (s *csrStrategy) PrepareForCreate(ctx context.Context, obj runtime.Object) {
	csr := obj.(*certificatesv1.CertificateSigningRequest)
	csr.Spec.Username, csr.Spec.UID, csr.Spec.Groups, csr.Spec.Extra = "", "", nil, nil
	if u := auth.UserFrom(ctx); u != nil {
		csr.Spec.Username, csr.Spec.UID = u.Name, u.UID
		csr.Spec.Groups = append([]string(nil), u.Groups...)
		if len(u.Extra) > 0 {
			csr.Spec.Extra = map[string]certificatesv1.ExtraValue{}
			for k, v := range u.Extra {
				csr.Spec.Extra[k] = append(certificatesv1.ExtraValue(nil), v...)
			}
		}
	}
	csr.Status = certificatesv1.CertificateSigningRequestStatus{Conditions: []certificatesv1.CertificateSigningRequestCondition{}}
}

// PrepareForUpdate: spec and status never change through the main resource.
func (s *csrStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	csr, oc := obj.(*certificatesv1.CertificateSigningRequest), old.(*certificatesv1.CertificateSigningRequest)
	csr.Spec, csr.Status = oc.Spec, oc.Status
}

// Validate implements registry.Strategy.
func (s *csrStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	csr := obj.(*certificatesv1.CertificateSigningRequest)
	return validateCSR(csr, optionsFor(csr, nil))
}

// ValidateUpdate implements registry.Strategy.
func (s *csrStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	csr, oc := obj.(*certificatesv1.CertificateSigningRequest), old.(*certificatesv1.CertificateSigningRequest)
	return validateCSRUpdate(csr, oc, optionsFor(csr, oc))
}

// PrepareForStatusUpdate lets a signer write the certificate and its own
// conditions; approval and denial stay as they were.
func (s *csrStrategy) PrepareForStatusUpdate(_ context.Context, obj, old runtime.Object) {
	csr, oc := obj.(*certificatesv1.CertificateSigningRequest), old.(*certificatesv1.CertificateSigningRequest)
	csr.Spec = oc.Spec
	csr.Generation = oc.Generation
	preserveConditions(csr, oc, certificatesv1.CertificateApproved)
	preserveConditions(csr, oc, certificatesv1.CertificateDenied)
	stampConditions(csr, oc, time.Now())
}

// ValidateStatusUpdate implements registry.StatusStrategy.
func (s *csrStrategy) ValidateStatusUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	csr, oc := obj.(*certificatesv1.CertificateSigningRequest), old.(*certificatesv1.CertificateSigningRequest)
	opts := optionsFor(csr, oc)
	opts.allowSettingCertificate = true
	return validateCSRUpdate(csr, oc, opts)
}

// PrepareForSubresourceUpdate implements registry.SubresourceStrategy for
// approval, which only approves or denies: everything but the conditions
// stays.
func (s *csrStrategy) PrepareForSubresourceUpdate(_ context.Context, _ string, obj, old runtime.Object) {
	csr, oc := obj.(*certificatesv1.CertificateSigningRequest), old.(*certificatesv1.CertificateSigningRequest)
	stampConditions(csr, oc, time.Now())
	conditions := csr.Status.Conditions
	csr.Spec, csr.Status = oc.Spec, oc.Status
	csr.Status.Conditions = conditions
}

// ValidateSubresourceUpdate implements registry.SubresourceStrategy: an
// update through approval may add approval conditions.
func (s *csrStrategy) ValidateSubresourceUpdate(_ context.Context, _ string, obj, old runtime.Object) field.ErrorList {
	csr, oc := obj.(*certificatesv1.CertificateSigningRequest), old.(*certificatesv1.CertificateSigningRequest)
	opts := optionsFor(csr, oc)
	opts.allowSettingApproval = true
	return validateCSRUpdate(csr, oc, opts)
}

// preserveConditions puts back the old conditions of a type when the update
// keeps as many of them.
func preserveConditions(csr, old *certificatesv1.CertificateSigningRequest, t certificatesv1.RequestConditionType) {
	oldIdx, newIdx := conditionIndices(old, t), conditionIndices(csr, t)
	if len(oldIdx) != len(newIdx) {
		return
	}
	for i, o := range oldIdx {
		csr.Status.Conditions[newIdx[i]] = old.Status.Conditions[o]
	}
}

func conditionIndices(csr *certificatesv1.CertificateSigningRequest, t certificatesv1.RequestConditionType) []int {
	var out []int
	for i, c := range csr.Status.Conditions {
		if c.Type == t {
			out = append(out, i)
		}
	}
	return out
}

// stampConditions fills missing condition times: now, or the transition time
// of an unchanged old condition.
func stampConditions(csr, old *certificatesv1.CertificateSigningRequest, now time.Time) {
	t := metav1.NewTime(now.Truncate(time.Second))
	for i := range csr.Status.Conditions {
		c := &csr.Status.Conditions[i]
		if c.LastUpdateTime.IsZero() {
			c.LastUpdateTime = t
		}
		if !c.LastTransitionTime.IsZero() {
			continue
		}
		c.LastTransitionTime = t
		for _, oc := range old.Status.Conditions {
			if oc.Type == c.Type && oc.Status == c.Status && !oc.LastTransitionTime.IsZero() {
				c.LastTransitionTime = oc.LastTransitionTime
				break
			}
		}
	}
}

func csrTable() *registry.Table {
	doc := certificatesv1.CertificateSigningRequestSpec{}.SwaggerDoc()
	return &registry.Table{
		Cols: []metav1.TableColumnDefinition{registry.NameColumn, registry.AgeColumn,
			registry.Col("SignerName", "string", doc["signerName"], 0),
			registry.Col("Requestor", "string", doc["request"], 0),
			registry.Col("RequestedDuration", "string", doc["expirationSeconds"], 0),
			registry.Col("Condition", "string", certificatesv1.CertificateSigningRequestStatus{}.SwaggerDoc()["conditions"], 0),
		},
		Cells: func(obj runtime.Object) []interface{} {
			csr := obj.(*certificatesv1.CertificateSigningRequest)
			signer, requested := "<none>", "<none>"
			if csr.Spec.SignerName != "" {
				signer = csr.Spec.SignerName
			}
			if csr.Spec.ExpirationSeconds != nil {
				requested = duration.HumanDuration(time.Duration(*csr.Spec.ExpirationSeconds) * time.Second)
			}
			return []interface{}{csr.Name, registry.Age(csr.CreationTimestamp), signer, csr.Spec.Username, requested, csrCondition(csr)}
		},
	}
}

// csrCondition is the Condition column: Denied beats Approved, and Failed and
// Issued are added.
func csrCondition(csr *certificatesv1.CertificateSigningRequest) string {
	var approved, denied, failed bool
	for _, c := range csr.Status.Conditions {
		switch c.Type {
		case certificatesv1.CertificateApproved:
			approved = true
		case certificatesv1.CertificateDenied:
			denied = true
		case certificatesv1.CertificateFailed:
			failed = true
		}
	}
	status := "Pending"
	switch {
	case denied:
		status = "Denied"
	case approved:
		status = "Approved"
	}
	if failed {
		status += ",Failed"
	}
	if len(csr.Status.Certificate) > 0 {
		status += ",Issued"
	}
	return status
}
