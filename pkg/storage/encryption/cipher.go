package encryption

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	"golang.org/x/crypto/nacl/secretbox"
)

// valueCipher seals one value with one key. ctx is the etcd key; only ciphers
// that authenticate additional data use it.
type valueCipher interface {
	seal(plain, ctx []byte) ([]byte, error)
	open(sealed, ctx []byte) ([]byte, error)
}

// aesCBC is the aescbc provider: a random IV, then AES-CBC with PKCS#7 padding.
// It has no integrity check: a wrong key shows up as bad padding or garbage.
type aesCBC struct{ block cipher.Block }

func newAESCBC(key []byte) (valueCipher, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return aesCBC{block: b}, nil
}

func (c aesCBC) seal(plain, _ []byte) ([]byte, error) {
	bs := aes.BlockSize
	pad := bs - len(plain)%bs
	out := make([]byte, bs+len(plain)+pad)
	iv := out[:bs]
	if _, err := rand.Read(iv); err != nil {
		return nil, fmt.Errorf("read IV: %w", err)
	}
	body := out[bs:]
	copy(body, plain)
	copy(body[len(plain):], bytes.Repeat([]byte{byte(pad)}, pad))
	cipher.NewCBCEncrypter(c.block, iv).CryptBlocks(body, body)
	return out, nil
}

var (
	errBlockSize = errors.New("the stored data is not a multiple of the block size")
	errPadding   = errors.New("invalid padding on input")
)

func (c aesCBC) open(sealed, _ []byte) ([]byte, error) {
	bs := aes.BlockSize
	if len(sealed) < 2*bs {
		return nil, errors.New("the stored data was shorter than the required size")
	}
	if len(sealed)%bs != 0 {
		return nil, errBlockSize
	}
	body := make([]byte, len(sealed)-bs)
	cipher.NewCBCDecrypter(c.block, sealed[:bs]).CryptBlocks(body, sealed[bs:])
	pad := int(body[len(body)-1])
	if pad == 0 || pad > bs || pad > len(body) {
		return nil, errPadding
	}
	for _, b := range body[len(body)-pad:] {
		if int(b) != pad {
			return nil, errPadding
		}
	}
	return body[:len(body)-pad], nil
}

// aesGCM is the aesgcm provider: a random 12-byte nonce, then AES-GCM sealing the
// value with the etcd key as additional data.
type aesGCM struct{ aead cipher.AEAD }

func newAESGCM(key []byte) (valueCipher, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		return nil, err
	}
	return aesGCM{aead: a}, nil
}

func (c aesGCM) seal(plain, ctx []byte) ([]byte, error) {
	n := c.aead.NonceSize()
	out := make([]byte, n, n+len(plain)+c.aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, fmt.Errorf("read nonce: %w", err)
	}
	return c.aead.Seal(out, out[:n], plain, ctx), nil
}

func (c aesGCM) open(sealed, ctx []byte) ([]byte, error) {
	n := c.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("the stored data was shorter than the required size")
	}
	return c.aead.Open(nil, sealed[:n], sealed[n:], ctx)
}

// secretBox is the secretbox provider: a random 24-byte nonce, then XSalsa20 and
// Poly1305 (NaCl's secretbox).
type secretBox struct{ key [32]byte }

const secretboxNonceSize = 24

func newSecretbox(key []byte) (valueCipher, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("secretbox key must be 32 bytes, got %d", len(key))
	}
	var s secretBox
	copy(s.key[:], key)
	return s, nil
}

func (c secretBox) seal(plain, _ []byte) ([]byte, error) {
	var nonce [secretboxNonceSize]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, fmt.Errorf("read nonce: %w", err)
	}
	return secretbox.Seal(nonce[:], plain, &nonce, &c.key), nil
}

func (c secretBox) open(sealed, _ []byte) ([]byte, error) {
	if len(sealed) < secretboxNonceSize+secretbox.Overhead {
		return nil, errors.New("the stored data was shorter than the required size")
	}
	var nonce [secretboxNonceSize]byte
	copy(nonce[:], sealed)
	out, ok := secretbox.Open(nil, sealed[secretboxNonceSize:], &nonce, &c.key)
	if !ok {
		return nil, errors.New("output array was not large enough for encryption")
	}
	return out, nil
}
