package storage

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
)

func TestCreateGetAndAlreadyExists(t *testing.T) {
	ts := newTestStore(t, nil)
	ctx := context.Background()
	obj := newCM("a", "one", map[string]string{"k": "v"}, "1")
	out, err := ts.cm.Create(ctx, ts.cm.Key("a", "one"), "one", obj, 0)
	if err != nil {
		t.Fatal(err)
	}
	rv := ObjectRevision(out)
	if rv == 0 {
		t.Fatalf("created object has no resourceVersion: %q", out.(*corev1.ConfigMap).ResourceVersion)
	}
	got, err := ts.cm.Get(ctx, ts.cm.Key("a", "one"), "one", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := got.(*corev1.ConfigMap)
	if c.ResourceVersion != strconv.FormatInt(rv, 10) || c.Data["v"] != "1" || c.Labels["k"] != "v" || c.UID != "uid-a-one" {
		t.Fatalf("got %+v, want the created object at resourceVersion %d", c, rv)
	}
	if c.Kind != "ConfigMap" || c.APIVersion != "v1" {
		t.Errorf("stored object has kind %q apiVersion %q", c.Kind, c.APIVersion)
	}

	_, err = ts.cm.Create(ctx, ts.cm.Key("a", "one"), "one", newCM("a", "one", nil, "2"), 0)
	if !apierrors.IsAlreadyExists(err) {
		t.Fatalf("second create: got %v, want AlreadyExists", err)
	}
	if st := apiStatus(err); st.Code != 409 || st.Details.Name != "one" || st.Details.Kind != "configmaps" {
		t.Errorf("AlreadyExists status = %+v", st)
	}
	// The failed create changed nothing.
	got, _ = ts.cm.Get(ctx, ts.cm.Key("a", "one"), "one", ReadOptions{})
	if got.(*corev1.ConfigMap).Data["v"] != "1" {
		t.Errorf("failed create overwrote the object")
	}

	if _, err := ts.cm.Get(ctx, ts.cm.Key("a", "missing"), "missing", ReadOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("get missing: got %v, want NotFound", err)
	}
	if st := apiStatus(errGet(ts, "a", "missing")); st.Code != 404 || st.Message != `configmaps "missing" not found` {
		t.Errorf("NotFound status = %+v", st)
	}
}

func errGet(ts *testStore, ns, name string) error {
	_, err := ts.cm.Get(context.Background(), ts.cm.Key(ns, name), name, ReadOptions{})
	return err
}

func apiStatus(err error) (st struct {
	Code    int32
	Message string
	Reason  string
	Details struct{ Name, Kind string }
}) {
	var se apierrors.APIStatus
	if errors.As(err, &se) {
		s := se.Status()
		st.Code, st.Message, st.Reason = s.Code, s.Message, string(s.Reason)
		if s.Details != nil {
			st.Details.Name, st.Details.Kind = s.Details.Name, s.Details.Kind
		}
	}
	return st
}

// The apiserver's optimistic concurrency: tryUpdate sees the latest state and
// rejects a client's stale resourceVersion with a conflict, which reaches the caller.
func TestGuaranteedUpdateStaleResourceVersionConflicts(t *testing.T) {
	ts := newTestStore(t, nil)
	rv1 := ts.create(t, "a", "x", nil, "1")
	rv2 := ts.set(t, "a", "x", nil, "2")
	if rv2 <= rv1 {
		t.Fatalf("update did not advance the resourceVersion: %d then %d", rv1, rv2)
	}
	_, _, err := ts.cm.GuaranteedUpdate(context.Background(), ts.cm.Key("a", "x"), "x", false, requireRV(rv1, "3"))
	if !apierrors.IsConflict(err) {
		t.Fatalf("update with stale resourceVersion: got %v, want Conflict", err)
	}
	out, _, err := ts.cm.GuaranteedUpdate(context.Background(), ts.cm.Key("a", "x"), "x", false, requireRV(rv2, "3"))
	if err != nil {
		t.Fatalf("update with current resourceVersion: %v", err)
	}
	if ObjectRevision(out) <= rv2 || out.(*corev1.ConfigMap).Data["v"] != "3" {
		t.Fatalf("got %+v", out)
	}
}

// requireRV behaves like an update request carrying resourceVersion rv.
func requireRV(rv int64, value string) UpdateFunc {
	return func(existing runtime.Object) (runtime.Object, int64, error) {
		c := existing.(*corev1.ConfigMap)
		if c.ResourceVersion != strconv.FormatInt(rv, 10) {
			return nil, 0, apierrors.NewConflict(configmaps, c.Name,
				fmt.Errorf("the object has been modified; please apply your changes to the latest version and try again"))
		}
		c.Data = map[string]string{"v": value}
		return c, 0, nil
	}
}

// A client that updates with the resourceVersion its previous write returned must
// not get a conflict just because the cache has not yet seen that write.
func TestGuaranteedUpdateWithJustWrittenResourceVersion(t *testing.T) {
	ts := newTestStore(t, nil)
	rv := ts.create(t, "a", "x", nil, "0")
	for i := 1; i <= 50; i++ {
		out, _, err := ts.cm.GuaranteedUpdate(context.Background(), ts.cm.Key("a", "x"), "x", false, requireRV(rv, strconv.Itoa(i)))
		if err != nil {
			t.Fatalf("update %d with the resourceVersion %d just returned: %v", i, rv, err)
		}
		rv = ObjectRevision(out)
	}
}

// An update computed from a cached state the cache has not caught up on must not be
// mistaken for a no-op: another writer may have changed the object in etcd.
func TestGuaranteedUpdateNoOpChecksLatestState(t *testing.T) {
	ts := newTestStore(t, func(c *Config) { c.SingleWriter = false })
	ctx := context.Background()
	key := ts.cm.Key("a", "x")
	ts.create(t, "a", "x", nil, "mine")
	for i := 0; i < 20; i++ {
		// Let the cache hold "mine", then another writer changes it in etcd.
		rv := ts.set(t, "a", "x", nil, "mine")
		if _, err := ts.cm.Get(ctx, key, "x", ReadOptions{ResourceVersion: strconv.FormatInt(rv, 10)}); err != nil {
			t.Fatal(err)
		}
		other := newCM("a", "x", nil, fmt.Sprintf("theirs-%d", i))
		data, err := ts.cm.encode(other)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := testEtcd.Put(ctx, key, string(data)); err != nil {
			t.Fatal(err)
		}
		ts.set(t, "a", "x", nil, "mine")
		resp, err := testEtcd.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		obj, err := ts.cm.decode(resp.Kvs[0].Value, resp.Kvs[0].ModRevision)
		if err != nil {
			t.Fatal(err)
		}
		if v := obj.(*corev1.ConfigMap).Data["v"]; v != "mine" {
			t.Fatalf("round %d: etcd holds %q after writing %q: the write was skipped as a no-op", i, v, "mine")
		}
	}
}

func TestGuaranteedUpdateUnchangedWritesNothing(t *testing.T) {
	ts := newTestStore(t, nil)
	rv := ts.create(t, "a", "x", nil, "1")
	again := ts.set(t, "a", "x", nil, "1")
	if again != rv {
		t.Fatalf("an update that changes nothing moved the resourceVersion from %d to %d", rv, again)
	}
}

func TestGuaranteedUpdateMissingObject(t *testing.T) {
	ts := newTestStore(t, nil)
	ctx := context.Background()
	fn := func(existing runtime.Object) (runtime.Object, int64, error) {
		if existing != nil {
			return nil, 0, fmt.Errorf("existing should be nil, got %v", existing)
		}
		return newCM("a", "new", nil, "1"), 0, nil
	}
	if _, _, err := ts.cm.GuaranteedUpdate(ctx, ts.cm.Key("a", "new"), "new", false, fn); !apierrors.IsNotFound(err) {
		t.Fatalf("update of a missing object: got %v, want NotFound", err)
	}
	out, created, err := ts.cm.GuaranteedUpdate(ctx, ts.cm.Key("a", "new"), "new", true, fn)
	if err != nil || !created || ObjectRevision(out) == 0 {
		t.Fatalf("create on update: created=%v err=%v out=%v", created, err, out)
	}
	if _, err := ts.cm.Get(ctx, ts.cm.Key("a", "new"), "new", ReadOptions{}); err != nil {
		t.Fatalf("created object not readable: %v", err)
	}
}

func TestGuaranteedUpdateErrorWritesNothing(t *testing.T) {
	ts := newTestStore(t, nil)
	rv := ts.create(t, "a", "x", nil, "1")
	boom := errors.New("boom")
	_, _, err := ts.cm.GuaranteedUpdate(context.Background(), ts.cm.Key("a", "x"), "x", false,
		func(runtime.Object) (runtime.Object, int64, error) { return nil, 0, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want the tryUpdate error", err)
	}
	got, _ := ts.cm.Get(context.Background(), ts.cm.Key("a", "x"), "x", ReadOptions{})
	if ObjectRevision(got) != rv {
		t.Fatalf("failed update wrote: resourceVersion %d, want %d", ObjectRevision(got), rv)
	}
}

// Concurrent writers never lose each other's updates, and a watcher sees every
// version in order.
func TestConcurrentWriters(t *testing.T) {
	ts := newTestStore(t, nil)
	rv := ts.create(t, "a", "counter", nil, "0")
	w, err := ts.cm.Watch(context.Background(), WatchOptions{ResourceVersion: rv})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	const writers, each = 6, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for g := 0; g < writers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				_, _, err := ts.cm.GuaranteedUpdate(context.Background(), ts.cm.Key("a", "counter"), "counter", false,
					func(existing runtime.Object) (runtime.Object, int64, error) {
						c := existing.(*corev1.ConfigMap)
						n, _ := strconv.Atoi(c.Data["v"])
						c.Data["v"] = strconv.Itoa(n + 1)
						return c, 0, nil
					})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, err := ts.cm.Get(context.Background(), ts.cm.Key("a", "counter"), "counter", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v := got.(*corev1.ConfigMap).Data["v"]; v != strconv.Itoa(writers*each) {
		t.Fatalf("counter = %s, want %d: updates were lost", v, writers*each)
	}
	evs := next(t, w, writers*each)
	last := rv
	for i, e := range evs {
		if e.Type != watch.Modified || e.Rev <= last {
			t.Fatalf("event %d: %s after revision %d", i, describe([]*Event{e}), last)
		}
		if v := e.Object.(*corev1.ConfigMap).Data["v"]; v != strconv.Itoa(i+1) {
			t.Fatalf("event %d carries value %s, want %d", i, v, i+1)
		}
		last = e.Rev
	}
}

func TestConcurrentCreatesOneWins(t *testing.T) {
	ts := newTestStore(t, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, lost := 0, 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := ts.cm.Create(context.Background(), ts.cm.Key("a", "x"), "x", newCM("a", "x", nil, "v"), 0)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case apierrors.IsAlreadyExists(err):
				lost++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if won != 1 || lost != 7 {
		t.Fatalf("%d creates succeeded and %d got AlreadyExists, want 1 and 7", won, lost)
	}
}

func TestDeletePreconditions(t *testing.T) {
	ts := newTestStore(t, nil)
	ctx := context.Background()
	key := ts.cm.Key("a", "x")
	rv := ts.create(t, "a", "x", nil, "1")
	rvs := strconv.FormatInt(rv, 10)
	wrongUID, rightUID := types.UID("other"), types.UID("uid-a-x")
	staleRV := strconv.FormatInt(rv-1, 10)

	_, err := ts.cm.Delete(ctx, key, "x", &Preconditions{UID: &wrongUID}, nil)
	if !apierrors.IsConflict(err) {
		t.Fatalf("delete with wrong uid: got %v, want Conflict", err)
	}
	if st := apiStatus(err); st.Message != `Operation cannot be fulfilled on configmaps "x": Precondition failed: UID in precondition: other, UID in object meta: uid-a-x` {
		t.Errorf("message = %q", st.Message)
	}
	_, err = ts.cm.Delete(ctx, key, "x", &Preconditions{ResourceVersion: &staleRV}, nil)
	if !apierrors.IsConflict(err) {
		t.Fatalf("delete with stale resourceVersion: got %v, want Conflict", err)
	}
	veto := errors.New("not now")
	if _, err := ts.cm.Delete(ctx, key, "x", nil, func(runtime.Object) error { return veto }); !errors.Is(err, veto) {
		t.Fatalf("delete vetoed by check: got %v", err)
	}
	if err := errGet(ts, "a", "x"); err != nil {
		t.Fatalf("object gone after refused deletes: %v", err)
	}

	last, err := ts.cm.Delete(ctx, key, "x", &Preconditions{UID: &rightUID, ResourceVersion: &rvs}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c := last.(*corev1.ConfigMap); c.Data["v"] != "1" || c.ResourceVersion != rvs {
		t.Errorf("delete returned %+v, want the last state", c)
	}
	if err := errGet(ts, "a", "x"); !apierrors.IsNotFound(err) {
		t.Fatalf("get after delete: %v", err)
	}
	if _, err := ts.cm.Delete(ctx, key, "x", nil, nil); !apierrors.IsNotFound(err) {
		t.Fatalf("second delete: got %v, want NotFound", err)
	}
}

// A deletion conditioned on the resourceVersion a write just returned succeeds even
// if the cache has not caught up.
func TestDeleteWithJustWrittenResourceVersion(t *testing.T) {
	ts := newTestStore(t, nil)
	for i := 0; i < 20; i++ {
		name := fmt.Sprintf("x%d", i)
		ts.create(t, "a", name, nil, "1")
		rv := strconv.FormatInt(ts.set(t, "a", name, nil, "2"), 10)
		if _, err := ts.cm.Delete(context.Background(), ts.cm.Key("a", name), name, &Preconditions{ResourceVersion: &rv}, nil); err != nil {
			t.Fatalf("delete %s at resourceVersion %s: %v", name, rv, err)
		}
	}
}

// Objects written with a TTL are attached to an etcd lease that lives at least that long.
func TestCreateWithTTLUsesLease(t *testing.T) {
	ts := newTestStore(t, nil)
	ctx := context.Background()
	for _, name := range []string{"e1", "e2"} {
		if _, err := ts.cm.Create(ctx, ts.cm.Key("a", name), name, newCM("a", name, nil, "1"), 3600); err != nil {
			t.Fatal(err)
		}
	}
	ts.create(t, "a", "plain", nil, "1")
	lease := func(name string) leaseInfo {
		resp, err := testEtcd.Get(ctx, ts.cm.Key("a", name))
		if err != nil || len(resp.Kvs) != 1 {
			t.Fatalf("read %s: %v", name, err)
		}
		id := resp.Kvs[0].Lease
		if id == 0 {
			return leaseInfo{}
		}
		ttl, err := testEtcd.TimeToLive(ctx, clientv3.LeaseID(id))
		if err != nil {
			t.Fatal(err)
		}
		return leaseInfo{id: id, ttl: ttl.TTL}
	}
	l1, l2, plain := lease("e1"), lease("e2"), lease("plain")
	if l1.id == 0 || l1.ttl < 3600 {
		t.Fatalf("object with ttl 3600 has lease %+v", l1)
	}
	if l2.id != l1.id {
		t.Errorf("objects written together use leases %d and %d; one lease should be shared", l1.id, l2.id)
	}
	if plain.id != 0 {
		t.Errorf("object without ttl has lease %d", plain.id)
	}
}

type leaseInfo struct{ id, ttl int64 }
