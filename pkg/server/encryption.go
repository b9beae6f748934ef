package server

import "github.com/minik8s/minik8s/pkg/storage/encryption"

// loadEncryption reads --encryption-provider-config, or the data dir's own
// configuration, made on first start, which encrypts Secrets.
func loadEncryption(cfg *Config) (*encryption.Config, error) {
	if cfg.EncryptionProviderConfig != "" {
		return encryption.Load(cfg.EncryptionProviderConfig)
	}
	return encryption.EnsureDefault(cfg.encryptionConfigFile())
}
