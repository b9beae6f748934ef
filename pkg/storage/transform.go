package storage

import "k8s.io/apimachinery/pkg/runtime/schema"

// Transformer changes values on their way to and from etcd: encryption at rest.
// The etcd key is given as context, which authenticated ciphers bind the value to
// so that a value copied to another key does not decrypt.
type Transformer interface {
	// ToStorage returns what is written to etcd for plain.
	ToStorage(plain []byte, key string) ([]byte, error)
	// FromStorage undoes ToStorage. stale reports that the value was not written
	// by the current write transformer (an older key or plaintext), so an update
	// that changes nothing else still rewrites it.
	FromStorage(stored []byte, key string) (plain []byte, stale bool, err error)
}

// TransformerFunc picks the transformer of a resource; nil means values are stored
// as they are.
type TransformerFunc func(gr schema.GroupResource) Transformer

// toStorage transforms a value for etcd.
func (r *Resource) toStorage(key string, plain []byte) ([]byte, error) {
	if r.transformer == nil {
		return plain, nil
	}
	out, err := r.transformer.ToStorage(plain, key)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// decodeStored reads a value from etcd into a cache entry holding the plain bytes.
func (r *Resource) decodeStored(key string, stored []byte, rev int64) (*entry, error) {
	plain, stale := stored, false
	if r.transformer != nil {
		var err error
		if plain, stale, err = r.transformer.FromStorage(stored, key); err != nil {
			return nil, err
		}
	}
	obj, err := r.decode(plain, rev)
	if err != nil {
		return nil, err
	}
	return &entry{obj: obj, data: plain, rev: rev, stale: stale}, nil
}
