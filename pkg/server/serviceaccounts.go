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
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"

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
	ec, err := serviceaccount.ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("service account key %s: %w", file, err)
	}
	return serviceaccount.NewSigner(ec, serviceaccount.Issuer)
}

// serviceAccountAuthenticator checks tokens against live service accounts and
// pods, and secret-based tokens against their Secrets, whose last-used labels
// tracker keeps.
func serviceAccountAuthenticator(signer *serviceaccount.Signer, reg *registry.Registry, tracker *serviceaccount.LastUsedTracker) *serviceaccount.Authenticator {
	get := func(ctx context.Context, resource, ns, name string) (runtime.Object, error) {
		res := reg.Get(schema.GroupVersionResource{Version: "v1", Resource: resource})
		return res.Store.Get(ctx, res.Store.Key(ns, name), name, storage.ReadOptions{ResourceVersion: "0"})
	}
	lookup := func(resource string) serviceaccount.Lookup {
		return func(ctx context.Context, ns, name string) (string, error) {
			obj, err := get(ctx, resource, ns, name)
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
	return &serviceaccount.Authenticator{Signer: signer, ServiceAccount: lookup("serviceaccounts"), Pod: lookup("pods"), Node: lookup("nodes"),
		Secrets:         typedGetter[*corev1.Secret](get, "secrets"),
		ServiceAccounts: typedGetter[*corev1.ServiceAccount](get, "serviceaccounts"),
		LastUsed:        tracker}
}

// typedGetter reads objects of one core resource as their Go type.
func typedGetter[T runtime.Object](get func(ctx context.Context, resource, ns, name string) (runtime.Object, error), resource string) serviceaccount.Getter[T] {
	return func(ctx context.Context, ns, name string) (T, error) {
		var zero T
		obj, err := get(ctx, resource, ns, name)
		if err != nil {
			return zero, err
		}
		t, ok := obj.(T)
		if !ok {
			return zero, fmt.Errorf("%s %s/%s: unexpected %T", resource, ns, name, obj)
		}
		return t, nil
	}
}

// lastUsedTracker writes secret-based tokens' last-used labels through the
// API, as the server's loopback client.
func lastUsedTracker(loopback *rest.Config, log *slog.Logger) (*serviceaccount.LastUsedTracker, error) {
	client, err := corev1client.NewForConfig(loopback)
	if err != nil {
		return nil, fmt.Errorf("secret client for legacy token tracking: %w", err)
	}
	return serviceaccount.NewLastUsedTracker(serviceaccount.LastUsedConfig{Log: log,
		Patch: func(ctx context.Context, ns, name string, patch []byte) error {
			_, err := client.Secrets(ns).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
			return err
		}})
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
