package delegated

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/cache"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/minik8s/minik8s/pkg/auth/authorizer"
)

// Upstream's --authorization-webhook-cache-authorized-ttl and
// -unauthorized-ttl defaults: a refusal is forgotten sooner, so a new binding
// takes effect within half a minute.
const (
	DefaultAllowCacheTTL = 5 * time.Minute
	DefaultDenyCacheTTL  = 30 * time.Second
)

// SubjectAccessReviews creates SubjectAccessReviews; client-go's
// SubjectAccessReviewInterface is one.
type SubjectAccessReviews interface {
	Create(ctx context.Context, review *authorizationv1.SubjectAccessReview, opts metav1.CreateOptions) (*authorizationv1.SubjectAccessReview, error)
}

// AccessOptions tune an Authorizer; the zero value is upstream's default.
type AccessOptions struct {
	AllowCacheTTL time.Duration
	DenyCacheTTL  time.Duration
	// Clock drives the cache; nil is the wall clock.
	Clock cache.Clock
	// Backoff spaces retries of reviews that failed for a passing reason.
	Backoff *wait.Backoff
}

// Authorizer decides on requests by asking the API server.
type Authorizer struct {
	reviews  SubjectAccessReviews
	allowTTL time.Duration
	denyTTL  time.Duration
	backoff  wait.Backoff
	cache    *cache.LRUExpireCache
}

var _ authorizer.Authorizer = (*Authorizer)(nil)

// NewAuthorizer asks reviews about requests.
func NewAuthorizer(reviews SubjectAccessReviews, opts AccessOptions) *Authorizer {
	a := &Authorizer{reviews: reviews, allowTTL: opts.AllowCacheTTL, denyTTL: opts.DenyCacheTTL, backoff: defaultBackoff()}
	if a.allowTTL <= 0 {
		a.allowTTL = DefaultAllowCacheTTL
	}
	if a.denyTTL <= 0 {
		a.denyTTL = DefaultDenyCacheTTL
	}
	if opts.Backoff != nil {
		a.backoff = *opts.Backoff
	}
	if opts.Clock != nil {
		a.cache = cache.NewLRUExpireCacheWithClock(cacheSize, opts.Clock)
	} else {
		a.cache = cache.NewLRUExpireCache(cacheSize)
	}
	return a
}

// Authorize answers Allow, Deny (the API server's authorizers refused outright)
// or NoOpinion (nothing allowed it), with the API server's reason. A review that
// could not be made is an error and is not cached.
func (a *Authorizer) Authorize(ctx context.Context, attrs authorizer.Attributes) (authorizer.Decision, string, error) {
	spec := specOf(attrs)
	raw, err := json.Marshal(spec)
	if err != nil {
		return authorizer.NoOpinion, "", fmt.Errorf("encode a subject access review: %w", err)
	}
	key := string(raw)
	var st authorizationv1.SubjectAccessReviewStatus
	if v, hit := a.cache.Get(key); hit {
		st = v.(authorizationv1.SubjectAccessReviewStatus)
	} else {
		review := &authorizationv1.SubjectAccessReview{Spec: spec}
		var result *authorizationv1.SubjectAccessReview
		if err := withRetries(ctx, a.backoff, func() error {
			var err error
			result, err = a.reviews.Create(ctx, review, metav1.CreateOptions{})
			return err
		}); err != nil {
			return authorizer.NoOpinion, "", fmt.Errorf("review access: %w", err)
		}
		st = result.Status
		ttl := a.denyTTL
		if st.Allowed {
			ttl = a.allowTTL
		}
		a.cache.Add(key, st, ttl)
	}
	switch {
	case st.Allowed && st.Denied:
		return authorizer.Deny, st.Reason, fmt.Errorf("the subject access review both allowed and denied the request")
	case st.Denied:
		return authorizer.Deny, st.Reason, nil
	case st.Allowed:
		return authorizer.Allow, st.Reason, nil
	}
	return authorizer.NoOpinion, st.Reason, nil
}

// specOf is the review of a request: who asks, and what for.
func specOf(attrs authorizer.Attributes) authorizationv1.SubjectAccessReviewSpec {
	var spec authorizationv1.SubjectAccessReviewSpec
	if u := attrs.User; u != nil {
		spec.User, spec.UID, spec.Groups = u.Name, u.UID, u.Groups
		if len(u.Extra) > 0 {
			spec.Extra = make(map[string]authorizationv1.ExtraValue, len(u.Extra))
			for k, v := range u.Extra {
				spec.Extra[k] = v
			}
		}
	}
	if attrs.IsResource {
		spec.ResourceAttributes = &authorizationv1.ResourceAttributes{
			Namespace: attrs.Namespace, Verb: attrs.Verb, Group: attrs.Group, Version: attrs.Version,
			Resource: attrs.Resource, Subresource: attrs.Subresource, Name: attrs.Name,
		}
	} else {
		spec.NonResourceAttributes = &authorizationv1.NonResourceAttributes{Path: attrs.Path, Verb: attrs.Verb}
	}
	return spec
}
