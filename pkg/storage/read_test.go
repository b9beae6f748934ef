package storage

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

// Writes are visible to the very next read without a resourceVersion.
func TestConsistentReadAfterWrite(t *testing.T) {
	ts := newTestStore(t, nil)
	ctx := context.Background()
	for i := 0; i < 30; i++ {
		name := fmt.Sprintf("cm%02d", i)
		rv := ts.create(t, "a", name, nil, "1")
		got, err := ts.cm.Get(ctx, ts.cm.Key("a", name), name, ReadOptions{})
		if err != nil {
			t.Fatalf("get right after create: %v", err)
		}
		if ObjectRevision(got) != rv {
			t.Fatalf("get returned resourceVersion %d, want %d", ObjectRevision(got), rv)
		}
		list, err := ts.cm.List(ctx, ListOptions{Namespace: "a"})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Items) != i+1 || list.ResourceVersion < rv {
			t.Fatalf("list right after create %d: %d items at %d, want %d items at >= %d", i, len(list.Items), list.ResourceVersion, i+1, rv)
		}
		upd := ts.set(t, "a", name, nil, "2")
		got, err = ts.cm.Get(ctx, ts.cm.Key("a", name), name, ReadOptions{})
		if err != nil || ObjectRevision(got) != upd || got.(*corev1.ConfigMap).Data["v"] != "2" {
			t.Fatalf("get right after update: %v %v", got, err)
		}
	}
	ts.remove(t, "a", "cm00")
	if err := errGet(ts, "a", "cm00"); !apierrors.IsNotFound(err) {
		t.Fatalf("get right after delete: %v", err)
	}
}

// A store started on existing data serves it, as after a restart.
func TestStoreLoadsExistingObjects(t *testing.T) {
	ts := newTestStore(t, nil)
	rv := ts.create(t, "a", "kept", map[string]string{"x": "y"}, "1")
	again := startStoreAt(t, ts.cfg.Prefix, nil)
	got, err := again.cm.Get(context.Background(), again.cm.Key("a", "kept"), "kept", ReadOptions{ResourceVersion: "0"})
	if err != nil {
		t.Fatal(err)
	}
	if ObjectRevision(got) != rv || got.(*corev1.ConfigMap).Labels["x"] != "y" {
		t.Fatalf("reloaded object = %+v", got)
	}
}

func seedSelection(t *testing.T, ts *testStore) {
	t.Helper()
	for _, o := range []struct{ ns, name, app string }{
		{"a", "web-1", "web"}, {"a", "web-2", "web"}, {"a", "db-1", "db"},
		{"b", "web-1", "web"}, {"b", "cache", "cache"},
	} {
		ts.create(t, o.ns, o.name, map[string]string{"app": o.app}, "1")
	}
}

func TestListSelection(t *testing.T) {
	ts := newTestStore(t, nil)
	seedSelection(t, ts)
	cases := []struct {
		name string
		opts ListOptions
		want []string
	}{
		{"all namespaces", ListOptions{}, []string{"a/db-1", "a/web-1", "a/web-2", "b/cache", "b/web-1"}},
		{"one namespace", ListOptions{Namespace: "a"}, []string{"a/db-1", "a/web-1", "a/web-2"}},
		{"namespace is not a prefix", ListOptions{Namespace: "b/w"}, []string{}},
		{"label equality", ListOptions{Predicate: Predicate{Label: labels.SelectorFromSet(labels.Set{"app": "web"})}},
			[]string{"a/web-1", "a/web-2", "b/web-1"}},
		{"label set", ListOptions{Predicate: Predicate{Label: mustLabels(t, "app in (db,cache)")}}, []string{"a/db-1", "b/cache"}},
		{"label inequality in namespace", ListOptions{Namespace: "a", Predicate: Predicate{Label: mustLabels(t, "app!=web")}}, []string{"a/db-1"}},
		{"field name", ListOptions{Predicate: Predicate{Field: fields.OneTermEqualSelector("metadata.name", "web-1")}}, []string{"a/web-1", "b/web-1"}},
		{"field namespace and label", ListOptions{Predicate: Predicate{
			Field: fields.OneTermEqualSelector("metadata.namespace", "b"), Label: mustLabels(t, "app=web")}}, []string{"b/web-1"}},
		{"field not equal", ListOptions{Namespace: "a", Predicate: Predicate{Field: fields.OneTermNotEqualSelector("metadata.name", "web-1")}},
			[]string{"a/db-1", "a/web-2"}},
	}
	for _, c := range cases {
		for _, from := range []string{"cache", "etcd"} {
			t.Run(c.name+"/"+from, func(t *testing.T) {
				o := c.opts
				if from == "etcd" {
					o.ReadOptions = ReadOptions{ResourceVersion: strconv.FormatInt(ts.written.Load(), 10), Exact: true}
				}
				res, err := ts.cm.List(context.Background(), o)
				if err != nil {
					t.Fatal(err)
				}
				if got := names(res.Items); !reflect.DeepEqual(got, c.want) {
					t.Fatalf("got %v, want %v", got, c.want)
				}
			})
		}
	}
}

func mustLabels(t *testing.T, s string) labels.Selector {
	sel, err := labels.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return sel
}

// Paging walks every key once, at the revision of the first page, with the count of
// what remains.
func TestListPaging(t *testing.T) {
	ts := newTestStore(t, nil)
	ctx := context.Background()
	var want []string
	for i := 0; i < 23; i++ {
		ns := "a"
		if i%2 == 1 {
			ns = "b"
		}
		name := fmt.Sprintf("cm%02d", i)
		ts.create(t, ns, name, map[string]string{"parity": strconv.Itoa((i / 2) % 2)}, "1")
		want = append(want, ns+"/"+name)
	}
	sort.Strings(want)

	var got []string
	var pageRV int64
	opts := ListOptions{Limit: 5}
	for page := 0; ; page++ {
		res, err := ts.cm.List(ctx, opts)
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		if page == 0 {
			pageRV = res.ResourceVersion
			// Changes after the first page do not show in later ones.
			ts.create(t, "a", "zz-late", nil, "1")
			ts.remove(t, "b", "cm21")
		} else if res.ResourceVersion != pageRV {
			t.Fatalf("page %d at revision %d, first page at %d", page, res.ResourceVersion, pageRV)
		}
		got = append(got, names(res.Items)...)
		if res.Continue == "" {
			if res.Remaining != nil {
				t.Errorf("last page has remainingItemCount %d", *res.Remaining)
			}
			break
		}
		if len(res.Items) != 5 {
			t.Fatalf("page %d has %d items, want 5", page, len(res.Items))
		}
		if res.Remaining == nil || *res.Remaining != int64(len(want)-len(got)) {
			t.Fatalf("page %d: remainingItemCount %v, want %d", page, res.Remaining, len(want)-len(got))
		}
		opts = ListOptions{Limit: 5, Continue: res.Continue}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("pages gave %v, want %v", got, want)
	}

	// Pages of a namespace with a selector are filled up to the limit.
	got = nil
	opts = ListOptions{Namespace: "a", Limit: 3, Predicate: Predicate{Label: mustLabels(t, "parity=0")}}
	pages := 0
	for {
		res, err := ts.cm.List(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if res.Remaining != nil {
			t.Errorf("a filtered page reports remainingItemCount %d", *res.Remaining)
		}
		got = append(got, names(res.Items)...)
		if res.Continue == "" {
			break
		}
		if len(res.Items) != 3 {
			t.Fatalf("filtered page has %d items, want 3", len(res.Items))
		}
		opts = ListOptions{Namespace: "a", Limit: 3, Continue: res.Continue, Predicate: opts.Predicate}
	}
	if len(got) != 6 || pages < 2 {
		t.Fatalf("filtered pages: %d items in %d pages: %v", len(got), pages, got)
	}
	for _, n := range got {
		if n[:2] != "a/" {
			t.Fatalf("namespace a listed %s", n)
		}
	}
}

func TestListContinueTokenErrors(t *testing.T) {
	ts := newTestStore(t, nil)
	ctx := context.Background()
	for i := 0; i < 4; i++ {
		ts.create(t, "a", fmt.Sprintf("cm%d", i), nil, "1")
	}
	if _, err := ts.cm.List(ctx, ListOptions{Limit: 1, Continue: "not-a-token"}); !apierrors.IsBadRequest(err) {
		t.Errorf("garbage continue token: got %v, want BadRequest", err)
	}
	res, err := ts.cm.List(ctx, ListOptions{Namespace: "a", Limit: 1})
	if err != nil || res.Continue == "" {
		t.Fatalf("first page: %v %+v", err, res)
	}
	if _, err := ts.cm.List(ctx, ListOptions{Namespace: "b", Limit: 1, Continue: res.Continue}); !apierrors.IsBadRequest(err) {
		t.Errorf("continue token of another namespace: got %v, want BadRequest", err)
	}

	// Once the revision of the first page is compacted, the token has expired.
	ts.set(t, "a", "cm1", nil, "2")
	if _, err := testEtcd.Compact(ctx, ts.written.Load()); err != nil {
		t.Fatal(err)
	}
	_, err = ts.cm.List(ctx, ListOptions{Namespace: "a", Limit: 1, Continue: res.Continue})
	if !apierrors.IsResourceExpired(err) || apiStatus(err).Code != 410 {
		t.Fatalf("continue after compaction: got %v, want 410 Expired", err)
	}

	// The 410 carries a token that resumes after the same key at the newest
	// revision: the rest of the list, inconsistent with the first page.
	var se apierrors.APIStatus
	if !errors.As(err, &se) {
		t.Fatalf("%T is not an API status", err)
	}
	inconsistent := se.Status().ListMeta.Continue
	if inconsistent == "" {
		t.Fatal("the 410 of a compacted continue token carries no token to go on with")
	}
	rest, err := ts.cm.List(ctx, ListOptions{Namespace: "a", Limit: 2, Continue: inconsistent})
	if err != nil {
		t.Fatalf("continue with the inconsistent token: %v", err)
	}
	if len(rest.Items) != 2 || rest.Items[0].(*corev1.ConfigMap).Name != "cm1" || rest.ResourceVersion == res.ResourceVersion {
		t.Fatalf("inconsistent page: %d items from %v at rv %d (first page rv %d)", len(rest.Items), rest.Items, rest.ResourceVersion, res.ResourceVersion)
	}
	if rest.Remaining == nil || *rest.Remaining != 1 || rest.Continue == "" {
		t.Fatalf("inconsistent page: remaining %v, continue %q; want 1 left", rest.Remaining, rest.Continue)
	}
}

func TestListResourceVersionSemantics(t *testing.T) {
	ts := newTestStore(t, nil)
	ctx := context.Background()
	rvOld := ts.create(t, "a", "old", nil, "1")
	ts.set(t, "a", "old", nil, "2")
	rvNew := ts.create(t, "a", "new", nil, "1")
	rvDel := ts.remove(t, "a", "old")

	t.Run("exact shows the past", func(t *testing.T) {
		res, err := ts.cm.List(ctx, ListOptions{ReadOptions: ReadOptions{ResourceVersion: strconv.FormatInt(rvOld, 10), Exact: true}})
		if err != nil {
			t.Fatal(err)
		}
		if got := names(res.Items); !reflect.DeepEqual(got, []string{"a/old"}) || res.ResourceVersion != rvOld {
			t.Fatalf("exact list at %d: %v at %d", rvOld, got, res.ResourceVersion)
		}
		if v := res.Items[0].(*corev1.ConfigMap).Data["v"]; v != "1" || ObjectRevision(res.Items[0]) != rvOld {
			t.Fatalf("exact list shows value %s at %d", v, ObjectRevision(res.Items[0]))
		}
	})
	t.Run("not older than", func(t *testing.T) {
		res, err := ts.cm.List(ctx, ListOptions{ReadOptions: ReadOptions{ResourceVersion: strconv.FormatInt(rvNew, 10)}})
		if err != nil {
			t.Fatal(err)
		}
		if got := names(res.Items); len(got) == 0 || got[0] != "a/new" || res.ResourceVersion < rvNew {
			t.Fatalf("list not older than %d: %v at %d", rvNew, got, res.ResourceVersion)
		}
		res, err = ts.cm.List(ctx, ListOptions{ReadOptions: ReadOptions{ResourceVersion: strconv.FormatInt(rvDel, 10)}})
		if err != nil {
			t.Fatal(err)
		}
		if got := names(res.Items); !reflect.DeepEqual(got, []string{"a/new"}) || res.ResourceVersion < rvDel {
			t.Fatalf("list not older than %d: %v at %d", rvDel, got, res.ResourceVersion)
		}
		// An older resourceVersion is served from the current state, not the past.
		res, err = ts.cm.List(ctx, ListOptions{ReadOptions: ReadOptions{ResourceVersion: strconv.FormatInt(rvOld, 10)}, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if got := names(res.Items); !reflect.DeepEqual(got, []string{"a/new"}) || res.ResourceVersion < rvDel {
			t.Fatalf("paged list not older than %d: %v at %d", rvOld, got, res.ResourceVersion)
		}
	})
	t.Run("any", func(t *testing.T) {
		res, err := ts.cm.List(ctx, ListOptions{ReadOptions: ReadOptions{ResourceVersion: "0"}})
		if err != nil || res.ResourceVersion == 0 {
			t.Fatalf("list at 0: %v %+v", err, res)
		}
	})
	t.Run("most recent", func(t *testing.T) {
		res, err := ts.cm.List(ctx, ListOptions{})
		if err != nil || res.ResourceVersion < ts.written.Load() {
			t.Fatalf("most recent list at %d, last write at %d (%v)", res.ResourceVersion, ts.written.Load(), err)
		}
	})
	t.Run("too large", func(t *testing.T) {
		future := strconv.FormatInt(ts.written.Load()+1000, 10)
		_, err := ts.cm.List(ctx, ListOptions{ReadOptions: ReadOptions{ResourceVersion: future, Exact: true}})
		checkTooLarge(t, err)
		short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err = ts.cm.List(short, ListOptions{ReadOptions: ReadOptions{ResourceVersion: future}})
		checkTooLarge(t, err)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("waited %v past the request's deadline", d)
		}
		_, err = ts.cm.Get(short, ts.cm.Key("a", "new"), "new", ReadOptions{ResourceVersion: future})
		checkTooLarge(t, err)
	})
	t.Run("invalid", func(t *testing.T) {
		for _, rv := range []string{"abc", "-1", "01", "1.5"} {
			if _, err := ts.cm.List(ctx, ListOptions{ReadOptions: ReadOptions{ResourceVersion: rv}}); !apierrors.IsBadRequest(err) {
				t.Errorf("resourceVersion %q: got %v, want BadRequest", rv, err)
			}
		}
	})
	t.Run("exact but compacted", func(t *testing.T) {
		ts.set(t, "a", "new", nil, "2")
		if _, err := testEtcd.Compact(ctx, ts.written.Load()); err != nil {
			t.Fatal(err)
		}
		_, err := ts.cm.List(ctx, ListOptions{ReadOptions: ReadOptions{ResourceVersion: strconv.FormatInt(rvOld, 10), Exact: true}})
		if !apierrors.IsResourceExpired(err) || apiStatus(err).Code != 410 {
			t.Fatalf("exact list at a compacted revision: got %v, want 410 Expired", err)
		}
	})
}

// checkTooLarge wants upstream's answer for a resourceVersion the server has not
// reached: 504 Timeout with a ResourceVersionTooLarge cause and a retry hint.
func checkTooLarge(t *testing.T, err error) {
	t.Helper()
	se, ok := err.(apierrors.APIStatus)
	if !ok {
		t.Fatalf("got %v, want a status error", err)
	}
	st := se.Status()
	if st.Code != 504 || st.Reason != metav1.StatusReasonTimeout || st.Details == nil || len(st.Details.Causes) != 1 ||
		st.Details.Causes[0].Type != metav1.CauseTypeResourceVersionTooLarge || st.Details.RetryAfterSeconds < 1 {
		t.Fatalf("got %+v, want 504 Timeout with a ResourceVersionTooLarge cause", st)
	}
}

// No object in a list is newer than the list's resourceVersion, even while writes
// stream in: a watch from that resourceVersion must not replay what the list showed.
func TestListResourceVersionCoversItems(t *testing.T) {
	ts := newTestStore(t, nil)
	for _, n := range []string{"x", "y", "z"} {
		ts.create(t, "a", n, nil, "0")
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	for _, n := range []string{"x", "y", "z"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				_, _, _ = ts.cm.GuaranteedUpdate(context.Background(), ts.cm.Key("a", n), n, false,
					func(existing runtime.Object) (runtime.Object, int64, error) {
						c := existing.(*corev1.ConfigMap)
						c.Data["v"] = strconv.Itoa(i)
						return c, 0, nil
					})
			}
		}()
	}
	go func() {
		wg.Wait()
		close(done)
	}()
	for lists := 0; ; lists++ {
		select {
		case <-done:
			if lists < 10 {
				t.Logf("only %d lists raced the writes", lists)
			}
			return
		default:
		}
		res, err := ts.cm.List(context.Background(), ListOptions{ReadOptions: ReadOptions{ResourceVersion: "0"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range res.Items {
			if ObjectRevision(it) > res.ResourceVersion {
				t.Fatalf("list at resourceVersion %d holds %s at %d", res.ResourceVersion, names([]runtime.Object{it}), ObjectRevision(it))
			}
		}
	}
}
