package authorizer

import (
	"context"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/minik8s/minik8s/pkg/auth"
)

// CaughtUp asks again, once, when its authorizer has no opinion and the policy
// it reads lagged behind a write already acknowledged: a client that creates a
// RoleBinding and then uses it is never refused because the authorizer's view
// had not caught up. CatchUp waits for that view and reports whether it had to.
type CaughtUp struct {
	Interface
	CatchUp func(ctx context.Context) bool
}

// Authorize implements Authorizer.
func (c CaughtUp) Authorize(ctx context.Context, a Attributes) (Decision, string, error) {
	d, reason, err := c.Interface.Authorize(ctx, a)
	if d != NoOpinion || c.CatchUp == nil || !c.CatchUp(ctx) {
		return d, reason, err
	}
	return c.Interface.Authorize(ctx, a)
}

// RulesFor implements RuleResolver, after catching up.
func (c CaughtUp) RulesFor(ctx context.Context, u *auth.User, namespace string) ([]rbacv1.PolicyRule, bool, error) {
	if c.CatchUp != nil {
		c.CatchUp(ctx)
	}
	return c.Interface.RulesFor(ctx, u, namespace)
}
