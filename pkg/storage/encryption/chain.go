package encryption

import (
	"bytes"
	"errors"
	"fmt"
)

// encPrefix starts every value a cipher provider wrote.
const encPrefix = "k8s:enc:"

// keyedCipher is one key of one provider, with the prefix its values carry.
type keyedCipher struct {
	prefix []byte // k8s:enc:<provider>:v1:<key name>:
	c      valueCipher
}

// Chain is the providers of one resource in order: the first writes, any reads.
// A nil keyed entry is identity.
type Chain struct {
	entries []*keyedCipher
}

// ToStorage encrypts with the first provider's first key.
func (ch *Chain) ToStorage(plain []byte, key string) ([]byte, error) {
	if len(ch.entries) == 0 || ch.entries[0] == nil {
		return plain, nil
	}
	first := ch.entries[0]
	sealed, err := first.c.seal(plain, []byte(key))
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(first.prefix)+len(sealed))
	return append(append(out, first.prefix...), sealed...), nil
}

// FromStorage finds the provider by the value's prefix. Values without the
// k8s:enc: prefix are plaintext, readable only when identity is listed.
func (ch *Chain) FromStorage(stored []byte, key string) ([]byte, bool, error) {
	encrypted := bytes.HasPrefix(stored, []byte(encPrefix))
	var errs []error
	for i, e := range ch.entries {
		if e == nil {
			if encrypted {
				continue
			}
			return stored, i != 0, nil
		}
		if !bytes.HasPrefix(stored, e.prefix) {
			continue
		}
		plain, err := e.c.open(stored[len(e.prefix):], []byte(key))
		if err != nil {
			// Two entries may share a prefix (the same key name in two configs'
			// worth of providers); keep trying.
			errs = append(errs, fmt.Errorf("%s: %w", e.prefix, err))
			continue
		}
		return plain, i != 0, nil
	}
	if len(errs) > 0 {
		return nil, false, fmt.Errorf("decrypt %s: %w", key, errors.Join(errs...))
	}
	if encrypted {
		return nil, false, fmt.Errorf("decrypt %s: no matching prefix found (%.40q)", key, stored)
	}
	return nil, false, fmt.Errorf("read %s: the value is not encrypted and the identity provider is not configured", key)
}
