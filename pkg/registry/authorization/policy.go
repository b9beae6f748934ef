package authorization

import (
	"context"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/minik8s/minik8s/pkg/auth"
	"github.com/minik8s/minik8s/pkg/auth/authorizer"
)

// AllowAuthenticated lets every authenticated subject do everything and
// anonymous ones nothing: the reviews' answer when no authorizer is given.
type AllowAuthenticated struct{}

var _ authorizer.Interface = AllowAuthenticated{}

// Authorize implements authorizer.Authorizer.
func (AllowAuthenticated) Authorize(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
	if authenticated(a.User) {
		return authorizer.Allow, "", nil
	}
	return authorizer.NoOpinion, "", nil
}

// RulesFor implements authorizer.RuleResolver: everything, for the authenticated.
func (AllowAuthenticated) RulesFor(_ context.Context, u *auth.User, _ string) ([]rbacv1.PolicyRule, bool, error) {
	if !authenticated(u) {
		return nil, false, nil
	}
	return []rbacv1.PolicyRule{
		{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}},
		{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}},
	}, false, nil
}

// authenticated: a named user or a member of system:authenticated, never the
// anonymous user or the unauthenticated group.
func authenticated(u *auth.User) bool {
	if u == nil || u.Name == auth.UserAnonymous {
		return false
	}
	for _, g := range u.Groups {
		if g == auth.GroupUnauthenticated {
			return false
		}
	}
	if u.Name != "" {
		return true
	}
	for _, g := range u.Groups {
		if g == auth.GroupAuthenticated || g == auth.GroupMasters {
			return true
		}
	}
	return false
}
