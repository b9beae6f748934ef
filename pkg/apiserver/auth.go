package apiserver

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/http"
	"strings"

	"k8s.io/apimachinery/pkg/types"

	"github.com/minik8s/minik8s/pkg/auth"
)

// User is an authenticated identity (see package auth).
type User = auth.User

// Well-known groups and users.
const (
	GroupAuthenticated   = auth.GroupAuthenticated
	GroupUnauthenticated = auth.GroupUnauthenticated
	GroupMasters         = auth.GroupMasters
	UserAnonymous        = auth.UserAnonymous
)

// TokenAuthenticator maps a bearer token to a user; ok is false for unknown tokens.
type TokenAuthenticator interface {
	AuthenticateToken(ctx context.Context, token string) (*User, bool, error)
}

// Authorizer decides whether a user may make a request.
type Authorizer interface {
	Authorize(ctx context.Context, a Attributes) (allowed bool, reason string, err error)
}

// Attributes are what an authorizer sees of a request.
type Attributes struct {
	User        *User
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

// WithUser stores the authenticated user in ctx.
func WithUser(ctx context.Context, u *User) context.Context { return auth.WithUser(ctx, u) }

// UserFrom returns the authenticated user of a request context.
func UserFrom(ctx context.Context) *User { return auth.UserFrom(ctx) }

// authenticate identifies the caller from a verified client certificate or a bearer
// token; anyone else is anonymous.
func (s *Server) authenticate(r *http.Request) (*User, error) {
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 && len(r.TLS.VerifiedChains[0]) > 0 {
		return userFromCert(r.TLS.VerifiedChains[0][0]), nil
	}
	if h := r.Header.Get("Authorization"); h != "" {
		token, ok := strings.CutPrefix(h, "Bearer ")
		if ok && strings.TrimSpace(token) != "" {
			for _, a := range s.cfg.TokenAuthenticators {
				u, ok, err := a.AuthenticateToken(r.Context(), strings.TrimSpace(token))
				if err != nil {
					return nil, err
				}
				if ok {
					u.Groups = appendGroup(u.Groups, GroupAuthenticated)
					return u, nil
				}
			}
			return nil, errUnauthorized
		}
	}
	return &User{Name: UserAnonymous, Groups: []string{GroupUnauthenticated}}, nil
}

var errUnauthorized = fmt.Errorf("Unauthorized")

func userFromCert(c *x509.Certificate) *User {
	return &User{
		Name:   c.Subject.CommonName,
		Groups: appendGroup(append([]string(nil), c.Subject.Organization...), GroupAuthenticated),
	}
}

func appendGroup(groups []string, g string) []string {
	for _, have := range groups {
		if have == g {
			return groups
		}
	}
	return append(groups, g)
}

// AllowAuthenticated lets every authenticated user do everything, and anonymous
// users read the health and version endpoints, as upstream's default RBAC roles do.
type AllowAuthenticated struct{}

// /cacerts lets a joining agent fetch the CA, which it checks against its token.
var publicPaths = map[string]bool{"/healthz": true, "/livez": true, "/readyz": true, "/version": true, "/version/": true, "/cacerts": true}

// Authorize implements Authorizer.
func (AllowAuthenticated) Authorize(_ context.Context, a Attributes) (bool, string, error) {
	for _, g := range a.User.Groups {
		if g == GroupAuthenticated {
			return true, "", nil
		}
	}
	if !a.IsResource && (publicPaths[a.Path] || strings.HasPrefix(a.Path, "/healthz/") ||
		strings.HasPrefix(a.Path, "/livez/") || strings.HasPrefix(a.Path, "/readyz/")) {
		return true, "", nil
	}
	return false, "", nil
}

func typesUID(s string) types.UID { return types.UID(s) }
