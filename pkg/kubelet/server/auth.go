package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/minik8s/minik8s/pkg/auth"
	"github.com/minik8s/minik8s/pkg/auth/authorizer"
)

// TokenAuthenticator maps a bearer token to a user; ok is false for a token it
// does not accept. *delegated.TokenAuthenticator is one.
type TokenAuthenticator interface {
	AuthenticateToken(ctx context.Context, token string) (u *auth.User, ok bool, err error)
}

// errInvalidToken is a token the reviewer does not accept, as opposed to one
// it could not review.
var errInvalidToken = errors.New("invalid bearer token")

// gate authenticates and authorizes each request as upstream's kubelet does
// with --anonymous-auth=false (kubeadm's and k3s's setting),
// --authentication-token-webhook and --authorization-mode=Webhook.
type gate struct {
	nodeName string
	tokens   TokenAuthenticator
	authz    authorizer.Authorizer
	log      *slog.Logger
}

// check answers 0 for a request that may go ahead, else the status and body
// to refuse it with, upstream's text.
func (g *gate) check(r *http.Request) (int, string) {
	u, fromCert, err := g.authenticate(r)
	if errors.Is(err, errInvalidToken) {
		g.log.Debug("refused an invalid bearer token", "path", r.URL.Path)
		return http.StatusUnauthorized, "Unauthorized"
	}
	if err != nil {
		g.log.Warn("unable to authenticate a request", "path", r.URL.Path, "err", err)
		return http.StatusUnauthorized, "Unauthorized"
	}
	if u == nil {
		return http.StatusUnauthorized, "Unauthorized"
	}
	// The API server (logs, exec, the node proxy, metrics) and cluster admins
	// pass without a review: the API server would allow them anyway.
	if slices.Contains(u.Groups, mastersGroup) || (fromCert && u.Name == apiserverKubeletCN) {
		return 0, ""
	}
	attrs := requestAttributes(u, r, g.nodeName)
	subs := make([]string, 0, len(attrs))
	for _, a := range attrs {
		subs = append(subs, a.Subresource)
		d, _, err := g.authz.Authorize(r.Context(), a)
		if err != nil {
			g.log.Error("authorization error", "user", u.Name, "verb", a.Verb, "subresource", a.Subresource, "err", err)
			return http.StatusInternalServerError, fmt.Sprintf("Authorization error (user=%s, verb=%s, resource=%s, subresource=%s)",
				u.Name, a.Verb, a.Resource, a.Subresource)
		}
		if d == authorizer.Allow {
			return 0, ""
		}
	}
	g.log.Debug("forbidden", "user", u.Name, "verb", attrs[0].Verb, "subresources", subs)
	return http.StatusForbidden, fmt.Sprintf("Forbidden (user=%s, verb=%s, resource=%s, subresource(s)=%v)\n",
		u.Name, attrs[0].Verb, attrs[0].Resource, subs)
}

// authenticate finds the caller: a client certificate of the cluster CA first,
// else a bearer token. No credentials is a nil user; a token that fails is an
// error. fromCert says the user came from a certificate.
func (g *gate) authenticate(r *http.Request) (u *auth.User, fromCert bool, err error) {
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 && len(r.TLS.VerifiedChains[0]) > 0 {
		if cert := r.TLS.VerifiedChains[0][0]; cert.Subject.CommonName != "" {
			groups := append(append([]string(nil), cert.Subject.Organization...), auth.GroupAuthenticated)
			return &auth.User{Name: cert.Subject.CommonName, Groups: groups}, true, nil
		}
	}
	token, ok := bearerToken(r.Header.Get("Authorization"))
	if !ok {
		return nil, false, nil
	}
	u, ok, err = g.tokens.AuthenticateToken(r.Context(), token)
	if err != nil {
		return nil, false, err
	}
	if !ok || u == nil {
		return nil, false, errInvalidToken
	}
	// Nothing behind the node's API needs the caller's token.
	r.Header.Del("Authorization")
	if u.Name != auth.UserAnonymous && !slices.Contains(u.Groups, auth.GroupAuthenticated) {
		c := *u
		c.Groups = append(append([]string(nil), u.Groups...), auth.GroupAuthenticated)
		u = &c
	}
	return u, false, nil
}

// bearerToken reads "Bearer TOKEN" (the scheme in any case), as upstream does.
func bearerToken(header string) (string, bool) {
	parts := strings.SplitN(strings.TrimSpace(header), " ", 3)
	if len(parts) < 2 || !strings.EqualFold(parts[0], "bearer") || parts[1] == "" {
		return "", false
	}
	return parts[1], true
}
