package authorizer

import (
	"context"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/minik8s/minik8s/pkg/auth"
)

// PrivilegedGroups allows every request of a member of one of its groups, as
// upstream's API server allows system:masters before asking any other
// authorizer. It looks at the groups only, so it costs no allocation.
type PrivilegedGroups []string

// Authorize implements Authorizer.
func (p PrivilegedGroups) Authorize(_ context.Context, a Attributes) (Decision, string, error) {
	if a.User == nil {
		return NoOpinion, "", nil
	}
	for _, g := range a.User.Groups {
		for _, priv := range p {
			if g == priv {
				return Allow, "", nil
			}
		}
	}
	return NoOpinion, "", nil
}

// RulesFor implements RuleResolver: like upstream's, the privileged groups
// authorizer lists nothing; a cluster administrator's rules come from RBAC.
func (PrivilegedGroups) RulesFor(context.Context, *auth.User, string) ([]rbacv1.PolicyRule, bool, error) {
	return nil, false, nil
}

// Always decides every request the same way, as upstream's AlwaysAllow and
// AlwaysDeny modes do.
type Always Decision

// Authorize implements Authorizer.
func (a Always) Authorize(context.Context, Attributes) (Decision, string, error) {
	return Decision(a), "", nil
}

// RulesFor implements RuleResolver: everything when allowing, nothing else.
func (a Always) RulesFor(context.Context, *auth.User, string) ([]rbacv1.PolicyRule, bool, error) {
	if Decision(a) != Allow {
		return nil, false, nil
	}
	return []rbacv1.PolicyRule{
		{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}},
		{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}},
	}, false, nil
}
