package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utiljson "k8s.io/apimachinery/pkg/util/json"
)

// Resources registered while the store runs (custom resources) are stored as
// JSON, as upstream stores them, and decode into *unstructured.Unstructured.

// RegisterDynamic adds a resource to a running store: its objects already in etcd
// are loaded and it follows the store's watch from there. Its objects are JSON.
func (s *Store) RegisterDynamic(ctx context.Context, opts ResourceOptions) (*Resource, error) {
	opts.JSON = true
	if err := opts.validate(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if _, dup := s.resources[opts.KeyPrefix]; dup {
		s.mu.Unlock()
		return nil, fmt.Errorf("storage: key prefix %q registered twice", opts.KeyPrefix)
	}
	r := newResource(s, opts)
	// Registered first so that no event after the read below is missed; the read
	// keeps what the watch applied meanwhile if it is newer.
	s.resources[opts.KeyPrefix] = r
	s.mu.Unlock()
	if !s.started.Load() {
		return r, nil
	}
	resp, err := s.client.Get(ctx, r.prefix, clientv3.WithPrefix())
	if err != nil {
		s.Unregister(opts.KeyPrefix)
		return nil, fmt.Errorf("load %s: %w", r.prefix, err)
	}
	for _, kv := range resp.Kvs {
		e, err := r.decodeStored(string(kv.Key), kv.Value, kv.ModRevision)
		if err != nil {
			s.log.Error("skipping undecodable object", "key", string(kv.Key), "err", err)
			continue
		}
		r.mu.Lock()
		if cur := r.items[string(kv.Key)]; cur == nil || cur.rev < kv.ModRevision {
			r.items[string(kv.Key)] = e
			r.sorted = nil
		}
		r.mu.Unlock()
	}
	r.mu.Lock()
	if r.history.start == 0 || r.history.start > resp.Header.Revision {
		r.history.start = resp.Header.Revision
	}
	r.mu.Unlock()
	s.noteWrite(resp.Header.Revision)
	return r, nil
}

// Unregister removes a resource registered with RegisterDynamic and ends its watches.
func (s *Store) Unregister(keyPrefix string) {
	s.mu.Lock()
	r := s.resources[keyPrefix]
	delete(s.resources, keyPrefix)
	s.mu.Unlock()
	if r == nil {
		return
	}
	r.mu.RLock()
	ws := make([]*Watcher, 0, len(r.watchers))
	for w := range r.watchers {
		ws = append(ws, w)
	}
	r.mu.RUnlock()
	for _, w := range ws {
		w.Stop()
	}
}

// decodeJSON reads a JSON object (a custom resource) from etcd.
func (r *Resource) decodeJSON(data []byte, rev int64) (runtime.Object, error) {
	u := &unstructured.Unstructured{}
	// utiljson keeps whole numbers as int64, as the rest of the server expects.
	if err := utiljson.Unmarshal(data, &u.Object); err != nil {
		return nil, fmt.Errorf("decode %s: %w", r.opts.GroupResource, err)
	}
	if u.Object == nil {
		return nil, fmt.Errorf("decode %s: not a JSON object", r.opts.GroupResource)
	}
	u.SetResourceVersion(strconv.FormatInt(rev, 10))
	return u, nil
}

// encodeJSON writes a custom resource for etcd, without its resourceVersion.
func (r *Resource) encodeJSON(obj runtime.Object) ([]byte, error) {
	u, ok := obj.(runtime.Unstructured)
	if !ok {
		return nil, fmt.Errorf("encode %s: %T is not unstructured", r.opts.GroupResource, obj)
	}
	content := u.UnstructuredContent()
	md, _ := content["metadata"].(map[string]interface{})
	var rv interface{}
	var hadRV bool
	if md != nil {
		rv, hadRV = md["resourceVersion"]
		delete(md, "resourceVersion")
	}
	data, err := json.Marshal(content)
	if hadRV {
		md["resourceVersion"] = rv
	}
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", r.opts.GroupResource, err)
	}
	return data, nil
}
