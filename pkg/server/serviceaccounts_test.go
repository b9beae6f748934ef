package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/minik8s/minik8s/pkg/auth/serviceaccount"
)

func TestOIDCDiscoveryNamesKeysUnderTheIssuer(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := serviceaccount.NewSigner(key, serviceaccount.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	oidcHandlers(signer)["/.well-known/openid-configuration"].ServeHTTP(rec, httptest.NewRequest("GET", "/.well-known/openid-configuration", nil))
	var doc map[string]interface{}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["issuer"] != "https://kubernetes.default.svc.cluster.local" || doc["jwks_uri"] != "https://kubernetes.default.svc.cluster.local/openid/v1/jwks" {
		t.Errorf("discovery document = %v", doc)
	}
}
