package authorization

import (
	"context"

	authorizationv1 "k8s.io/api/authorization/v1"

	"github.com/minik8s/minik8s/pkg/auth"
)

// Rules are what a subject may do, as a SelfSubjectRulesReview reports them.
type Rules struct {
	Resource    []authorizationv1.ResourceRule
	NonResource []authorizationv1.NonResourceRule
	Incomplete  bool
}

// AllowAuthenticated lets every authenticated subject do everything, the
// server's policy until RBAC is enforced; anonymous subjects may do nothing.
type AllowAuthenticated struct{}

var _ Authorizer = AllowAuthenticated{}

// Authorize implements Authorizer.
func (AllowAuthenticated) Authorize(_ context.Context, s Subject, _ Attributes) (bool, string, error) {
	return authenticated(s), "", nil
}

// Rules implements Authorizer: for an authenticated subject, everything, listed
// the way upstream lists it for a cluster administrator (who also holds the
// discovery and self-review roles every authenticated user has).
func (AllowAuthenticated) Rules(_ context.Context, s Subject, _ string) (Rules, error) {
	if !authenticated(s) {
		return Rules{}, nil
	}
	return Rules{
		Resource: []authorizationv1.ResourceRule{
			{Verbs: []string{"create"}, APIGroups: []string{"authorization.k8s.io"}, Resources: []string{"selfsubjectaccessreviews", "selfsubjectrulesreviews"}},
			{Verbs: []string{"create"}, APIGroups: []string{"authentication.k8s.io"}, Resources: []string{"selfsubjectreviews"}},
			{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}},
		},
		NonResource: []authorizationv1.NonResourceRule{
			{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}},
			{Verbs: []string{"get"}, NonResourceURLs: []string{"/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez",
				"/openapi", "/openapi/*", "/readyz", "/version", "/version/"}},
			{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz", "/livez", "/readyz", "/version", "/version/"}},
		},
	}, nil
}

// authenticated: a named user or a member of system:authenticated, never the
// anonymous user or the unauthenticated group.
func authenticated(s Subject) bool {
	if s.User == auth.UserAnonymous {
		return false
	}
	for _, g := range s.Groups {
		if g == auth.GroupUnauthenticated {
			return false
		}
	}
	if s.User != "" {
		return true
	}
	for _, g := range s.Groups {
		if g == auth.GroupAuthenticated || g == auth.GroupMasters {
			return true
		}
	}
	return false
}
