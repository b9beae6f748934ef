package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/minik8s/minik8s/pkg/auth/authorizer"
)

// Upstream's impersonation headers (kubectl --as, --as-group, --as-uid).
const (
	impersonateUser   = "Impersonate-User"
	impersonateGroup  = "Impersonate-Group"
	impersonateUID    = "Impersonate-Uid"
	impersonatePrefix = "Impersonate-Extra-"
	saUserPrefix      = "system:serviceaccount:"
)

// impersonate returns the user a request acts as: the caller unless it asks to
// impersonate someone, which it must be allowed to: "impersonate" on the
// users, service accounts, groups, uids and user extras it asks for, as
// upstream authorizes each.
func (s *Server) impersonate(ctx context.Context, r *http.Request, caller *User) (*User, error) {
	name := r.Header.Get(impersonateUser)
	groupHeaders := r.Header.Values(impersonateGroup)
	uid := r.Header.Get(impersonateUID)
	type extraValue struct{ key, value string }
	var extras []extraValue
	for k, vs := range r.Header {
		if strings.HasPrefix(k, impersonatePrefix) {
			key := strings.ToLower(strings.TrimPrefix(k, impersonatePrefix))
			if unescaped, err := url.PathUnescape(key); err == nil {
				key = unescaped
			}
			for _, v := range vs {
				extras = append(extras, extraValue{key, v})
			}
		}
	}
	if name == "" {
		if len(groupHeaders) > 0 || uid != "" || len(extras) > 0 {
			return nil, apierrors.NewInternalError(fmt.Errorf("requested impersonation of groups, uid or user extras without impersonating a user"))
		}
		return caller, nil
	}
	check := func(a Attributes) error {
		a.User, a.Verb, a.IsResource = caller, "impersonate", true
		d, reason, err := s.cfg.Authorizer.Authorize(ctx, a)
		if err != nil || d != authorizer.Allow {
			return forbidden(a, reason)
		}
		return nil
	}
	u := &User{Name: name, UID: uid}
	var groups []string
	if ns, sa, ok := splitServiceAccount(name); ok {
		if err := check(Attributes{Resource: "serviceaccounts", Namespace: ns, Name: sa}); err != nil {
			return nil, err
		}
		if len(groupHeaders) == 0 {
			groups = []string{"system:serviceaccounts", "system:serviceaccounts:" + ns}
		}
	} else if err := check(Attributes{Resource: "users", Name: name}); err != nil {
		return nil, err
	}
	for _, g := range groupHeaders {
		if err := check(Attributes{Resource: "groups", Name: g}); err != nil {
			return nil, err
		}
		groups = append(groups, g)
	}
	for _, e := range extras {
		if err := check(Attributes{Group: "authentication.k8s.io", Resource: "userextras", Subresource: e.key, Name: e.value}); err != nil {
			return nil, err
		}
		if u.Extra == nil {
			u.Extra = map[string][]string{}
		}
		u.Extra[e.key] = append(u.Extra[e.key], e.value)
	}
	if uid != "" {
		if err := check(Attributes{Group: "authentication.k8s.io", Resource: "uids", Name: uid}); err != nil {
			return nil, err
		}
	}
	// Everyone but the anonymous user is authenticated, unless the caller
	// said which of the two it is.
	if name == UserAnonymous {
		groups = appendGroup(groups, GroupUnauthenticated)
	} else if !hasGroup(groups, GroupAuthenticated) && !hasGroup(groups, GroupUnauthenticated) {
		groups = append(groups, GroupAuthenticated)
	}
	u.Groups = groups
	return u, nil
}

// splitServiceAccount parses system:serviceaccount:<namespace>:<name>.
func splitServiceAccount(user string) (namespace, name string, ok bool) {
	rest, found := strings.CutPrefix(user, saUserPrefix)
	if !found {
		return "", "", false
	}
	namespace, name, ok = strings.Cut(rest, ":")
	if !ok || namespace == "" || name == "" || strings.Contains(name, ":") {
		return "", "", false
	}
	return namespace, name, true
}

func hasGroup(groups []string, g string) bool {
	for _, have := range groups {
		if have == g {
			return true
		}
	}
	return false
}
