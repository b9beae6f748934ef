package storage

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	rpctypes "go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// ReadOptions say how fresh a read must be, following upstream's resourceVersion rules.
type ReadOptions struct {
	// ResourceVersion: "" for the most recent state, "0" for any cached state, or a
	// revision the answer must not be older than (or equal to, with Exact).
	ResourceVersion string
	Exact           bool
}

// ListOptions select a list.
type ListOptions struct {
	ReadOptions
	Namespace string
	Predicate Predicate
	// Limit and Continue page the list; a paged list is read from etcd so that every
	// page shows the same revision.
	Limit    int64
	Continue string
	// Protobuf asks for each item's protobuf encoding too (ListResult.Protobuf),
	// cached with the object, so a large list is not encoded again every time.
	Protobuf bool
}

// ListResult is one page of a list.
type ListResult struct {
	Items []runtime.Object // shared with the cache: never mutate
	// Protobuf holds each item's protobuf message when asked for and the list came
	// from the cache; nil otherwise.
	Protobuf        [][]byte
	ResourceVersion int64
	Continue        string
	Remaining       *int64
}

// WaitFresh waits until the cache may answer a read with these options.
func (r *Resource) WaitFresh(ctx context.Context, o ReadOptions) error { return r.waitFresh(ctx, o) }

func (r *Resource) waitFresh(ctx context.Context, o ReadOptions) error {
	switch o.ResourceVersion {
	case "0":
		return nil
	case "":
		rev, err := r.s.consistentRevision(ctx)
		if err != nil {
			return err
		}
		return r.s.waitForRevision(ctx, rev)
	default:
		rev, err := ParseResourceVersion(o.ResourceVersion)
		if err != nil {
			return err
		}
		return r.s.waitForRevision(ctx, rev)
	}
}

// Get returns the object stored under key; the result is shared: never mutate it.
func (r *Resource) Get(ctx context.Context, key, name string, o ReadOptions) (runtime.Object, error) {
	if err := r.waitFresh(ctx, o); err != nil {
		return nil, err
	}
	r.mu.RLock()
	e := r.items[key]
	r.mu.RUnlock()
	if e == nil {
		return nil, apierrors.NewNotFound(r.opts.GroupResource, name)
	}
	return e.obj, nil
}

// GetLatest reads key from etcd, bypassing the cache; nil if absent.
func (r *Resource) getLatest(ctx context.Context, key string) (*entry, error) {
	resp, err := r.s.client.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, nil
	}
	kv := resp.Kvs[0]
	return r.decodeStored(key, kv.Value, kv.ModRevision)
}

// List returns the objects selected by o.
func (r *Resource) List(ctx context.Context, o ListOptions) (*ListResult, error) {
	if o.Continue != "" || (o.Limit > 0 && o.ResourceVersion != "0") || o.Exact {
		return r.listFromEtcd(ctx, o)
	}
	if err := r.waitFresh(ctx, o.ReadOptions); err != nil {
		return nil, err
	}
	scope := r.scopePrefix(o.Namespace)
	keys, unlock := r.keysIn(scope)
	rev := r.snapshotRevLocked()
	items := make([]runtime.Object, 0, len(keys))
	var pbs [][]byte
	if o.Protobuf {
		pbs = make([][]byte, 0, len(keys))
	}
	var err error
	for _, k := range keys {
		e := r.items[k]
		if !o.Predicate.Matches(e.obj) {
			continue
		}
		items = append(items, e.obj)
		if pbs != nil {
			var b []byte
			if b, err = e.protobuf(); err != nil {
				pbs = nil
				o.Protobuf = false
				continue
			}
			pbs = append(pbs, b)
		}
	}
	unlock()
	return &ListResult{Items: items, Protobuf: pbs, ResourceVersion: rev}, nil
}

// CurrentRevision is the newest revision the caches reflect.
func (r *Resource) CurrentRevision() int64 { return r.s.progress.current() }

// Count returns how many objects the resource holds (for metrics).
func (r *Resource) Count() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.items)
}

// keysIn returns the sorted keys under scope with the read lock held; call unlock
// when done with them. The whole sorted list is cached until a key comes or goes,
// so repeated lists of a large resource do not sort again.
func (r *Resource) keysIn(scope string) ([]string, func()) {
	r.mu.RLock()
	for r.sorted == nil {
		r.mu.RUnlock()
		r.mu.Lock()
		if r.sorted == nil {
			r.sorted = sortedKeys(r.items, "")
		}
		r.mu.Unlock()
		r.mu.RLock()
	}
	all := r.sorted
	lo := sort.SearchStrings(all, scope)
	hi := lo
	for hi < len(all) && strings.HasPrefix(all[hi], scope) {
		hi++
	}
	return all[lo:hi], r.mu.RUnlock
}

func sortedKeys(items map[string]*entry, scope string) []string {
	keys := make([]string, 0, len(items))
	for k := range items {
		if strings.HasPrefix(k, scope) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// latestRevision in a continue token resumes the list at the newest revision.
const latestRevision = -1

// continueToken is what a paged list hands back to resume at.
type continueToken struct {
	APIVersion string `json:"v"`
	Rev        int64  `json:"rv"`
	Start      string `json:"start"`
}

func encodeContinue(rev int64, start string) string {
	b, _ := json.Marshal(continueToken{APIVersion: "meta.k8s.io/v1", Rev: rev, Start: start})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeContinue(s string) (continueToken, error) {
	var t continueToken
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return t, apierrors.NewBadRequest(fmt.Sprintf("invalid continue token: %v", err))
	}
	// Revision -1 is the token of a 410 for a compacted one: resume at the newest.
	if err := json.Unmarshal(b, &t); err != nil || t.APIVersion != "meta.k8s.io/v1" || (t.Rev <= 0 && t.Rev != latestRevision) || strings.Contains(t.Start, "..") {
		return t, apierrors.NewBadRequest("invalid continue token")
	}
	return t, nil
}

// listFromEtcd reads a page at one revision, refilling when selectors drop items.
func (r *Resource) listFromEtcd(ctx context.Context, o ListOptions) (*ListResult, error) {
	scope := r.scopePrefix(o.Namespace)
	start := scope
	var rev int64
	switch {
	case o.Continue != "":
		t, err := decodeContinue(o.Continue)
		if err != nil {
			return nil, err
		}
		rev = max(t.Rev, 0)
		start = r.prefix + t.Start
		if !strings.HasPrefix(start, scope) {
			return nil, apierrors.NewBadRequest("continue token does not match the request")
		}
	case o.Exact:
		v, err := ParseResourceVersion(o.ResourceVersion)
		if err != nil {
			return nil, err
		}
		rev = v
	case o.ResourceVersion != "":
		v, err := ParseResourceVersion(o.ResourceVersion)
		if err != nil {
			return nil, err
		}
		if err := r.s.waitForRevision(ctx, v); err != nil {
			return nil, err
		}
	}
	end := clientv3.GetPrefixRangeEnd(scope)
	limit := o.Limit
	res := &ListResult{}
	lastKey := ""
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end)}
		if limit > 0 {
			opts = append(opts, clientv3.WithLimit(limit+1))
		}
		if rev > 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		resp, err := r.s.client.Get(ctx, start, opts...)
		if err != nil {
			if errors.Is(err, rpctypes.ErrCompacted) {
				if o.Continue != "" {
					return nil, errContinueExpired(encodeContinue(latestRevision, strings.TrimPrefix(start, r.prefix)))
				}
				return nil, errTooOldResourceVersion(rev, 0)
			}
			if errors.Is(err, rpctypes.ErrFutureRev) {
				return nil, errTooLargeResourceVersion(rev, r.s.progress.current())
			}
			return nil, fmt.Errorf("list %s: %w", r.opts.GroupResource, err)
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		for i, kv := range resp.Kvs {
			if limit > 0 && int64(len(res.Items)) == limit {
				// One more exists: hand back where to resume.
				res.Continue = encodeContinue(rev, strings.TrimPrefix(lastKey, r.prefix)+"\x00")
				if o.Predicate.Empty() {
					n := resp.Count - int64(i)
					res.Remaining = &n
				}
				res.ResourceVersion = rev
				return res, nil
			}
			lastKey = string(kv.Key)
			e, err := r.decodeStored(lastKey, kv.Value, kv.ModRevision)
			if err != nil {
				r.s.log.Error("skipping undecodable object", "key", lastKey, "err", err)
				continue
			}
			if o.Predicate.Matches(e.obj) {
				res.Items = append(res.Items, e.obj)
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			res.ResourceVersion = rev
			return res, nil
		}
		start = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// ParseResourceVersion parses a resourceVersion parameter.
func ParseResourceVersion(s string) (int64, error) {
	var v int64
	if _, err := fmt.Sscan(s, &v); err != nil || v < 0 || fmt.Sprint(v) != s {
		return 0, apierrors.NewBadRequest(fmt.Sprintf("invalid resource version %q", s))
	}
	return v, nil
}

// ObjectRevision returns the revision in an object's resourceVersion, 0 if none.
func ObjectRevision(obj runtime.Object) int64 {
	m, ok := obj.(metav1.Object)
	if !ok || m.GetResourceVersion() == "" {
		return 0
	}
	v, _ := ParseResourceVersion(m.GetResourceVersion())
	return v
}
