package serviceaccount

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// ParsePrivateKeyPEM reads the service account signing key: an ECDSA P-256
// key, PKCS#8 ("PRIVATE KEY") or SEC 1 ("EC PRIVATE KEY") PEM.
func ParsePrivateKeyPEM(data []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("not PEM")
	}
	switch block.Type {
	case "EC PRIVATE KEY":
		return x509.ParseECPrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		ec, ok := key.(*ecdsa.PrivateKey)
		if !ok {
			return nil, errors.New("not an ECDSA key")
		}
		return ec, nil
	default:
		return nil, fmt.Errorf("PEM block of type %q: want an ECDSA private key", block.Type)
	}
}

// LoadSigner reads the signing key from file (upstream's
// --service-account-private-key-file) for tokens of issuer.
func LoadSigner(file, issuer string) (*Signer, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read service account key: %w", err)
	}
	key, err := ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("service account key %s: %w", file, err)
	}
	return NewSigner(key, issuer)
}
