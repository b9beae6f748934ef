package serviceaccount

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
)

// Secret-based ("legacy") service account tokens: JWTs that never expire, kept
// in Secrets of type kubernetes.io/service-account-token and valid while that
// Secret holds them, as upstream's pre-TokenRequest tokens.
const (
	// LegacyIssuer is the iss claim of secret-based tokens.
	LegacyIssuer = "kubernetes/serviceaccount"
	// LastUsedLabelKey is the label the authenticator keeps at the UTC date a
	// secret-based token was last presented.
	LastUsedLabelKey = "kubernetes.io/legacy-token-last-used"
	// InvalidSinceLabelKey marks a Secret whose token is refused, set by the
	// legacy token cleaner on an auto-generated token left unused.
	InvalidSinceLabelKey = "kubernetes.io/legacy-token-invalid-since"
	// TrackingConfigMapName is the kube-system ConfigMap saying, under
	// TrackingConfigMapDataKey, the date the API server began tracking use.
	TrackingConfigMapName    = "kube-apiserver-legacy-service-account-token-tracking"
	TrackingConfigMapDataKey = "since"
	// DateFormat is the layout of the labels' and the ConfigMap's dates.
	DateFormat = "2006-01-02"
	// LegacyTokenWarning is the warning a client gets for an auto-generated token.
	LegacyTokenWarning = "Use tokens from the TokenRequest API or manually created secret-based tokens instead of auto-generated secret-based tokens."
)

// LegacyClaims are a secret-based token's claims, in upstream's shape: the
// service account and the Secret are named by claims of their own.
type LegacyClaims struct {
	Issuer             string `json:"iss"`
	Subject            string `json:"sub"`
	Namespace          string `json:"kubernetes.io/serviceaccount/namespace"`
	SecretName         string `json:"kubernetes.io/serviceaccount/secret.name"`
	ServiceAccountName string `json:"kubernetes.io/serviceaccount/service-account.name"`
	ServiceAccountUID  string `json:"kubernetes.io/serviceaccount/service-account.uid"`
}

// IssueLegacy signs a secret-based token of the service account for the Secret
// that will hold it.
func (s *Signer) IssueLegacy(namespace string, sa Ref, secretName string) (string, error) {
	return s.sign(LegacyClaims{Issuer: LegacyIssuer, Subject: username(namespace, sa.Name), Namespace: namespace,
		SecretName: secretName, ServiceAccountName: sa.Name, ServiceAccountUID: sa.UID})
}

// VerifyLegacy checks a secret-based token's signature and claims (not yet
// its Secret: the authenticator does that).
func (s *Signer) VerifyLegacy(token string) (*LegacyClaims, error) {
	payload, err := s.verifySignature(token)
	if err != nil {
		return nil, err
	}
	return legacyClaims(payload)
}

// legacyClaims decodes and checks the claims of a verified secret-based token.
func legacyClaims(payload string) (*LegacyClaims, error) {
	var c LegacyClaims
	if err := decodeJSON(payload, &c); err != nil {
		return nil, errors.New("bad token claims")
	}
	if c.Issuer != LegacyIssuer {
		return nil, errors.New("not a secret-based token")
	}
	// Upstream's checks, in its order and words.
	switch {
	case c.Subject == "":
		return nil, errors.New("sub claim is missing")
	case c.Namespace == "":
		return nil, errors.New("namespace claim is missing")
	case c.SecretName == "":
		return nil, errors.New("secretName claim is missing")
	case c.ServiceAccountName == "":
		return nil, errors.New("serviceAccountName claim is missing")
	case c.ServiceAccountUID == "":
		return nil, errors.New("serviceAccountUID claim is missing")
	case c.Subject != username(c.Namespace, c.ServiceAccountName):
		return nil, errors.New("sub claim is invalid")
	}
	return &c, nil
}

// claimsLegacyIssuer reports whether a token says it is secret-based, before
// anything is verified, so the authenticator knows which checks apply.
func claimsLegacyIssuer(token string) bool {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return false
	}
	var c struct {
		Issuer string `json:"iss"`
	}
	return json.Unmarshal(raw, &c) == nil && c.Issuer == LegacyIssuer
}

func username(namespace, name string) string {
	return "system:serviceaccount:" + namespace + ":" + name
}
