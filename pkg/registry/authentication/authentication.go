// Package authentication serves the authentication.k8s.io/v1 reviews, which
// are answered rather than stored: SelfSubjectReview tells callers who they
// are (kubectl auth whoami), TokenReview tells a webhook whose a token is.
package authentication

import (
	"context"
	"fmt"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/minik8s/minik8s/pkg/auth"
	"github.com/minik8s/minik8s/pkg/registry"
)

// TokenAuthenticator maps a bearer token to a user; ok is false for unknown tokens.
type TokenAuthenticator interface {
	AuthenticateToken(ctx context.Context, token string) (*auth.User, bool, error)
}

// Options configure the reviews.
type Options struct {
	// Tokens answers TokenReviews; nil answers every review unauthenticated.
	Tokens TokenAuthenticator
}

const group = "authentication.k8s.io"

// Resources returns every authentication.k8s.io/v1 resource.
func Resources(opts Options) []*registry.Resource {
	return []*registry.Resource{SelfSubjectReviews(), TokenReviews(opts.Tokens)}
}

// SelfSubjectReviews is authentication.k8s.io/v1 selfsubjectreviews.
func SelfSubjectReviews() *registry.Resource {
	return &registry.Resource{
		Group: group, Version: "v1", Name: "selfsubjectreviews", Kind: "SelfSubjectReview", SingularName: "selfsubjectreview",
		New:      func() runtime.Object { return &authenticationv1.SelfSubjectReview{} },
		NewList:  func() runtime.Object { return &authenticationv1.SelfSubjectReview{} },
		Verbs:    []string{"create"},
		Strategy: &registry.Generic{NoStatusSplit: true, NoGeneration: true},
		Create: func(ctx context.Context, _ runtime.Object) (runtime.Object, error) {
			u := auth.UserFrom(ctx)
			if u == nil {
				return nil, apierrors.NewBadRequest("no user present on request")
			}
			return &authenticationv1.SelfSubjectReview{
				ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(time.Now())},
				Status:     authenticationv1.SelfSubjectReviewStatus{UserInfo: userInfo(u)},
			}, nil
		},
	}
}

// TokenReviews is authentication.k8s.io/v1 tokenreviews.
func TokenReviews(tokens TokenAuthenticator) *registry.Resource {
	return &registry.Resource{
		Group: group, Version: "v1", Name: "tokenreviews", Kind: "TokenReview", SingularName: "tokenreview",
		New:      func() runtime.Object { return &authenticationv1.TokenReview{} },
		NewList:  func() runtime.Object { return &authenticationv1.TokenReview{} },
		Verbs:    []string{"create"},
		Strategy: &registry.Generic{NoStatusSplit: true, NoGeneration: true},
		Create: func(ctx context.Context, obj runtime.Object) (runtime.Object, error) {
			review, ok := obj.(*authenticationv1.TokenReview)
			if !ok {
				return nil, apierrors.NewBadRequest(fmt.Sprintf("not a TokenReview: %T", obj))
			}
			if review.Spec.Token == "" {
				return nil, apierrors.NewBadRequest("token is required for TokenReview in authentication")
			}
			if tokens == nil {
				return review, nil
			}
			u, ok, err := tokens.AuthenticateToken(ctx, review.Spec.Token)
			review.Status.Authenticated = ok && err == nil
			if err != nil {
				review.Status.Error = err.Error()
			}
			if ok && u != nil {
				review.Status.User = userInfo(withAuthenticatedGroup(u))
				review.Status.Audiences = review.Spec.Audiences
			}
			return review, nil
		},
	}
}

// withAuthenticatedGroup adds system:authenticated, which the server adds to
// every user it authenticates.
func withAuthenticatedGroup(u *auth.User) *auth.User {
	for _, g := range u.Groups {
		if g == auth.GroupAuthenticated {
			return u
		}
	}
	c := *u
	c.Groups = append(append([]string(nil), u.Groups...), auth.GroupAuthenticated)
	return &c
}

func userInfo(u *auth.User) authenticationv1.UserInfo {
	info := authenticationv1.UserInfo{Username: u.Name, UID: u.UID, Groups: append([]string(nil), u.Groups...)}
	if len(u.Extra) > 0 {
		info.Extra = make(map[string]authenticationv1.ExtraValue, len(u.Extra))
		for k, v := range u.Extra {
			info.Extra[k] = append(authenticationv1.ExtraValue(nil), v...)
		}
	}
	return info
}
