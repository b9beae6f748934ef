// Package admissionregistration describes the admissionregistration.k8s.io/v1
// resources: webhook configurations and validating admission policies. They
// are stored and checked with upstream's defaults; the server does not call
// webhooks or evaluate policies yet.
package admissionregistration

import (
	admissionv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minik8s/minik8s/pkg/registry"
)

const group = "admissionregistration.k8s.io"

// categories lists the resources under "kubectl get api-extensions".
var categories = []string{"api-extensions"}

// Resources returns every admissionregistration.k8s.io/v1 resource.
func Resources() []*registry.Resource {
	return []*registry.Resource{ValidatingWebhookConfigurations(), MutatingWebhookConfigurations(),
		ValidatingAdmissionPolicies(), ValidatingAdmissionPolicyBindings()}
}

// defaultMatchResources fills a policy's or binding's match criteria.
func defaultMatchResources(m *admissionv1.MatchResources) {
	if m == nil {
		return
	}
	if m.MatchPolicy == nil {
		p := admissionv1.Equivalent
		m.MatchPolicy = &p
	}
	if m.NamespaceSelector == nil {
		m.NamespaceSelector = &metav1.LabelSelector{}
	}
	if m.ObjectSelector == nil {
		m.ObjectSelector = &metav1.LabelSelector{}
	}
	for i := range m.ResourceRules {
		defaultRule(&m.ResourceRules[i].Rule)
	}
	for i := range m.ExcludeResourceRules {
		defaultRule(&m.ExcludeResourceRules[i].Rule)
	}
}

func defaultRule(r *admissionv1.Rule) {
	if r.Scope == nil {
		s := admissionv1.AllScopes
		r.Scope = &s
	}
}
