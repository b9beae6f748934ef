// Package rbac enforces rbac.authorization.k8s.io/v1: a request is allowed when
// a ClusterRoleBinding, or a RoleBinding in the request's namespace, binds the
// user (by name, service account or group) to a role with a rule that matches
// it. It also makes upstream's escalation checks on writes of roles and
// bindings: no one grants what they do not hold.
//
// The policy is kept in memory, indexed by subject, and fed by the storage's
// change feed (Update and Delete); a check reads only the bindings of the user.
package rbac

import (
	"context"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"

	"github.com/minik8s/minik8s/pkg/auth"
	"github.com/minik8s/minik8s/pkg/auth/authorizer"
)

// Authorizer is the RBAC authorizer and rule resolver.
type Authorizer struct {
	p *policy
}

var _ authorizer.Interface = (*Authorizer)(nil)

// New returns an authorizer with an empty policy; feed it with Update and Delete.
func New() *Authorizer { return &Authorizer{p: newPolicy()} }

// Update records a Role, ClusterRole, RoleBinding or ClusterRoleBinding as it
// now is; other objects are ignored. The object must not change afterwards.
func (a *Authorizer) Update(obj runtime.Object) { a.p.update(obj) }

// Delete forgets an RBAC object.
func (a *Authorizer) Delete(obj runtime.Object) { a.p.remove(obj) }

// Authorize implements authorizer.Authorizer. Like upstream's, RBAC only ever
// allows or has no opinion; a denial's reason names the roles that bindings
// of the user refer to but that do not exist.
func (a *Authorizer) Authorize(_ context.Context, attrs authorizer.Attributes) (authorizer.Decision, string, error) {
	if attrs.User == nil {
		return authorizer.NoOpinion, "", nil
	}
	var allowedBy *binding
	var missing []error
	a.p.mu.RLock()
	a.p.visitLocked(attrs.User.Name, attrs.User.Groups, attrs.Namespace, func(b *binding, rules []rbacv1.PolicyRule, err error) bool {
		if err != nil {
			missing = appendUnique(missing, err)
			return true
		}
		if RulesAllow(&attrs, rules) {
			allowedBy = b
			return false
		}
		return true
	})
	a.p.mu.RUnlock()
	if allowedBy != nil {
		if !attrs.Explain {
			return authorizer.Allow, "", nil
		}
		return authorizer.Allow, "RBAC: allowed by " + describe(allowedBy, attrs.User), nil
	}
	if len(missing) > 0 {
		return authorizer.NoOpinion, fmt.Sprintf("RBAC: %v", utilerrors.NewAggregate(missing)), nil
	}
	return authorizer.NoOpinion, "", nil
}

func appendUnique(errs []error, err error) []error {
	for _, e := range errs {
		if e.Error() == err.Error() {
			return errs
		}
	}
	return append(errs, err)
}

// RulesFor implements authorizer.RuleResolver: the rules of every role bound
// to the user cluster-wide and in namespace, with an error naming missing roles.
func (a *Authorizer) RulesFor(_ context.Context, u *auth.User, namespace string) ([]rbacv1.PolicyRule, bool, error) {
	rules, err := a.rulesFor(u, namespace)
	return rules, false, err
}

func (a *Authorizer) rulesFor(u *auth.User, namespace string) ([]rbacv1.PolicyRule, error) {
	if u == nil {
		return nil, nil
	}
	a.p.mu.RLock()
	defer a.p.mu.RUnlock()
	var rules []rbacv1.PolicyRule
	var errs []error
	for _, b := range a.p.bindingsForLocked(u.Name, u.Groups, namespace) {
		r, err := a.p.roleRulesLocked(b.roleRef, b.namespace)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rules = append(rules, r...)
	}
	return rules, utilerrors.NewAggregate(errs)
}

// RoleRefRules returns the rules a binding in namespace ("" for a
// ClusterRoleBinding) to ref would grant.
func (a *Authorizer) RoleRefRules(ref rbacv1.RoleRef, namespace string) ([]rbacv1.PolicyRule, error) {
	a.p.mu.RLock()
	defer a.p.mu.RUnlock()
	return a.p.roleRulesLocked(ref, namespace)
}

// describe says which binding allowed a request, as upstream's reason does:
// ClusterRoleBinding "x" of ClusterRole "y" to Group "z".
func describe(b *binding, u *auth.User) string {
	kind := "ClusterRoleBinding"
	name := b.name
	if b.namespace != "" {
		kind, name = "RoleBinding", b.name+"/"+b.namespace
	}
	return fmt.Sprintf("%s %q of %s %q to %s", kind, name, b.roleRef.Kind, b.roleRef.Name, describeSubject(b, u))
}

func describeSubject(b *binding, u *auth.User) string {
	for i := range b.subjects {
		s := &b.subjects[i]
		if !appliesTo(s, b.namespace, u) {
			continue
		}
		if s.Kind == rbacv1.ServiceAccountKind {
			ns := s.Namespace
			if ns == "" {
				ns = b.namespace
			}
			return fmt.Sprintf("%s %q", s.Kind, s.Name+"/"+ns)
		}
		return fmt.Sprintf("%s %q", s.Kind, s.Name)
	}
	return "unknown subject"
}

func appliesTo(s *rbacv1.Subject, bindingNamespace string, u *auth.User) bool {
	kind, key, ok := subjectKey(s, bindingNamespace)
	if !ok {
		return false
	}
	if kind == rbacv1.GroupKind {
		for _, g := range u.Groups {
			if g == key {
				return true
			}
		}
		return false
	}
	return key == u.Name
}
