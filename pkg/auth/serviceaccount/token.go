// Package serviceaccount issues and checks service account tokens: JWTs signed
// with ES256 by the cluster's service account key, carrying upstream's claims, so
// programs in pods authenticate as system:serviceaccount:<namespace>:<name>.
package serviceaccount

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Issuer is the default issuer and audience of the cluster's tokens.
const Issuer = "https://kubernetes.default.svc.cluster.local"

// Claims are a token's claims, in upstream's shape.
type Claims struct {
	Issuer     string            `json:"iss"`
	Subject    string            `json:"sub"`
	Audience   []string          `json:"aud"`
	Expiry     int64             `json:"exp"`
	IssuedAt   int64             `json:"iat"`
	NotBefore  int64             `json:"nbf"`
	ID         string            `json:"jti,omitempty"`
	Kubernetes *KubernetesClaims `json:"kubernetes.io,omitempty"`
}

// KubernetesClaims bind a token to its service account and, optionally, a pod.
type KubernetesClaims struct {
	Namespace      string `json:"namespace"`
	ServiceAccount Ref    `json:"serviceaccount"`
	Pod            *Ref   `json:"pod,omitempty"`
	Node           *Ref   `json:"node,omitempty"`
}

// Ref names an object.
type Ref struct {
	Name string `json:"name"`
	UID  string `json:"uid"`
}

// Signer signs and verifies tokens with one ECDSA P-256 key.
type Signer struct {
	key    *ecdsa.PrivateKey
	keyID  string
	issuer string
}

// NewSigner uses key for tokens of issuer.
func NewSigner(key crypto.Signer, issuer string) (*Signer, error) {
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		return nil, errors.New("service account key must be ECDSA P-256")
	}
	der, err := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(der)
	return &Signer{key: ec, keyID: base64.RawURLEncoding.EncodeToString(sum[:]), issuer: issuer}, nil
}

// Issuer is the iss claim of this signer's tokens.
func (s *Signer) Issuer() string { return s.issuer }

// Binding is what a token is bound to besides its service account: a pod (and
// the node it runs on, for information) or a node.
type Binding struct {
	Pod  *Ref
	Node *Ref
}

// Issue signs a token for the service account, valid for ttl.
func (s *Signer) Issue(namespace string, sa Ref, bound Binding, audiences []string, ttl time.Duration, now time.Time) (string, time.Time, error) {
	if len(audiences) == 0 {
		audiences = []string{s.issuer}
	}
	exp := now.Add(ttl)
	c := Claims{
		Issuer: s.issuer, Subject: "system:serviceaccount:" + namespace + ":" + sa.Name, Audience: audiences,
		Expiry: exp.Unix(), IssuedAt: now.Unix(), NotBefore: now.Unix(), ID: uuid.NewString(),
		Kubernetes: &KubernetesClaims{Namespace: namespace, ServiceAccount: sa, Pod: bound.Pod, Node: bound.Node},
	}
	token, err := s.sign(c)
	if err != nil {
		return "", time.Time{}, err
	}
	return token, exp, nil
}

// Verify checks a token's signature, issuer and time, and returns its claims.
func (s *Signer) Verify(token string, now time.Time) (*Claims, error) {
	payload, err := s.verifySignature(token)
	if err != nil {
		return nil, err
	}
	var c Claims
	if err := decodeJSON(payload, &c); err != nil {
		return nil, errors.New("bad token claims")
	}
	if c.Issuer != s.issuer {
		return nil, errors.New("token issuer is not this cluster")
	}
	if now.Unix() > c.Expiry || now.Unix()+60 < c.NotBefore {
		return nil, errors.New("token has expired")
	}
	if c.Kubernetes == nil || !strings.HasPrefix(c.Subject, "system:serviceaccount:") {
		return nil, errors.New("not a service account token")
	}
	return &c, nil
}

// sign makes a compact JWS of claims with the signer's key.
func (s *Signer) sign(claims interface{}) (string, error) {
	header, _ := json.Marshal(map[string]string{"alg": "ES256", "kid": s.keyID})
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signing := b64(header) + "." + b64(payload)
	digest := sha256.Sum256([]byte(signing))
	r, sg, err := ecdsa.Sign(rand.Reader, s.key, digest[:])
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	sg.FillBytes(sig[32:])
	return signing + "." + b64(sig), nil
}

// verifySignature checks that token is a JWS this signer made, and returns its
// still encoded payload.
func (s *Signer) verifySignature(token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New("not a JWT")
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if err := decodeJSON(parts[0], &header); err != nil || header.Alg != "ES256" {
		return "", errors.New("unsupported token header")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return "", errors.New("bad token signature")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, sg := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(&s.key.PublicKey, digest[:], r, sg) {
		return "", errors.New("token signature is invalid")
	}
	return parts[1], nil
}

// JWKS is the public key set, for /openid/v1/jwks.
func (s *Signer) JWKS() map[string]interface{} {
	pub := s.key.PublicKey
	x := make([]byte, 32)
	y := make([]byte, 32)
	pub.X.FillBytes(x)
	pub.Y.FillBytes(y)
	return map[string]interface{}{"keys": []map[string]string{{
		"use": "sig", "kty": "EC", "kid": s.keyID, "crv": "P-256", "alg": "ES256", "x": b64(x), "y": b64(y),
	}}}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func decodeJSON(s string, v interface{}) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
