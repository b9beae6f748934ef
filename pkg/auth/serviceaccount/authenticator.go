package serviceaccount

import (
	"context"
	"time"

	"github.com/minik8s/minik8s/pkg/auth"
)

// Lookup finds the UID of a live object, or an error if it is gone.
type Lookup func(ctx context.Context, namespace, name string) (uid string, err error)

// Authenticator accepts tokens this cluster signed for service accounts (and pods)
// that still exist, as upstream's service account authenticator does.
type Authenticator struct {
	Signer         *Signer
	ServiceAccount Lookup
	Pod            Lookup
	Node           Lookup // namespace is empty
}

// AuthenticateToken implements the API server's TokenAuthenticator.
func (a *Authenticator) AuthenticateToken(ctx context.Context, token string) (*auth.User, bool, error) {
	c, err := a.Signer.Verify(token, time.Now())
	if err != nil {
		return nil, false, nil
	}
	k := c.Kubernetes
	uid, err := a.ServiceAccount(ctx, k.Namespace, k.ServiceAccount.Name)
	if err != nil || (k.ServiceAccount.UID != "" && uid != k.ServiceAccount.UID) {
		return nil, false, nil
	}
	u := &auth.User{
		Name:   c.Subject,
		UID:    uid,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + k.Namespace},
		Extra:  map[string][]string{"authentication.kubernetes.io/credential-id": {"JTI=" + c.ID}},
	}
	if k.Pod != nil && a.Pod != nil {
		puid, err := a.Pod(ctx, k.Namespace, k.Pod.Name)
		if err != nil || puid != k.Pod.UID {
			return nil, false, nil
		}
		u.Extra["authentication.kubernetes.io/pod-name"] = []string{k.Pod.Name}
		u.Extra["authentication.kubernetes.io/pod-uid"] = []string{k.Pod.UID}
	}
	if n := k.Node; n != nil {
		// A pod's token names its node for information only; a token bound to
		// the node itself dies with it.
		if k.Pod == nil {
			if a.Node == nil {
				return nil, false, nil
			}
			nuid, err := a.Node(ctx, "", n.Name)
			if err != nil || nuid != n.UID {
				return nil, false, nil
			}
		}
		u.Extra["authentication.kubernetes.io/node-name"] = []string{n.Name}
		if n.UID != "" {
			u.Extra["authentication.kubernetes.io/node-uid"] = []string{n.UID}
		}
	}
	return u, true, nil
}
