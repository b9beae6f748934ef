// Package authorization serves the authorization.k8s.io/v1 access reviews,
// answered rather than stored: may this subject do that? kubectl auth can-i
// asks through them.
package authorization

import (
	"context"

	"github.com/minik8s/minik8s/pkg/auth"
	"github.com/minik8s/minik8s/pkg/registry"
)

const group = "authorization.k8s.io"

// Subject is who a review asks about.
type Subject struct {
	User   string
	UID    string
	Groups []string
	Extra  map[string][]string
}

// Attributes are what a review asks to do: a verb on a resource, or on a
// non-resource path.
type Attributes struct {
	Verb        string
	IsResource  bool
	Group       string
	Version     string
	Resource    string
	Subresource string
	Namespace   string
	Name        string
	Path        string
}

// Authorizer answers reviews. Rules lists what the subject may do in a
// namespace, for SelfSubjectRulesReview.
type Authorizer interface {
	Authorize(ctx context.Context, s Subject, a Attributes) (allowed bool, reason string, err error)
	Rules(ctx context.Context, s Subject, namespace string) (Rules, error)
}

// Options configure the reviews.
type Options struct {
	// Authorizer answers them; nil is AllowAuthenticated, the server's policy
	// until RBAC is enforced.
	Authorizer Authorizer
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

// orDefault is the server's policy when no authorizer is given.
func orDefault(a Authorizer) Authorizer {
	if a == nil {
		return AllowAuthenticated{}
	}
	return a
}

// subjectOf is the caller of a request as a review subject.
func subjectOf(u *auth.User) Subject {
	if u == nil {
		return Subject{User: auth.UserAnonymous, Groups: []string{auth.GroupUnauthenticated}}
	}
	return Subject{User: u.Name, UID: u.UID, Groups: u.Groups, Extra: u.Extra}
}
