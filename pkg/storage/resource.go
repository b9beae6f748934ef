package storage

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	mvccpb "go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
)

// AttrFunc returns the labels and fields of an object that selectors match against.
type AttrFunc func(obj runtime.Object) (labels.Set, fields.Set, error)

// ResourceOptions describe how one resource is stored.
type ResourceOptions struct {
	// GroupResource names the resource in errors, e.g. {Resource: "configmaps"}.
	GroupResource schema.GroupResource
	// KeyPrefix is the path under the store prefix, e.g. "configmaps" or "services/specs".
	KeyPrefix string
	// Namespaced resources have keys <prefix>/<namespace>/<name>.
	Namespaced bool
	// NewFunc returns an empty object of the stored kind.
	NewFunc func() runtime.Object
	// StorageKind is the group, version and kind written to etcd.
	StorageKind schema.GroupVersionKind
	// Attrs returns what label and field selectors see; nil means labels plus
	// metadata.name and metadata.namespace.
	Attrs AttrFunc
	// JSON stores objects as JSON and decodes them as unstructured (custom resources).
	JSON bool
}

func (o *ResourceOptions) validate() error {
	switch {
	case o.KeyPrefix == "" || strings.HasPrefix(o.KeyPrefix, "/") || strings.HasSuffix(o.KeyPrefix, "/"):
		return fmt.Errorf("storage: bad key prefix %q", o.KeyPrefix)
	case o.NewFunc == nil:
		return fmt.Errorf("storage: %s has no NewFunc", o.GroupResource)
	case o.StorageKind.Kind == "" || o.StorageKind.Version == "":
		return fmt.Errorf("storage: %s has no storage kind", o.GroupResource)
	}
	if o.Attrs == nil {
		o.Attrs = DefaultAttrs
	}
	return nil
}

// DefaultAttrs exposes an object's labels, metadata.name and metadata.namespace.
func DefaultAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	m, ok := obj.(metav1.Object)
	if !ok {
		return nil, nil, fmt.Errorf("%T has no object metadata", obj)
	}
	return m.GetLabels(), fields.Set{"metadata.name": m.GetName(), "metadata.namespace": m.GetNamespace()}, nil
}

// entry is one object as the cache holds it. obj is never mutated once stored.
type entry struct {
	obj  runtime.Object
	data []byte // as encoded, before any transformation for etcd
	rev  int64
	// stale: etcd holds the value under an old key or unencrypted, so the next
	// update rewrites it even if nothing else changes.
	stale bool
	// proto caches obj's protobuf message (no envelope), made on first need.
	proto atomic.Pointer[[]byte]
}

// protoMarshaler is what k8s.io/api's generated types implement.
type protoMarshaler interface{ Marshal() ([]byte, error) }

// protobuf returns the object's protobuf message, encoding it once.
func (e *entry) protobuf() ([]byte, error) {
	if b := e.proto.Load(); b != nil {
		return *b, nil
	}
	m, ok := e.obj.(protoMarshaler)
	if !ok {
		return nil, fmt.Errorf("%T has no protobuf encoding", e.obj)
	}
	b, err := m.Marshal()
	if err != nil {
		return nil, err
	}
	e.proto.Store(&b)
	return b, nil
}

// Event is one change to an object, as watchers receive it.
type Event struct {
	Type   watch.EventType
	Object runtime.Object // never mutated; for a deletion, the last state
	Prev   runtime.Object // the state before, if any
	Rev    int64
	// InitialEventsEnd marks the bookmark that ends a sendInitialEvents stream.
	InitialEventsEnd bool
	// Encoded lets the API server encode an event once for all its watchers;
	// keys are the server's (media type and version).
	Encoded sync.Map
}

// Resource is the storage of one resource: writes go to etcd, reads come from the cache.
type Resource struct {
	s      *Store
	opts   ResourceOptions
	prefix string // full key prefix ending in "/"

	mu    sync.RWMutex
	items map[string]*entry
	// sorted caches items' keys in order; nil after a key is added or removed.
	sorted   []string
	history  eventRing
	watchers map[*Watcher]struct{}
	// observers hear of every change first, synchronously (see Observe).
	observers []*observer
	// transformer encrypts values at rest; nil stores them as they are.
	transformer Transformer
	// applied is the revision of the last event applied to items. It can be ahead
	// of the store's progress, which advances once a whole etcd response is applied.
	applied int64
}

func newResource(s *Store, opts ResourceOptions) *Resource {
	r := &Resource{
		s:        s,
		opts:     opts,
		prefix:   s.cfg.Prefix + "/" + opts.KeyPrefix + "/",
		items:    map[string]*entry{},
		history:  newEventRing(s.cfg.WatchHistory),
		watchers: map[*Watcher]struct{}{},
	}
	if s.cfg.Transformers != nil {
		r.transformer = s.cfg.Transformers(opts.GroupResource)
	}
	return r
}

// GroupResource names the resource.
func (r *Resource) GroupResource() schema.GroupResource { return r.opts.GroupResource }

// Key returns the etcd key of an object.
func (r *Resource) Key(namespace, name string) string {
	if r.opts.Namespaced {
		return r.prefix + namespace + "/" + name
	}
	return r.prefix + name
}

// scopePrefix returns the key prefix of a list or watch in namespace ("" for all).
func (r *Resource) scopePrefix(namespace string) string {
	if r.opts.Namespaced && namespace != "" {
		return r.prefix + namespace + "/"
	}
	return r.prefix
}

func (r *Resource) decode(data []byte, rev int64) (runtime.Object, error) {
	if r.opts.JSON {
		return r.decodeJSON(data, rev)
	}
	obj := r.opts.NewFunc()
	out, _, err := r.s.codec.Decode(data, nil, obj)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", r.opts.GroupResource, err)
	}
	out.GetObjectKind().SetGroupVersionKind(r.opts.StorageKind)
	m, ok := out.(metav1.Object)
	if !ok {
		return nil, fmt.Errorf("decode %s: %T has no object metadata", r.opts.GroupResource, out)
	}
	m.SetResourceVersion(strconv.FormatInt(rev, 10))
	return out, nil
}

// encode writes obj (whose resourceVersion is cleared for the write) for etcd.
func (r *Resource) encode(obj runtime.Object) ([]byte, error) {
	if r.opts.JSON {
		return r.encodeJSON(obj)
	}
	m, ok := obj.(metav1.Object)
	if !ok {
		return nil, fmt.Errorf("encode %s: %T has no object metadata", r.opts.GroupResource, obj)
	}
	rv := m.GetResourceVersion()
	m.SetResourceVersion("")
	obj.GetObjectKind().SetGroupVersionKind(r.opts.StorageKind)
	data, err := r.s.encode(obj)
	m.SetResourceVersion(rv)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", r.opts.GroupResource, err)
	}
	return data, nil
}

// load puts an object read at start into the cache.
func (r *Resource) load(key string, data []byte, rev int64) error {
	e, err := r.decodeStored(key, data, rev)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.items[key] = e
	r.sorted = nil
	r.mu.Unlock()
	return nil
}

func (r *Resource) setStart(rev int64) {
	r.mu.Lock()
	r.history.start = rev
	r.mu.Unlock()
}

// apply records one etcd event and hands it to the watchers.
func (r *Resource) apply(ev *clientv3.Event) {
	key := string(ev.Kv.Key)
	rev := ev.Kv.ModRevision
	r.mu.Lock()
	defer r.mu.Unlock()
	prev := r.items[key]
	var e *Event
	switch ev.Type {
	case mvccpb.PUT:
		cur, err := r.decodeStored(key, ev.Kv.Value, rev)
		if err != nil {
			r.s.log.Error("skipping undecodable object", "key", key, "err", err)
			return
		}
		obj := cur.obj
		r.items[key] = cur
		if prev == nil {
			r.sorted = nil
		}
		e = &Event{Type: watch.Added, Object: obj, Rev: rev}
		if prev != nil {
			e.Type = watch.Modified
			e.Prev = prev.obj
		}
	case mvccpb.DELETE:
		if prev == nil {
			return
		}
		delete(r.items, key)
		r.sorted = nil
		e = &Event{Type: watch.Deleted, Object: withResourceVersion(prev.obj, rev), Prev: prev.obj, Rev: rev}
	default:
		return
	}
	r.publishLocked(e)
}

// reconcile applies the state read during a reload.
func (r *Resource) reconcile(key string, data []byte, rev int64) {
	r.mu.RLock()
	prev := r.items[key]
	r.mu.RUnlock()
	if prev != nil && prev.rev == rev {
		return
	}
	r.apply(&clientv3.Event{Type: mvccpb.PUT, Kv: &mvccpb.KeyValue{Key: []byte(key), Value: data, ModRevision: rev}})
}

// dropMissing deletes cached objects that a reload did not find.
func (r *Resource) dropMissing(present map[string]bool, rev int64) {
	r.mu.RLock()
	var gone []string
	for k := range r.items {
		if !present[k] {
			gone = append(gone, k)
		}
	}
	r.mu.RUnlock()
	for _, k := range gone {
		r.apply(&clientv3.Event{Type: mvccpb.DELETE, Kv: &mvccpb.KeyValue{Key: []byte(k), ModRevision: rev}})
	}
}

func (r *Resource) publishLocked(e *Event) {
	if e.Rev > r.applied {
		r.applied = e.Rev
	}
	r.history.add(e)
	for _, o := range r.observers {
		o.fn(e)
	}
	for w := range r.watchers {
		w.offer(e)
	}
}

// snapshotRevLocked is the revision the cached items reflect, which a list or the
// end of initial events reports: no item is newer, and a watch from it replays
// nothing they already show. Called with r.mu held.
func (r *Resource) snapshotRevLocked() int64 {
	if rev := r.s.progress.current(); rev > r.applied {
		return rev
	}
	return r.applied
}

// withResourceVersion returns a copy of obj carrying rev.
func withResourceVersion(obj runtime.Object, rev int64) runtime.Object {
	c := obj.DeepCopyObject()
	if m, ok := c.(metav1.Object); ok {
		m.SetResourceVersion(strconv.FormatInt(rev, 10))
	}
	return c
}

// eventRing keeps the newest events of a resource for watches that resume.
type eventRing struct {
	buf   []*Event
	next  int // where the next event goes once the ring is full; the oldest event
	max   int
	start int64 // every event after this revision is in the ring
}

func newEventRing(max int) eventRing { return eventRing{max: max} }

func (q *eventRing) add(e *Event) {
	if len(q.buf) < q.max {
		q.buf = append(q.buf, e)
		return
	}
	q.start = q.buf[q.next].Rev
	q.buf[q.next] = e
	q.next = (q.next + 1) % q.max
}

func (q *eventRing) at(i int) *Event { return q.buf[(q.next+i)%len(q.buf)] }

// since returns the events after rev, oldest first, or false if some were dropped.
func (q *eventRing) since(rev int64) ([]*Event, bool) {
	if rev < q.start {
		return nil, false
	}
	i := len(q.buf)
	for i > 0 && q.at(i-1).Rev > rev {
		i--
	}
	out := make([]*Event, 0, len(q.buf)-i)
	for ; i < len(q.buf); i++ {
		out = append(out, q.at(i))
	}
	return out, true
}
