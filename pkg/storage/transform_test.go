package storage

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// xorTransformer stands for encryption: a prefix naming the key, then the bytes
// XORed with it. Values without a prefix are plaintext and read as stale.
type xorTransformer struct {
	write byte
}

func (x *xorTransformer) ToStorage(plain []byte, _ string) ([]byte, error) {
	out := []byte{'X', x.write}
	for _, b := range plain {
		out = append(out, b^x.write)
	}
	return out, nil
}

func (x *xorTransformer) FromStorage(stored []byte, _ string) ([]byte, bool, error) {
	if len(stored) < 2 || stored[0] != 'X' {
		return stored, true, nil
	}
	k := stored[1]
	if k == 0 {
		return nil, false, errors.New("bad key")
	}
	out := make([]byte, 0, len(stored)-2)
	for _, b := range stored[2:] {
		out = append(out, b^k)
	}
	return out, k != x.write, nil
}

func TestTransformerEncryptsWhatEtcdHoldsAndRotationRewritesUnchangedObjects(t *testing.T) {
	x := &xorTransformer{write: 7}
	prefix := "/xform"
	ts := startStoreAt(t, prefix, func(c *Config) {
		c.Transformers = func(gr schema.GroupResource) Transformer {
			if gr == configmaps {
				return x
			}
			return nil
		}
	})
	ts.create(t, "ns", "a", nil, "secret-value")
	raw := func() []byte {
		resp, err := testEtcd.Get(context.Background(), ts.cm.Key("ns", "a"))
		if err != nil || len(resp.Kvs) != 1 {
			t.Fatalf("read raw: %v", err)
		}
		return resp.Kvs[0].Value
	}
	if v := raw(); v[0] != 'X' || v[1] != 7 || bytes.Contains(v, []byte("secret-value")) {
		t.Fatalf("etcd holds %q, want it transformed with key 7", v)
	}
	got, err := ts.cm.Get(context.Background(), ts.cm.Key("ns", "a"), "a", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v := got.(interface{ GetName() string }).GetName(); v != "a" {
		t.Fatalf("read back %q", v)
	}

	// A store started with a new write key reads the old value, and an update
	// that changes nothing still rewrites it with the new key.
	ts.cancel()
	x2 := &xorTransformer{write: 9}
	ts2 := startStoreAt(t, prefix, func(c *Config) {
		c.Transformers = func(schema.GroupResource) Transformer { return x2 }
	})
	before := raw()
	_, _, err = ts2.cm.GuaranteedUpdate(context.Background(), ts2.cm.Key("ns", "a"), "a", false,
		func(existing runtime.Object) (runtime.Object, int64, error) { return existing, 0, nil })
	if err != nil {
		t.Fatal(err)
	}
	if after := raw(); after[1] != 9 || bytes.Equal(before, after) {
		t.Fatalf("after a no-op update etcd holds key %d, want 9", after[1])
	}
	// Once rewritten, a no-op update writes nothing.
	rev := ts2.written.Load()
	_, _, err = ts2.cm.GuaranteedUpdate(context.Background(), ts2.cm.Key("ns", "a"), "a", false,
		func(existing runtime.Object) (runtime.Object, int64, error) { return existing, 0, nil })
	if err != nil {
		t.Fatal(err)
	}
	if ts2.written.Load() != rev {
		t.Fatal("a no-op update of a current value wrote to etcd")
	}
}
