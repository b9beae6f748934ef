package encryption

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	apiserverv1 "k8s.io/apiserver/pkg/apis/apiserver/v1"
	"sigs.k8s.io/yaml"

	"github.com/minik8s/minik8s/pkg/atomicfile"
)

// EnsureDefault makes sure path holds an EncryptionConfiguration and returns it
// loaded. A missing file is created: Secrets encrypted with aescbc under a new
// random 32-byte key, identity after it so that Secrets written before
// encryption was on still read. The file is the server's own; an administrator
// rotates the key by editing it.
func EnsureDefault(path string) (*Config, error) {
	if _, err := os.Stat(path); err == nil {
		return Load(path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("encryption provider config: %w", err)
	}
	data, err := DefaultConfigYAML()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		return nil, fmt.Errorf("write encryption provider config: %w", err)
	}
	return Parse(data)
}

// DefaultConfigYAML is a new configuration encrypting Secrets with a fresh key.
func DefaultConfigYAML() ([]byte, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate encryption key: %w", err)
	}
	ec := apiserverv1.EncryptionConfiguration{
		Resources: []apiserverv1.ResourceConfiguration{{
			Resources: []string{"secrets"},
			Providers: []apiserverv1.ProviderConfiguration{
				{AESCBC: &apiserverv1.AESConfiguration{Keys: []apiserverv1.Key{{Name: "key1", Secret: base64.StdEncoding.EncodeToString(key)}}}},
				{Identity: &apiserverv1.IdentityConfiguration{}},
			},
		}},
	}
	ec.APIVersion = apiserverv1.SchemeGroupVersion.String()
	ec.Kind = "EncryptionConfiguration"
	return yaml.Marshal(&ec)
}
