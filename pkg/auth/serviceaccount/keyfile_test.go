package serviceaccount

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadSignerReadsPKCS8AndSEC1Keys(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(key)
	sec1, _ := x509.MarshalECPrivateKey(key)
	for name, block := range map[string]*pem.Block{"pkcs8": {Type: "PRIVATE KEY", Bytes: pkcs8}, "sec1": {Type: "EC PRIVATE KEY", Bytes: sec1}} {
		file := filepath.Join(t.TempDir(), name+".key")
		if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := LoadSigner(file, Issuer)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		token, err := s.IssueLegacy("ns", Ref{Name: "app", UID: "u"}, "app-token")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.VerifyLegacy(token); err != nil {
			t.Errorf("%s: a token it signed does not verify: %v", name, err)
		}
	}
}

func TestParsePrivateKeyPEMRefusesOtherKeys(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	for name, data := range map[string][]byte{
		"not PEM":       []byte("hello"),
		"an RSA key":    pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		"a certificate": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("x")}),
	} {
		if _, err := ParsePrivateKeyPEM(data); err == nil {
			t.Errorf("%s is accepted", name)
		}
	}
	if _, err := LoadSigner(filepath.Join(t.TempDir(), "missing"), Issuer); err == nil || !strings.Contains(err.Error(), "read service account key") {
		t.Errorf("a missing file: %v", err)
	}
}
