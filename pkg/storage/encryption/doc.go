// Package encryption encrypts API objects at rest, configured by an
// apiserver.config.k8s.io/v1 EncryptionConfiguration as kube-apiserver's
// --encryption-provider-config is.
//
// Each resource gets an ordered list of providers. The first one encrypts what is
// written; all of them are tried, by the prefix the value carries, when reading.
// Encrypted values look like upstream's: "k8s:enc:<provider>:v1:<key name>:" then
// the provider's ciphertext, so a key is rotated by listing the new key first and
// the old ones after it. identity stores values as they are and reads values that
// carry no prefix, which is how data written before encryption keeps reading.
package encryption
