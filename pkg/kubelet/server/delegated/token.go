package delegated

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/cache"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/minik8s/minik8s/pkg/auth"
)

// DefaultTokenCacheTTL is how long an answer about a token is kept, upstream's
// --authentication-token-webhook-cache-ttl default; it holds for tokens found
// invalid too.
const DefaultTokenCacheTTL = 2 * time.Minute

// cacheSize bounds each cache; the oldest answers go first.
const cacheSize = 4096

// TokenReviews creates TokenReviews; client-go's TokenReviewInterface is one.
type TokenReviews interface {
	Create(ctx context.Context, review *authenticationv1.TokenReview, opts metav1.CreateOptions) (*authenticationv1.TokenReview, error)
}

// TokenOptions tune a TokenAuthenticator; the zero value is upstream's default.
type TokenOptions struct {
	// Audiences the token must be meant for; empty leaves it to the API
	// server, which then expects its own, as upstream's kubelet does.
	Audiences []string
	// CacheTTL keeps each answer (DefaultTokenCacheTTL when zero).
	CacheTTL time.Duration
	// Clock drives the cache; nil is the wall clock.
	Clock cache.Clock
	// Backoff spaces retries of reviews that failed for a passing reason.
	Backoff *wait.Backoff
}

// TokenAuthenticator maps a bearer token to a user by asking the API server.
type TokenAuthenticator struct {
	reviews   TokenReviews
	audiences []string
	ttl       time.Duration
	backoff   wait.Backoff
	cache     *cache.LRUExpireCache
}

// tokenAnswer is a cached review: the user, or nil for a token found invalid.
type tokenAnswer struct {
	user *auth.User
	err  error
}

// NewTokenAuthenticator asks reviews about tokens.
func NewTokenAuthenticator(reviews TokenReviews, opts TokenOptions) *TokenAuthenticator {
	a := &TokenAuthenticator{reviews: reviews, audiences: opts.Audiences, ttl: opts.CacheTTL, backoff: defaultBackoff()}
	if a.ttl <= 0 {
		a.ttl = DefaultTokenCacheTTL
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

// AuthenticateToken returns the token's user; ok is false for a token the API
// server does not accept, with its reason as err when it gave one. A review
// that could not be made is an error and is not cached.
func (a *TokenAuthenticator) AuthenticateToken(ctx context.Context, token string) (u *auth.User, ok bool, err error) {
	// The digest, not the token, is kept in memory.
	key := sha256.Sum256([]byte(token))
	if v, hit := a.cache.Get(key); hit {
		ans := v.(tokenAnswer)
		return ans.user, ans.user != nil, ans.err
	}
	review := &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token, Audiences: a.audiences}}
	var result *authenticationv1.TokenReview
	if err := withRetries(ctx, a.backoff, func() error {
		var err error
		result, err = a.reviews.Create(ctx, review, metav1.CreateOptions{})
		return err
	}); err != nil {
		return nil, false, fmt.Errorf("review a bearer token: %w", err)
	}
	ans := answerOf(result.Status, a.audiences)
	a.cache.Add(key, ans, a.ttl)
	return ans.user, ans.user != nil, ans.err
}

func answerOf(st authenticationv1.TokenReviewStatus, audiences []string) tokenAnswer {
	if !st.Authenticated {
		if st.Error != "" {
			return tokenAnswer{err: errors.New(st.Error)}
		}
		return tokenAnswer{}
	}
	// A review that names no audiences answered for the ones asked.
	if len(audiences) > 0 && len(st.Audiences) > 0 && !intersects(audiences, st.Audiences) {
		return tokenAnswer{}
	}
	u := &auth.User{Name: st.User.Username, UID: st.User.UID, Groups: append([]string(nil), st.User.Groups...)}
	if len(st.User.Extra) > 0 {
		u.Extra = make(map[string][]string, len(st.User.Extra))
		for k, v := range st.User.Extra {
			u.Extra[k] = append([]string(nil), v...)
		}
	}
	return tokenAnswer{user: u}
}

func intersects(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}
