package storage

import (
	"bytes"
	"context"
	"fmt"
	"strconv"

	mvccpb "go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// Create writes a new object under key. A ttl (seconds) makes etcd expire it, as
// events do. obj is updated in place with its resourceVersion and returned.
func (r *Resource) Create(ctx context.Context, key, name string, obj runtime.Object, ttl int64) (runtime.Object, error) {
	data, err := r.encode(obj)
	if err != nil {
		return nil, err
	}
	put, err := r.putOp(ctx, key, data, ttl)
	if err != nil {
		return nil, err
	}
	resp, err := r.s.client.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(put).Commit()
	if err != nil {
		return nil, fmt.Errorf("create %s %q: %w", r.opts.GroupResource, name, err)
	}
	if !resp.Succeeded {
		return nil, apierrors.NewAlreadyExists(r.opts.GroupResource, name)
	}
	rev := resp.Header.Revision
	r.s.noteWrite(rev)
	obj.(metav1.Object).SetResourceVersion(strconv.FormatInt(rev, 10))
	return obj, nil
}

func (r *Resource) putOp(ctx context.Context, key string, data []byte, ttl int64) (clientv3.Op, error) {
	data, err := r.toStorage(key, data)
	if err != nil {
		return clientv3.Op{}, fmt.Errorf("transform %s for storage: %w", key, err)
	}
	if ttl <= 0 {
		return clientv3.OpPut(key, string(data)), nil
	}
	id, err := r.s.leases.lease(ctx, ttl)
	if err != nil {
		return clientv3.Op{}, err
	}
	return clientv3.OpPut(key, string(data), clientv3.WithLease(id)), nil
}

// UpdateFunc computes the new state from a private copy of the current one (nil if
// the object does not exist and creation is allowed). It returns the object to write
// and, for expiring objects, its ttl in seconds.
type UpdateFunc func(existing runtime.Object) (runtime.Object, int64, error)

// GuaranteedUpdate applies tryUpdate to the current object and writes the result if
// nobody wrote in between, retrying with the newer state otherwise. If the result
// encodes to the same bytes, nothing is written. It reports whether it created.
//
// It starts from the cached state, which may lag a write that just happened: an
// error from tryUpdate or a result equal to that state is only believed once it is
// confirmed against etcd, as upstream's store does.
func (r *Resource) GuaranteedUpdate(ctx context.Context, key, name string, allowCreate bool, tryUpdate UpdateFunc) (runtime.Object, bool, error) {
	cur := r.cached(key)
	fresh := false
	if cur == nil {
		var err error
		if cur, err = r.getLatest(ctx, key); err != nil {
			return nil, false, err
		}
		fresh = true
	}
	// refresh re-reads the state from etcd; it reports whether it differs from cur.
	refresh := func() (bool, error) {
		latest, err := r.getLatest(ctx, key)
		if err != nil {
			return false, err
		}
		fresh = true
		changed := (latest == nil) != (cur == nil) || latest != nil && latest.rev != cur.rev
		cur = latest
		return changed, nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		if cur == nil && !allowCreate {
			return nil, false, apierrors.NewNotFound(r.opts.GroupResource, name)
		}
		var existing runtime.Object
		if cur != nil {
			existing = cur.obj.DeepCopyObject()
		}
		updated, ttl, err := tryUpdate(existing)
		if err != nil {
			if !fresh {
				changed, rerr := refresh()
				if rerr != nil {
					return nil, false, rerr
				}
				if changed {
					continue
				}
			}
			return nil, false, err
		}
		data, err := r.encode(updated)
		if err != nil {
			return nil, false, err
		}
		if cur != nil && !cur.stale && bytes.Equal(data, cur.data) {
			if !fresh {
				changed, rerr := refresh()
				if rerr != nil {
					return nil, false, rerr
				}
				if changed {
					continue
				}
			}
			updated.(metav1.Object).SetResourceVersion(strconv.FormatInt(cur.rev, 10))
			return updated, false, nil
		}
		put, err := r.putOp(ctx, key, data, ttl)
		if err != nil {
			return nil, false, err
		}
		cmp := clientv3.Compare(clientv3.CreateRevision(key), "=", 0)
		if cur != nil {
			cmp = clientv3.Compare(clientv3.ModRevision(key), "=", cur.rev)
		}
		resp, err := r.s.client.Txn(ctx).If(cmp).Then(put).Else(clientv3.OpGet(key)).Commit()
		if err != nil {
			return nil, false, fmt.Errorf("update %s %q: %w", r.opts.GroupResource, name, err)
		}
		if resp.Succeeded {
			rev := resp.Header.Revision
			r.s.noteWrite(rev)
			updated.(metav1.Object).SetResourceVersion(strconv.FormatInt(rev, 10))
			return updated, cur == nil, nil
		}
		cur, err = r.entryFrom(resp.Responses[0].GetResponseRange().Kvs)
		if err != nil {
			return nil, false, err
		}
		fresh = true
	}
}

// Preconditions guard a deletion.
type Preconditions struct {
	UID             *types.UID
	ResourceVersion *string
}

func (p *Preconditions) check(gr schema.GroupResource, name string, obj runtime.Object) error {
	if p == nil {
		return nil
	}
	m := obj.(metav1.Object)
	if p.UID != nil && *p.UID != m.GetUID() {
		return apierrors.NewConflict(gr, name,
			fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", *p.UID, m.GetUID()))
	}
	if p.ResourceVersion != nil && *p.ResourceVersion != m.GetResourceVersion() {
		return apierrors.NewConflict(gr, name,
			fmt.Errorf("Precondition failed: ResourceVersion in precondition: %v, ResourceVersion in object meta: %v", *p.ResourceVersion, m.GetResourceVersion()))
	}
	return nil
}

// Delete removes key if the preconditions hold and check (given the current state)
// returns nil; it returns the last state.
func (r *Resource) Delete(ctx context.Context, key, name string, pre *Preconditions, check func(existing runtime.Object) error) (runtime.Object, error) {
	cur := r.cached(key)
	if cur == nil {
		var err error
		if cur, err = r.getLatest(ctx, key); err != nil {
			return nil, err
		}
	}
	fresh := false
	for {
		if cur == nil {
			return nil, apierrors.NewNotFound(r.opts.GroupResource, name)
		}
		if err := pre.check(r.opts.GroupResource, name, cur.obj); err != nil {
			if fresh {
				return nil, err
			}
			// The cache may lag a write that just happened: judge against etcd.
			fresh = true
			if cur, err = r.getLatest(ctx, key); err != nil {
				return nil, err
			}
			continue
		}
		if check != nil {
			if err := check(cur.obj); err != nil {
				if fresh {
					return nil, err
				}
				// Judged on a cached state that may be stale: judge against etcd.
				fresh = true
				if cur, err = r.getLatest(ctx, key); err != nil {
					return nil, err
				}
				continue
			}
		}
		resp, err := r.s.client.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(key), "=", cur.rev)).
			Then(clientv3.OpDelete(key)).Else(clientv3.OpGet(key)).Commit()
		if err != nil {
			return nil, fmt.Errorf("delete %s %q: %w", r.opts.GroupResource, name, err)
		}
		if resp.Succeeded {
			r.s.noteWrite(resp.Header.Revision)
			return cur.obj, nil
		}
		if cur, err = r.entryFrom(resp.Responses[0].GetResponseRange().Kvs); err != nil {
			return nil, err
		}
		fresh = true
	}
}

func (r *Resource) cached(key string) *entry {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.items[key]
}

func (r *Resource) entryFrom(kvs []*mvccpb.KeyValue) (*entry, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	return r.decodeStored(string(kvs[0].Key), kvs[0].Value, kvs[0].ModRevision)
}
