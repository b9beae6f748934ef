package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/atomicfile"
	"github.com/minik8s/minik8s/pkg/auth/serviceaccount"
	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/storage"
)

// serviceAccountSigner loads (or makes, on first start) the key tokens are signed with.
func serviceAccountSigner(cfg *Config) (*serviceaccount.Signer, error) {
	file := filepath.Join(cfg.tlsDir(), "service-account.key")
	data, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, err
		}
		data = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
		if err := atomicfile.Write(file, data, 0o600); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("read service account key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s: not PEM", file)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", file, err)
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an ECDSA key", file)
	}
	return serviceaccount.NewSigner(ec, serviceaccount.Issuer)
}

// serviceAccountAuthenticator checks tokens against live service accounts and pods.
func serviceAccountAuthenticator(signer *serviceaccount.Signer, reg *registry.Registry) *serviceaccount.Authenticator {
	lookup := func(resource string) serviceaccount.Lookup {
		return func(ctx context.Context, ns, name string) (string, error) {
			res := reg.Get(schema.GroupVersionResource{Version: "v1", Resource: resource})
			obj, err := res.Store.Get(ctx, res.Store.Key(ns, name), name, storage.ReadOptions{ResourceVersion: "0"})
			if err != nil {
				return "", err
			}
			m, err := meta.Accessor(obj)
			if err != nil {
				return "", err
			}
			return string(m.GetUID()), nil
		}
	}
	return &serviceaccount.Authenticator{Signer: signer, ServiceAccount: lookup("serviceaccounts"), Pod: lookup("pods"), Node: lookup("nodes")}
}

// oidcHandlers publish the issuer's discovery document and keys, as upstream does.
// The keys are announced under the issuer's own host, the in-cluster name of the
// API server: pods that verify tokens reach it there, and the serving
// certificate names it (this server's own address may be loopback).
func oidcHandlers(signer *serviceaccount.Signer) map[string]http.Handler {
	return map[string]http.Handler{
		"/.well-known/openid-configuration": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]interface{}{
				"issuer":                                signer.Issuer(),
				"jwks_uri":                              strings.TrimSuffix(signer.Issuer(), "/") + "/openid/v1/jwks",
				"response_types_supported":              []string{"id_token"},
				"subject_types_supported":               []string{"public"},
				"id_token_signing_alg_values_supported": []string{"ES256"},
			})
		}),
		"/openid/v1/jwks": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/jwk-set+json")
			_ = json.NewEncoder(w).Encode(signer.JWKS())
		}),
	}
}
