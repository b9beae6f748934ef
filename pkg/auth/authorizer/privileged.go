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
