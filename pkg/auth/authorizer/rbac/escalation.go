package rbac

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/component-helpers/auth/rbac/validation"

	"github.com/minik8s/minik8s/pkg/auth"
	"github.com/minik8s/minik8s/pkg/auth/authorizer"
)

// Guard makes upstream's escalation checks on writes of roles and bindings:
// a user may only write a role with rules it holds itself (or with the
// escalate verb on that role), and only bind a role whose rules it holds (or
// with the bind verb on that role). Members of system:masters skip them.
type Guard struct {
	// Authorizer answers the escalate and bind checks: the server's authorizer.
	Authorizer authorizer.Authorizer
	// RBAC resolves the writer's own rules and the rules of the bound role.
	RBAC *Authorizer
}

// fullAuthority is what it takes to write an aggregation rule: everything.
var fullAuthority = []rbacv1.PolicyRule{
	{Verbs: []string{rbacv1.VerbAll}, APIGroups: []string{rbacv1.APIGroupAll}, Resources: []string{rbacv1.ResourceAll}},
	{Verbs: []string{rbacv1.VerbAll}, NonResourceURLs: []string{rbacv1.NonResourceAll}},
}

// Admit returns nil when u may write obj, replacing old (nil for a create),
// and otherwise a 403 Forbidden worded as upstream's. requestName is the name
// in the request's URL (empty for a create). Objects of other kinds, and writes
// without a user (the server's own), pass.
func (g *Guard) Admit(ctx context.Context, u *auth.User, obj, old runtime.Object, requestName string) error {
	switch obj.(type) {
	case *rbacv1.Role, *rbacv1.ClusterRole, *rbacv1.RoleBinding, *rbacv1.ClusterRoleBinding:
	default:
		return nil
	}
	if u == nil || isPrivileged(u) {
		return nil
	}
	if old != nil && onlyGCFieldsChanged(obj, old) {
		return nil
	}
	switch o := obj.(type) {
	case *rbacv1.Role:
		return g.admitRole(ctx, u, "roles", o.Namespace, o.Name, requestName, o.Rules, false)
	case *rbacv1.ClusterRole:
		aggregated := hasAggregationRule(o.AggregationRule)
		if oc, ok := old.(*rbacv1.ClusterRole); ok && hasAggregationRule(oc.AggregationRule) {
			aggregated = true
		}
		return g.admitRole(ctx, u, "clusterroles", "", o.Name, requestName, o.Rules, aggregated)
	case *rbacv1.RoleBinding:
		return g.admitBinding(ctx, u, "rolebindings", o.Namespace, o.Name, o.RoleRef)
	case *rbacv1.ClusterRoleBinding:
		return g.admitBinding(ctx, u, "clusterrolebindings", "", o.Name, o.RoleRef)
	}
	return nil
}

func (g *Guard) admitRole(ctx context.Context, u *auth.User, resource, namespace, name, requestName string,
	rules []rbacv1.PolicyRule, aggregated bool) error {
	gr := schema.GroupResource{Group: rbacv1.GroupName, Resource: resource}
	if g.allowed(ctx, authorizer.Attributes{User: u, Verb: "escalate", IsResource: true, Group: rbacv1.GroupName,
		Version: "*", Resource: resource, Name: requestName, Namespace: namespace}) {
		return nil
	}
	if err := g.ConfirmNoEscalation(u, namespace, rules); err != nil {
		return apierrors.NewForbidden(gr, name, err)
	}
	if aggregated {
		if err := g.ConfirmNoEscalation(u, namespace, fullAuthority); err != nil {
			return apierrors.NewForbidden(gr, name, errors.New("must have cluster-admin privileges to use the aggregationRule"))
		}
	}
	return nil
}

func (g *Guard) admitBinding(ctx context.Context, u *auth.User, resource, namespace, name string, ref rbacv1.RoleRef) error {
	gr := schema.GroupResource{Group: rbacv1.GroupName, Resource: resource}
	if g.bindAuthorized(ctx, u, ref, namespace) {
		return nil
	}
	rules, err := g.RBAC.RoleRefRules(ref, namespace)
	if err != nil {
		return apierrors.NewForbidden(gr, name, err)
	}
	if err := g.ConfirmNoEscalation(u, namespace, rules); err != nil {
		return apierrors.NewForbidden(gr, name, err)
	}
	return nil
}

// bindAuthorized: the bind verb on the referenced role lets a user bind it
// without holding its rules.
func (g *Guard) bindAuthorized(ctx context.Context, u *auth.User, ref rbacv1.RoleRef, namespace string) bool {
	a := authorizer.Attributes{User: u, Verb: "bind", IsResource: true, Group: ref.APIGroup, Version: "*",
		Namespace: namespace, Name: ref.Name}
	switch ref.Kind {
	case "ClusterRole":
		a.Resource = "clusterroles"
	case "Role":
		a.Resource = "roles"
	default:
		return false
	}
	return g.allowed(ctx, a)
}

func (g *Guard) allowed(ctx context.Context, a authorizer.Attributes) bool {
	if g.Authorizer == nil {
		return false
	}
	d, _, _ := g.Authorizer.Authorize(ctx, a)
	return d == authorizer.Allow
}

// ConfirmNoEscalation returns an error listing the rules u does not hold in
// namespace ("" for cluster-wide rules only), in upstream's words.
func (g *Guard) ConfirmNoEscalation(u *auth.User, namespace string, rules []rbacv1.PolicyRule) error {
	owned, resolveErr := g.RBAC.rulesFor(u, namespace)
	covered, missing := validation.Covers(owned, rules)
	if covered {
		return nil
	}
	descriptions := map[string]bool{}
	for _, r := range compactRules(missing) {
		descriptions[compactString(r)] = true
	}
	lines := make([]string, 0, len(descriptions))
	for d := range descriptions {
		lines = append(lines, d)
	}
	sort.Strings(lines)
	msg := fmt.Sprintf("user %q (groups=%q) is attempting to grant RBAC permissions not currently held:\n%s", u.Name, u.Groups, strings.Join(lines, "\n"))
	if resolveErr != nil {
		msg += fmt.Sprintf("; resolution errors: %v", []error{resolveErr})
	}
	return errors.New(msg)
}

func isPrivileged(u *auth.User) bool {
	for _, g := range u.Groups {
		if g == auth.GroupMasters {
			return true
		}
	}
	return false
}

func hasAggregationRule(r *rbacv1.AggregationRule) bool {
	return r != nil && len(r.ClusterRoleSelectors) > 0
}

// onlyGCFieldsChanged: a write that only changes owner references or
// finalizers (the garbage collector's) is not a grant, as upstream decides.
func onlyGCFieldsChanged(obj, old runtime.Object) bool {
	if old == nil || reflect.ValueOf(old).IsNil() {
		return false
	}
	c := obj.DeepCopyObject()
	cm, err := meta.Accessor(c)
	if err != nil {
		return false
	}
	om, err := meta.Accessor(old)
	if err != nil {
		return false
	}
	cm.SetOwnerReferences(om.GetOwnerReferences())
	cm.SetFinalizers(om.GetFinalizers())
	cm.SetSelfLink(om.GetSelfLink())
	cm.SetManagedFields(om.GetManagedFields())
	return equality.Semantic.DeepEqual(c, old)
}

// compactRules merges rules that differ only in verbs (one group, one
// resource, at most one name), so a refusal lists each resource once.
func compactRules(rules []rbacv1.PolicyRule) []rbacv1.PolicyRule {
	type simple struct {
		group, resource string
		hasName         bool
		name            string
	}
	out := make([]rbacv1.PolicyRule, 0, len(rules))
	merged := map[simple]*rbacv1.PolicyRule{}
	var order []simple
	for _, r := range rules {
		if len(r.ResourceNames) > 1 || len(r.NonResourceURLs) > 0 || len(r.APIGroups) != 1 || len(r.Resources) != 1 {
			out = append(out, r)
			continue
		}
		k := simple{group: r.APIGroups[0], resource: r.Resources[0]}
		if len(r.ResourceNames) == 1 {
			k.hasName, k.name = true, r.ResourceNames[0]
		}
		if m, ok := merged[k]; ok {
			m.Verbs = append(m.Verbs, r.Verbs...)
			continue
		}
		merged[k] = r.DeepCopy()
		order = append(order, k)
	}
	for _, k := range order {
		out = append(out, *merged[k])
	}
	return out
}

// compactString prints a rule as upstream's refusals do:
// {APIGroups:["apps"], Resources:["deployments"], Verbs:["get"]}.
func compactString(r rbacv1.PolicyRule) string {
	var parts []string
	add := func(name string, v []string) {
		if len(v) > 0 {
			parts = append(parts, fmt.Sprintf("%s:%q", name, v))
		}
	}
	add("APIGroups", r.APIGroups)
	add("Resources", r.Resources)
	add("NonResourceURLs", r.NonResourceURLs)
	add("ResourceNames", r.ResourceNames)
	add("Verbs", r.Verbs)
	return "{" + strings.Join(parts, ", ") + "}"
}
