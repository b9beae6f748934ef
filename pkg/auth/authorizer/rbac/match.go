package rbac

import (
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/minik8s/minik8s/pkg/auth/authorizer"
)

// RuleAllows reports whether one policy rule grants the request: for a
// resource request the verb, API group, resource (with its subresource) and
// name must all match; for a non-resource request the verb and the path.
func RuleAllows(a *authorizer.Attributes, r *rbacv1.PolicyRule) bool {
	if !verbMatches(r, a.Verb) {
		return false
	}
	if !a.IsResource {
		return nonResourceURLMatches(r, a.Path)
	}
	return apiGroupMatches(r, a.Group) && resourceMatches(r, a.Resource, a.Subresource) && resourceNameMatches(r, a.Name)
}

// RulesAllow reports whether any of the rules grants the request.
func RulesAllow(a *authorizer.Attributes, rules []rbacv1.PolicyRule) bool {
	for i := range rules {
		if RuleAllows(a, &rules[i]) {
			return true
		}
	}
	return false
}

func verbMatches(r *rbacv1.PolicyRule, verb string) bool {
	for _, v := range r.Verbs {
		if v == rbacv1.VerbAll || v == verb {
			return true
		}
	}
	return false
}

func apiGroupMatches(r *rbacv1.PolicyRule, group string) bool {
	for _, g := range r.APIGroups {
		if g == rbacv1.APIGroupAll || g == group {
			return true
		}
	}
	return false
}

// resourceMatches: "*" is every resource and subresource; "pods" is the pods
// resource alone, "pods/log" its log; "*/scale" is the scale subresource of
// every resource.
func resourceMatches(r *rbacv1.PolicyRule, resource, subresource string) bool {
	for _, rr := range r.Resources {
		if rr == rbacv1.ResourceAll {
			return true
		}
		if subresource == "" {
			if rr == resource {
				return true
			}
			continue
		}
		// resource/subresource without building the string.
		if len(rr) == len(resource)+1+len(subresource) && strings.HasPrefix(rr, resource) &&
			rr[len(resource)] == '/' && strings.HasSuffix(rr, subresource) {
			return true
		}
		if len(rr) == len(subresource)+2 && strings.HasPrefix(rr, "*/") && strings.HasSuffix(rr, subresource) {
			return true
		}
	}
	return false
}

// resourceNameMatches: a rule without names covers every object; a rule with
// names covers only those, never a request without a name (a list or create).
func resourceNameMatches(r *rbacv1.PolicyRule, name string) bool {
	if len(r.ResourceNames) == 0 {
		return true
	}
	for _, n := range r.ResourceNames {
		if n == name {
			return true
		}
	}
	return false
}

// nonResourceURLMatches: "*" is every path, "/apis/*" every path under /apis/,
// anything else one exact path.
func nonResourceURLMatches(r *rbacv1.PolicyRule, path string) bool {
	for _, u := range r.NonResourceURLs {
		if u == rbacv1.NonResourceAll || u == path {
			return true
		}
		if strings.HasSuffix(u, "*") && strings.HasPrefix(path, strings.TrimSuffix(u, "*")) {
			return true
		}
	}
	return false
}
