package bootstrappolicy

import (
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
)

// API groups the policy names.
const (
	core            = ""
	apps            = "apps"
	authentication  = "authentication.k8s.io"
	authorization   = "authorization.k8s.io"
	autoscaling     = "autoscaling"
	batch           = "batch"
	certificates    = "certificates.k8s.io"
	coordination    = "coordination.k8s.io"
	discovery       = "discovery.k8s.io"
	extensions      = "extensions"
	policy          = "policy"
	rbac            = "rbac.authorization.k8s.io"
	resource        = "resource.k8s.io"
	storage         = "storage.k8s.io"
	networking      = "networking.k8s.io"
	events          = "events.k8s.io"
	admission       = "admissionregistration.k8s.io"
	nodeGroup       = "node.k8s.io"
	metrics         = "metrics.k8s.io"
	customMetrics   = "custom.metrics.k8s.io"
	externalMetrics = "external.metrics.k8s.io"
)

// Verb sets the roles share.
var (
	read       = []string{"get", "list", "watch"}
	write      = []string{"create", "update", "patch", "delete", "deletecollection"}
	readWrite  = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
	readUpdate = []string{"get", "list", "watch", "update", "patch"}
)

func verbs(v ...string) []string { return v }

// on is a rule granting verbs on resources of one API group.
func on(v []string, group string, resources ...string) rbacv1.PolicyRule {
	return sorted(rbacv1.PolicyRule{Verbs: v, APIGroups: []string{group}, Resources: resources})
}

// onGroups is a rule granting verbs on resources of several API groups.
func onGroups(v []string, groups []string, resources ...string) rbacv1.PolicyRule {
	return sorted(rbacv1.PolicyRule{Verbs: v, APIGroups: groups, Resources: resources})
}

// named narrows a rule to objects of those names.
func named(r rbacv1.PolicyRule, names ...string) rbacv1.PolicyRule {
	r.ResourceNames = names
	return sorted(r)
}

// paths is a rule granting verbs on non-resource URLs.
func paths(v []string, urls ...string) rbacv1.PolicyRule {
	return sorted(rbacv1.PolicyRule{Verbs: v, NonResourceURLs: urls})
}

// sorted orders every list of a rule, as upstream's policy prints them, in
// copies: rules share no memory with each other or the verb sets.
func sorted(r rbacv1.PolicyRule) rbacv1.PolicyRule {
	for _, list := range []*[]string{&r.Verbs, &r.APIGroups, &r.Resources, &r.ResourceNames, &r.NonResourceURLs} {
		if *list != nil {
			*list = slices.Sorted(slices.Values(*list))
		}
	}
	return r
}

// eventsRule lets a component record events in either events API.
func eventsRule() rbacv1.PolicyRule {
	return onGroups(verbs("create", "update", "patch"), []string{core, events}, "events")
}
