package serviceaccount

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

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

	// Secrets and ServiceAccounts read the objects a secret-based token is
	// checked against; without both such tokens are refused.
	Secrets         Getter[*corev1.Secret]
	ServiceAccounts Getter[*corev1.ServiceAccount]
	// LastUsed keeps the Secrets' last-used labels; nil keeps none.
	LastUsed *LastUsedTracker
}

// Getter reads one object; callers do not modify what it returns.
type Getter[T any] func(ctx context.Context, namespace, name string) (T, error)

// AuthenticateToken implements the API server's TokenAuthenticator.
func (a *Authenticator) AuthenticateToken(ctx context.Context, token string) (*auth.User, bool, error) {
	if claimsLegacyIssuer(token) {
		return a.authenticateLegacy(ctx, token)
	}
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

// authenticateLegacy accepts a secret-based token while its Secret holds it,
// its service account is the one it names and the Secret is not marked
// invalid, as upstream's legacy token validator does: the reasons for a refusal
// are returned as errors, which the API server logs (the client only sees 401).
// A token that is used, accepted or not, gets its Secret's last-used label.
func (a *Authenticator) authenticateLegacy(ctx context.Context, token string) (*auth.User, bool, error) {
	// Not signed here: some other authenticator's, or nobody's.
	payload, err := a.Signer.verifySignature(token)
	if err != nil {
		return nil, false, nil
	}
	c, err := legacyClaims(payload)
	if err != nil {
		return nil, false, err
	}
	if a.Secrets == nil || a.ServiceAccounts == nil {
		return nil, false, nil
	}
	ns := c.Namespace
	secret, err := a.Secrets(ctx, ns, c.SecretName)
	if err != nil || secret.DeletionTimestamp != nil {
		return nil, false, errors.New("Token has been invalidated")
	}
	if subtle.ConstantTimeCompare(secret.Data[corev1.ServiceAccountTokenKey], []byte(token)) == 0 {
		return nil, false, errors.New("Token does not match server's copy")
	}
	sa, err := a.ServiceAccounts(ctx, ns, c.ServiceAccountName)
	if err != nil {
		return nil, false, fmt.Errorf("get service account %s/%s: %w", ns, c.ServiceAccountName, err)
	}
	if sa.DeletionTimestamp != nil {
		return nil, false, fmt.Errorf("ServiceAccount %s/%s has been deleted", ns, c.ServiceAccountName)
	}
	if string(sa.UID) != c.ServiceAccountUID {
		return nil, false, fmt.Errorf("ServiceAccount UID (%s) does not match claim (%s)", sa.UID, c.ServiceAccountUID)
	}
	notes := auth.NotesFrom(ctx)
	notes.Annotate("authentication.k8s.io/legacy-token", c.Subject)
	if secret.Labels[InvalidSinceLabelKey] != "" {
		notes.Annotate("authentication.k8s.io/legacy-token-invalidated", secret.Name+"/"+secret.Namespace)
		a.LastUsed.Used(secret)
		return nil, false, fmt.Errorf("the token in secret %s/%s for service account %s/%s has been marked invalid. "+
			"Use tokens from the TokenRequest API or manually created secret-based tokens, "+
			"or remove the '%s' label from the secret to temporarily allow use of this token",
			ns, c.SecretName, ns, c.ServiceAccountName, InvalidSinceLabelKey)
	}
	if listsSecret(sa, secret.Name) {
		notes.Warn(LegacyTokenWarning)
		notes.Annotate("authentication.k8s.io/legacy-token-autogenerated-secret", secret.Name)
	} else {
		notes.Annotate("authentication.k8s.io/legacy-token-manual-secret", secret.Name)
	}
	a.LastUsed.Used(secret)
	return &auth.User{
		Name:   c.Subject,
		UID:    c.ServiceAccountUID,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns},
	}, true, nil
}

// listsSecret: the account's secrets name it, which is how upstream tells an
// auto-generated token from one a user made.
func listsSecret(sa *corev1.ServiceAccount, name string) bool {
	for _, ref := range sa.Secrets {
		if ref.Name == name {
			return true
		}
	}
	return false
}
