package webhook

import (
	"slices"
	"strings"

	admissionregv1 "k8s.io/api/admissionregistration/v1"

	"github.com/minik8s/minik8s/pkg/admission"
)

// target is what rules match on: everything but the object, so the hooks a
// target matches are computed once per snapshot.
type target struct {
	group, version, resource, subresource string
	namespaced                            bool
	op                                    admission.Operation
}

func targetOf(a *admission.Attributes) target {
	return target{group: a.Resource.Group, version: a.Resource.Version, resource: a.Resource.Resource,
		subresource: a.Subresource, namespaced: a.Namespaced, op: a.Operation}
}

// ruleMatches applies one rule: operations, API groups and versions,
// resources with their subresources, and scope, "*" matching anything.
func ruleMatches(r admissionregv1.RuleWithOperations, t target) bool {
	if !slices.ContainsFunc(r.Operations, func(op admissionregv1.OperationType) bool {
		return op == admissionregv1.OperationAll || string(op) == string(t.op)
	}) {
		return false
	}
	if !slices.Contains(r.APIGroups, "*") && !slices.Contains(r.APIGroups, t.group) {
		return false
	}
	if !slices.Contains(r.APIVersions, "*") && !slices.Contains(r.APIVersions, t.version) {
		return false
	}
	if !slices.ContainsFunc(r.Resources, func(p string) bool { return resourceMatches(p, t.resource, t.subresource) }) {
		return false
	}
	if r.Scope != nil {
		switch *r.Scope {
		case admissionregv1.ClusterScope:
			// A namespace is cluster-scoped, as upstream counts it.
			return !t.namespaced || t.group == "" && t.resource == "namespaces"
		case admissionregv1.NamespacedScope:
			return t.namespaced && !(t.group == "" && t.resource == "namespaces")
		}
	}
	return true
}

// resourceMatches: "*" is every resource, "*/*" every resource and
// subresource, "pods/*" pods and its subresources, "*/status" that
// subresource of every resource.
func resourceMatches(pattern, resource, subresource string) bool {
	res, sub, hasSub := strings.Cut(pattern, "/")
	if !hasSub {
		return subresource == "" && (res == "*" || res == resource)
	}
	if res != "*" && res != resource {
		return false
	}
	return sub == "*" || subresource != "" && sub == subresource
}

// hookMatches reports whether any of h's rules matches t, or, with
// matchPolicy Equivalent, the same resource in another served version.
func hookMatches(h *hook, t target, otherVersions []string) bool {
	for _, r := range h.rules {
		if ruleMatches(r, t) {
			return true
		}
	}
	if !h.equivalent {
		return false
	}
	for _, v := range otherVersions {
		if v == t.version {
			continue
		}
		alt := t
		alt.version = v
		for _, r := range h.rules {
			if ruleMatches(r, alt) {
				return true
			}
		}
	}
	return false
}
