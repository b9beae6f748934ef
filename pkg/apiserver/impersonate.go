package apiserver

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Upstream's impersonation headers (kubectl --as, --as-group, --as-uid).
const (
	impersonateUser   = "Impersonate-User"
	impersonateGroup  = "Impersonate-Group"
	impersonateUID    = "Impersonate-Uid"
	impersonatePrefix = "Impersonate-Extra-"
)

// impersonate returns the user a request acts as: the caller unless it asks to
// impersonate someone, which it must be allowed to ("impersonate" on users,
// groups, uids and userextras, as upstream authorizes it).
func (s *Server) impersonate(ctx context.Context, r *http.Request, caller *User) (*User, error) {
	name := r.Header.Get(impersonateUser)
	groups := r.Header.Values(impersonateGroup)
	uid := r.Header.Get(impersonateUID)
	extra := map[string][]string{}
	for k, vs := range r.Header {
		if strings.HasPrefix(k, impersonatePrefix) {
			key, err := url.PathUnescape(strings.ToLower(strings.TrimPrefix(k, impersonatePrefix)))
			if err != nil {
				key = strings.ToLower(strings.TrimPrefix(k, impersonatePrefix))
			}
			extra[key] = append(extra[key], vs...)
		}
	}
	if name == "" {
		if len(groups) > 0 || uid != "" || len(extra) > 0 {
			return nil, apierrors.NewBadRequest("requested impersonation of groups, uid or extra fields without impersonating a user")
		}
		return caller, nil
	}
	check := func(resource, n string) error {
		a := Attributes{User: caller, Verb: "impersonate", IsResource: true, Resource: resource, Name: n}
		if resource == "serviceaccounts" {
			ns, sa, _ := strings.Cut(strings.TrimPrefix(n, "system:serviceaccount:"), ":")
			a.Namespace, a.Name = ns, sa
		}
		if resource == "uids" || resource == "userextras" {
			a.Group = "authentication.k8s.io"
		}
		ok, _, err := s.cfg.Authorizer.Authorize(ctx, a)
		if err != nil {
			return err
		}
		if !ok {
			return apierrors.NewForbidden(schema.GroupResource{Resource: resource}, n,
				errors.New(`User "`+caller.Name+`" cannot impersonate resource "`+resource+`" in API group "`+a.Group+`"`))
		}
		return nil
	}
	u := &User{Name: name, UID: uid, Extra: extra}
	if strings.HasPrefix(name, "system:serviceaccount:") {
		if err := check("serviceaccounts", name); err != nil {
			return nil, err
		}
		ns, _, _ := strings.Cut(strings.TrimPrefix(name, "system:serviceaccount:"), ":")
		u.Groups = append(u.Groups, "system:serviceaccounts", "system:serviceaccounts:"+ns)
	} else if err := check("users", name); err != nil {
		return nil, err
	}
	for _, g := range groups {
		if err := check("groups", g); err != nil {
			return nil, err
		}
		u.Groups = appendGroup(u.Groups, g)
	}
	if uid != "" {
		if err := check("uids", uid); err != nil {
			return nil, err
		}
	}
	for k := range extra {
		if err := check("userextras", k); err != nil {
			return nil, err
		}
	}
	if name == UserAnonymous {
		u.Groups = appendGroup(u.Groups, GroupUnauthenticated)
	} else {
		u.Groups = appendGroup(u.Groups, GroupAuthenticated)
	}
	return u, nil
}
