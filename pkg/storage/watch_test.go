package storage

import (
	"context"
	"reflect"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/watch"
)

type evSummary struct {
	Type  watch.EventType
	Name  string
	Rev   int64
	Value string
}

func summarize(t *testing.T, evs []*Event) []evSummary {
	t.Helper()
	out := make([]evSummary, 0, len(evs))
	for _, e := range evs {
		c := e.Object.(*corev1.ConfigMap)
		if ObjectRevision(c) != e.Rev {
			t.Errorf("%s event at revision %d carries resourceVersion %s", e.Type, e.Rev, c.ResourceVersion)
		}
		out = append(out, evSummary{e.Type, c.Namespace + "/" + c.Name, e.Rev, c.Data["v"]})
	}
	return out
}

func TestWatchFromResourceVersionReplaysLaterEvents(t *testing.T) {
	ts := newTestStore(t, nil)
	rv0 := ts.create(t, "a", "x", nil, "1")
	rv1 := ts.set(t, "a", "x", nil, "2")
	rv2 := ts.create(t, "a", "y", nil, "1")
	rv3 := ts.remove(t, "a", "x")
	rv4 := ts.create(t, "b", "z", nil, "1")
	ctx := context.Background()

	w, err := ts.cm.Watch(ctx, WatchOptions{ResourceVersion: rv0})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	want := []evSummary{
		{watch.Modified, "a/x", rv1, "2"},
		{watch.Added, "a/y", rv2, "1"},
		{watch.Deleted, "a/x", rv3, "2"}, // the last state, at the revision of the deletion
		{watch.Added, "b/z", rv4, "1"},
	}
	if got := summarize(t, next(t, w, 4)); !reflect.DeepEqual(got, want) {
		t.Fatalf("replay from %d:\n got %+v\nwant %+v", rv0, got, want)
	}
	// Then it follows live changes.
	rv5 := ts.set(t, "a", "y", nil, "2")
	if got := summarize(t, next(t, w, 1)); !reflect.DeepEqual(got, []evSummary{{watch.Modified, "a/y", rv5, "2"}}) {
		t.Fatalf("live event: %+v", got)
	}

	// A namespaced watch sees only its namespace; a later start sees only later events.
	wa, err := ts.cm.Watch(ctx, WatchOptions{Namespace: "a", ResourceVersion: rv2})
	if err != nil {
		t.Fatal(err)
	}
	defer wa.Stop()
	want = []evSummary{{watch.Deleted, "a/x", rv3, "2"}, {watch.Modified, "a/y", rv5, "2"}}
	if got := summarize(t, next(t, wa, 2)); !reflect.DeepEqual(got, want) {
		t.Fatalf("namespaced replay from %d:\n got %+v\nwant %+v", rv2, got, want)
	}
	ts.create(t, "b", "other", nil, "1")
	quiet(t, wa, 200*time.Millisecond)

	// A watch from the current revision starts empty.
	wn, err := ts.cm.Watch(ctx, WatchOptions{ResourceVersion: ts.written.Load()})
	if err != nil {
		t.Fatal(err)
	}
	defer wn.Stop()
	quiet(t, wn, 100*time.Millisecond)
}

// Without a resourceVersion a watch starts with the current objects as ADDED.
func TestWatchFromZeroListsCurrentState(t *testing.T) {
	ts := newTestStore(t, nil)
	ts.create(t, "a", "x", nil, "1")
	ts.create(t, "a", "y", nil, "1")
	ts.remove(t, "a", "x")
	rv := ts.create(t, "b", "z", nil, "1")
	if err := ts.cm.WaitFresh(context.Background(), ReadOptions{ResourceVersion: strconv.FormatInt(rv, 10)}); err != nil {
		t.Fatal(err)
	}
	w, err := ts.cm.Watch(context.Background(), WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	got := summarize(t, next(t, w, 2))
	if got[0].Name != "a/y" || got[1].Name != "b/z" || got[0].Type != watch.Added || got[1].Type != watch.Added {
		t.Fatalf("initial events %+v, want ADDED a/y and b/z", got)
	}
	rv = ts.set(t, "b", "z", nil, "2")
	if got := summarize(t, next(t, w, 1)); got[0] != (evSummary{watch.Modified, "b/z", rv, "2"}) {
		t.Fatalf("live event %+v", got)
	}
}

// With a selector, objects that start or stop matching are ADDED or DELETED, as
// upstream's watch cache reports them.
func TestWatchSelectorTransitions(t *testing.T) {
	ts := newTestStore(t, nil)
	rv := ts.create(t, "a", "x", map[string]string{"app": "db"}, "1")
	w, err := ts.cm.Watch(context.Background(), WatchOptions{ResourceVersion: rv,
		Predicate: Predicate{Label: mustLabels(t, "app=web")}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	web, db := map[string]string{"app": "web"}, map[string]string{"app": "db"}
	rvIn := ts.set(t, "a", "x", web, "2")
	rvMod := ts.set(t, "a", "x", web, "3")
	rvOut := ts.set(t, "a", "x", db, "4")
	ts.set(t, "a", "x", db, "5")
	ts.create(t, "a", "y", db, "1")
	rvAdd := ts.create(t, "a", "z", web, "1")
	rvDel := ts.remove(t, "a", "z")
	want := []evSummary{
		{watch.Added, "a/x", rvIn, "2"},
		{watch.Modified, "a/x", rvMod, "3"},
		{watch.Deleted, "a/x", rvOut, "4"},
		{watch.Added, "a/z", rvAdd, "1"},
		{watch.Deleted, "a/z", rvDel, "1"},
	}
	if got := summarize(t, next(t, w, 5)); !reflect.DeepEqual(got, want) {
		t.Fatalf("selector transitions:\n got %+v\nwant %+v", got, want)
	}
	quiet(t, w, 100*time.Millisecond)
}

// A resourceVersion older than the kept history ends in 410 Gone (Expired), so that
// clients relist.
func TestWatchTooOldResourceVersion(t *testing.T) {
	ts := newTestStore(t, func(c *Config) { c.WatchHistory = 3 })
	first := ts.create(t, "a", "x", nil, "0")
	var rvs []int64
	for i := 1; i <= 6; i++ {
		rvs = append(rvs, ts.set(t, "a", "x", nil, strconv.Itoa(i)))
	}
	if err := ts.cm.WaitFresh(context.Background(), ReadOptions{ResourceVersion: strconv.FormatInt(rvs[5], 10)}); err != nil {
		t.Fatal(err)
	}
	_, err := ts.cm.Watch(context.Background(), WatchOptions{ResourceVersion: first})
	if !apierrors.IsResourceExpired(err) || apiStatus(err).Code != 410 {
		t.Fatalf("watch from %d with 3 events kept: got %v, want 410 Expired", first, err)
	}
	if msg := apiStatus(err).Message; msg == "" || msg[:len("too old resource version")] != "too old resource version" {
		t.Errorf("message %q", msg)
	}
	// The oldest resourceVersion still covered replays the kept events.
	w, err := ts.cm.Watch(context.Background(), WatchOptions{ResourceVersion: rvs[2]})
	if err != nil {
		t.Fatalf("watch from %d (history holds %v): %v", rvs[2], rvs[3:], err)
	}
	defer w.Stop()
	got := summarize(t, next(t, w, 3))
	if got[0].Rev != rvs[3] || got[2].Rev != rvs[5] {
		t.Fatalf("replay %+v, want revisions %v", got, rvs[3:])
	}

	// A store knows nothing before it started.
	again := startStoreAt(t, ts.cfg.Prefix, nil)
	if _, err := again.cm.Watch(context.Background(), WatchOptions{ResourceVersion: rvs[4]}); !apierrors.IsResourceExpired(err) {
		t.Fatalf("watch from before the store started: got %v, want 410 Expired", err)
	}
}

func TestWatchFutureResourceVersion(t *testing.T) {
	ts := newTestStore(t, nil)
	ts.create(t, "a", "x", nil, "0")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := ts.cm.Watch(ctx, WatchOptions{ResourceVersion: ts.written.Load() + 1000})
	checkTooLarge(t, err)
}

func TestWatchBookmarks(t *testing.T) {
	ts := newTestStore(t, nil)
	rv := ts.create(t, "a", "x", nil, "0")
	with, err := ts.cm.Watch(context.Background(), WatchOptions{Namespace: "a", ResourceVersion: rv, Bookmarks: true})
	if err != nil {
		t.Fatal(err)
	}
	defer with.Stop()
	without, err := ts.cm.Watch(context.Background(), WatchOptions{Namespace: "a", ResourceVersion: rv})
	if err != nil {
		t.Fatal(err)
	}
	defer without.Stop()
	// A write in another namespace moves the revision without an event for these watchers.
	ts.create(t, "b", "y", nil, "0")
	latest := ts.written.Load()

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var bm *Event
	for bm == nil {
		evs, ok := with.Next(ctx)
		if !ok {
			t.Fatal("no bookmark within 3s")
		}
		for _, e := range evs {
			if e.Type == watch.Bookmark {
				bm = e
			}
		}
	}
	if bm.Rev < latest {
		t.Fatalf("bookmark at %d, before the latest revision %d", bm.Rev, latest)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	if evs, ok := without.Next(ctx2); ok {
		t.Fatalf("a watch that did not ask for bookmarks got %s", describe(evs))
	}
}

// sendInitialEvents streams the current state, then a bookmark that marks its end.
func TestWatchSendInitialEvents(t *testing.T) {
	ts := newTestStore(t, nil)
	ts.create(t, "a", "x", nil, "0")
	rv := ts.create(t, "a", "y", nil, "0")
	w, err := ts.cm.Watch(context.Background(), WatchOptions{ResourceVersion: rv, SendInitialEvents: true, Bookmarks: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var got []*Event
	for len(got) < 3 {
		evs, ok := w.Next(ctx)
		if !ok {
			t.Fatalf("watch ended after %s", describe(got))
		}
		got = append(got, evs...)
	}
	if got[0].Type != watch.Added || got[1].Type != watch.Added || got[2].Type != watch.Bookmark || !got[2].InitialEventsEnd {
		t.Fatalf("got %s, want two ADDED and the end bookmark", describe(got))
	}
	if got[2].Rev < rv {
		t.Fatalf("initial-events-end bookmark at %d, before %d", got[2].Rev, rv)
	}
}

func TestWatchStop(t *testing.T) {
	ts := newTestStore(t, nil)
	w, err := ts.cm.Watch(context.Background(), WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan bool)
	go func() {
		_, ok := w.Next(context.Background())
		done <- ok
	}()
	time.Sleep(20 * time.Millisecond)
	w.Stop()
	select {
	case ok := <-done:
		if ok {
			t.Fatal("Next returned events after Stop")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Next did not return after Stop")
	}
	ts.create(t, "a", "x", nil, "0")
	if _, ok := w.Next(context.Background()); ok {
		t.Fatal("a stopped watch delivered an event")
	}
}
