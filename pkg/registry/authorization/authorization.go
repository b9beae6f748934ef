// Package authorization serves the authorization.k8s.io/v1 access reviews,
// answered rather than stored: may this subject do that? kubectl auth can-i
// asks through them. They are answered by the same authorizer that decides
// on requests.
package authorization

import (
	"github.com/minik8s/minik8s/pkg/auth"
	"github.com/minik8s/minik8s/pkg/auth/authorizer"
	"github.com/minik8s/minik8s/pkg/registry"
)

const group = "authorization.k8s.io"

// Options configure the reviews.
type Options struct {
	// Authorizer answers them: the server's authorizer. nil is
	// AllowAuthenticated (tests).
	Authorizer authorizer.Interface
}

// Resources returns every authorization.k8s.io/v1 resource.
func Resources(opts Options) []*registry.Resource {
	a := orDefault(opts.Authorizer)
	return []*registry.Resource{
		SelfSubjectAccessReviews(a),
		SelfSubjectRulesReviews(a),
		SubjectAccessReviews(a),
		LocalSubjectAccessReviews(a),
	}
}

// orDefault is the policy when no authorizer is given.
func orDefault(a authorizer.Interface) authorizer.Interface {
	if a == nil {
		return AllowAuthenticated{}
	}
	return a
}

// callerOf is the caller of a request, anonymous if none.
func callerOf(u *auth.User) *auth.User {
	if u == nil {
		return &auth.User{Name: auth.UserAnonymous, Groups: []string{auth.GroupUnauthenticated}}
	}
	return u
}
