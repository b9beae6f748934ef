package apiserver

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	pathvalidation "k8s.io/apimachinery/pkg/api/validation/path"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/minik8s/minik8s/pkg/audit"
	"github.com/minik8s/minik8s/pkg/auth"
	"github.com/minik8s/minik8s/pkg/auth/authorizer"
)

// User is an authenticated identity (see package auth).
type User = auth.User

// Attributes are what an authorizer sees of a request (see package authorizer).
type Attributes = authorizer.Attributes

// Authorizer decides on requests (see package authorizer).
type Authorizer = authorizer.Authorizer

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

// WriteGuard checks writes that grant rights (RBAC roles and bindings) against
// the rights of their writer, before admission, as upstream's RBAC storage
// does. requestName is the name in the URL, empty for a create.
type WriteGuard interface {
	Admit(ctx context.Context, u *User, obj, old runtime.Object, requestName string) error
}

// WithUser stores the authenticated user in ctx.
func WithUser(ctx context.Context, u *User) context.Context { return auth.WithUser(ctx, u) }

// UserFrom returns the authenticated user of a request context.
func UserFrom(ctx context.Context) *User { return auth.UserFrom(ctx) }

// authenticate identifies the caller from a client certificate the cluster CA
// signed or a bearer token; anyone else is anonymous, unless anonymous requests
// are turned off. Credentials that do not check out are a 401, as upstream's:
// never anonymity.
func (s *Server) authenticate(r *http.Request) (*User, error) {
	cert, certErr := s.clientCert(r)
	if cert != nil {
		return userFromCert(cert), nil
	}
	if token, ok := bearerToken(r.Header.Get("Authorization")); ok {
		for _, a := range s.cfg.TokenAuthenticators {
			u, ok, err := a.AuthenticateToken(r.Context(), token)
			if err != nil {
				// Why is for the server's log; the client learns no more
				// than upstream tells it.
				s.log.Error("Unable to authenticate the request", "err", err)
				return nil, errUnauthorized
			}
			if ok {
				u.Groups = appendGroup(u.Groups, GroupAuthenticated)
				return u, nil
			}
		}
		return nil, errUnauthorized
	}
	if certErr != nil {
		return nil, certErr
	}
	if s.cfg.DisableAnonymous {
		return nil, errUnauthorized
	}
	return &User{Name: UserAnonymous, Groups: []string{GroupUnauthenticated}}, nil
}

var errUnauthorized = fmt.Errorf("Unauthorized")

// connCert is the client certificate of one connection, verified on the first
// request: the handshake only asks for a certificate (as upstream's), so that
// one from another CA, or expired, is answered with a 401 instead of a failed
// handshake.
type connCert struct {
	once sync.Once
	cert *x509.Certificate
	err  error
}

type connCertKey struct{}

// withConnCert gives each connection its connCert (http.Server.ConnContext).
func withConnCert(ctx context.Context, _ net.Conn) context.Context {
	return context.WithValue(ctx, connCertKey{}, &connCert{})
}

// clientCert returns the request's client certificate once verified against
// the client CA; nil and no error when the client sent none.
func (s *Server) clientCert(r *http.Request) (*x509.Certificate, error) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil, nil
	}
	peers := r.TLS.PeerCertificates
	verify := func() (*x509.Certificate, error) {
		if s.cfg.ClientCA == nil {
			return nil, errors.New("verify client certificate: no client CA")
		}
		intermediates := x509.NewCertPool()
		for _, c := range peers[1:] {
			intermediates.AddCert(c)
		}
		opts := x509.VerifyOptions{Roots: s.cfg.ClientCA, Intermediates: intermediates,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
		if _, err := peers[0].Verify(opts); err != nil {
			return nil, fmt.Errorf("verify client certificate %q: %w", peers[0].Subject.CommonName, err)
		}
		return peers[0], nil
	}
	cc, ok := r.Context().Value(connCertKey{}).(*connCert)
	if !ok {
		return verify()
	}
	cc.once.Do(func() { cc.cert, cc.err = verify() })
	return cc.cert, cc.err
}

// bearerToken reads the token of an Authorization header as upstream's
// authenticator does: the scheme "Bearer" in any case, then the token up to the
// next space. Other schemes, and a header with no token, carry none.
func bearerToken(header string) (string, bool) {
	parts := strings.SplitN(strings.TrimSpace(header), " ", 3)
	if len(parts) < 2 || strings.ToLower(parts[0]) != "bearer" || parts[1] == "" {
		return "", false
	}
	return parts[1], true
}

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

// requestAttributes are what the authorizer sees of a request: for a list or
// watch the name a metadata.name field selector asks for, as upstream sets it.
func requestAttributes(r *http.Request, info *requestInfo, u *User) Attributes {
	a := Attributes{User: u, Verb: info.Verb, IsResource: info.IsResource, Group: info.Group,
		Version: info.Version, Resource: info.Resource, Subresource: info.Subresource,
		Namespace: info.Namespace, Name: info.Name, Path: r.URL.Path}
	if !info.IsResource {
		a.Verb = strings.ToLower(r.Method)
		return a
	}
	if a.Verb == "list" || a.Verb == "watch" {
		a.FieldSelector = r.URL.Query().Get("fieldSelector")
		if a.Name == "" && a.FieldSelector != "" {
			if sel, err := fields.ParseSelector(a.FieldSelector); err == nil {
				if name, ok := sel.RequiresExactMatch("metadata.name"); ok && len(pathvalidation.IsValidPathSegmentName(name)) == 0 {
					a.Name = name
				}
			}
		}
	}
	return a
}

// authorize asks the authorizer about a request; a refusal is upstream's 403.
func (s *Server) authorize(ctx context.Context, a Attributes) error {
	return s.authorizeAudited(ctx, a, nil)
}

// authorizeAudited authorizes and records the decision in the audit event q
// (nil when the request is not audited).
func (s *Server) authorizeAudited(ctx context.Context, a Attributes, q *audit.Request) error {
	d, reason, err := s.cfg.Authorizer.Authorize(ctx, a)
	q.Authorized(d == authorizer.Allow, reason)
	if d == authorizer.Allow {
		return nil
	}
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	return forbidden(a, reason)
}

// forbidden words a refusal as upstream does:
// pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default".
func forbidden(a Attributes, reason string) error {
	name := ""
	if a.User != nil {
		name = a.User.Name
	}
	var msg string
	if a.IsResource {
		res := a.Resource
		if a.Subresource != "" {
			res += "/" + a.Subresource
		}
		msg = fmt.Sprintf("User %q cannot %s resource %q in API group %q", name, a.Verb, res, a.Group)
		if a.Namespace != "" {
			msg += fmt.Sprintf(" in the namespace %q", a.Namespace)
		} else {
			msg += " at the cluster scope"
		}
	} else {
		msg = fmt.Sprintf("User %q cannot %s path %q", name, a.Verb, a.Path)
	}
	if reason != "" {
		msg += ": " + reason
	}
	gr := schema.GroupResource{Group: a.Group, Resource: a.Resource}
	return apierrors.NewForbidden(gr, a.Name, errors.New(msg))
}

// AllowAuthenticated lets every authenticated user do everything, and anonymous
// users read the health and version endpoints: the policy of a server built
// without an authorizer (tests).
type AllowAuthenticated struct{}

// publicPaths are what system:public-info-viewer grants.
var publicPaths = map[string]bool{"/healthz": true, "/livez": true, "/readyz": true, "/version": true, "/version/": true}

// Authorize implements Authorizer.
func (AllowAuthenticated) Authorize(_ context.Context, a Attributes) (authorizer.Decision, string, error) {
	if a.User == nil {
		return authorizer.NoOpinion, "", nil
	}
	for _, g := range a.User.Groups {
		if g == GroupAuthenticated {
			return authorizer.Allow, "", nil
		}
	}
	if !a.IsResource && a.Verb == "get" && publicPaths[a.Path] {
		return authorizer.Allow, "", nil
	}
	return authorizer.NoOpinion, "", nil
}

func typesUID(s string) types.UID { return types.UID(s) }
