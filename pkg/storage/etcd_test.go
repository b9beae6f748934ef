package storage

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3client"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
)

// One etcd member serves every test of the package; each test gets its own key
// prefix, so stores never see each other's objects.
var (
	testEtcd   *clientv3.Client
	prefixSeq  atomic.Int64
	configmaps = schema.GroupResource{Resource: "configmaps"}
)

func TestMain(m *testing.M) {
	// Idle watches learn the current revision quickly instead of every 30 seconds.
	bookmarkInterval = 100 * time.Millisecond
	dir, err := os.MkdirTemp("", "storage-etcd")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	e, err := startTestEtcd(dir)
	if err != nil {
		os.RemoveAll(dir)
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testEtcd = v3client.New(e.Server)
	code := m.Run()
	testEtcd.Close()
	e.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

// startTestEtcd starts a single member on unix sockets in dir, without fsync.
func startTestEtcd(dir string) (*embed.Etcd, error) {
	cfg := embed.NewConfig()
	cfg.Dir = filepath.Join(dir, "data")
	cfg.Name = "test"
	client, _ := url.Parse("unix://" + filepath.Join(dir, "c.sock"))
	peer, _ := url.Parse("unix://" + filepath.Join(dir, "p.sock"))
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*client}, []url.URL{*client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*peer}, []url.URL{*peer}
	cfg.InitialCluster = cfg.Name + "=" + peer.String()
	cfg.TickMs, cfg.ElectionMs = 10, 100
	cfg.UnsafeNoFsync = true
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	cfg.LogLevel = "fatal"
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, err
	}
	select {
	case <-e.Server.ReadyNotify():
		return e, nil
	case err := <-e.Err():
		e.Close()
		return nil, err
	case <-time.After(30 * time.Second):
		e.Close()
		return nil, fmt.Errorf("etcd not ready")
	}
}

// testStore is a started store with one resource: namespaced configmaps.
type testStore struct {
	*Store
	cm     *Resource
	ctx    context.Context
	cancel context.CancelFunc
}

// newTestStore starts a store on a fresh prefix; tweak adjusts its config.
func newTestStore(t *testing.T, tweak func(*Config)) *testStore {
	t.Helper()
	return startStoreAt(t, fmt.Sprintf("/test%d", prefixSeq.Add(1)), tweak)
}

func startStoreAt(t *testing.T, prefix string, tweak func(*Config)) *testStore {
	t.Helper()
	cfg := Config{Client: testEtcd, Prefix: prefix, SingleWriter: true}
	if tweak != nil {
		tweak(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Register(ResourceOptions{
		GroupResource: configmaps, KeyPrefix: "configmaps", Namespaced: true,
		NewFunc:     func() runtime.Object { return &corev1.ConfigMap{} },
		StorageKind: corev1.SchemeGroupVersion.WithKind("ConfigMap"),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return &testStore{Store: s, cm: r, ctx: ctx, cancel: cancel}
}

func newCM(ns, name string, labels map[string]string, value string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels, UID: types.UID("uid-" + ns + "-" + name)},
		Data:       map[string]string{"v": value},
	}
}

// create stores a configmap and returns its resourceVersion.
func (ts *testStore) create(t *testing.T, ns, name string, labels map[string]string, value string) int64 {
	t.Helper()
	out, err := ts.cm.Create(context.Background(), ts.cm.Key(ns, name), name, newCM(ns, name, labels, value), 0)
	if err != nil {
		t.Fatalf("create %s/%s: %v", ns, name, err)
	}
	return ObjectRevision(out)
}

// set replaces a configmap's value (and labels, if given) and returns its resourceVersion.
func (ts *testStore) set(t *testing.T, ns, name string, labels map[string]string, value string) int64 {
	t.Helper()
	out, _, err := ts.cm.GuaranteedUpdate(context.Background(), ts.cm.Key(ns, name), name, false,
		func(existing runtime.Object) (runtime.Object, int64, error) {
			c := existing.(*corev1.ConfigMap)
			c.Data = map[string]string{"v": value}
			if labels != nil {
				c.Labels = labels
			}
			return c, 0, nil
		})
	if err != nil {
		t.Fatalf("update %s/%s: %v", ns, name, err)
	}
	return ObjectRevision(out)
}

func (ts *testStore) remove(t *testing.T, ns, name string) int64 {
	t.Helper()
	if _, err := ts.cm.Delete(context.Background(), ts.cm.Key(ns, name), name, nil, nil); err != nil {
		t.Fatalf("delete %s/%s: %v", ns, name, err)
	}
	return ts.written.Load()
}

// next returns the next n events that are not bookmarks, failing after a few seconds.
func next(t *testing.T, w *Watcher, n int) []*Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var out []*Event
	for len(out) < n {
		evs, ok := w.Next(ctx)
		if !ok {
			t.Fatalf("watch ended after %d of %d events: %s", len(out), n, describe(out))
		}
		for _, e := range evs {
			if e.Type != watch.Bookmark {
				out = append(out, e)
			}
		}
	}
	if len(out) > n {
		t.Fatalf("got %d events, want %d: %s", len(out), n, describe(out))
	}
	return out
}

// quiet fails if a non-bookmark event arrives within d.
func quiet(t *testing.T, w *Watcher, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		evs, ok := w.Next(ctx)
		if !ok {
			return
		}
		for _, e := range evs {
			if e.Type != watch.Bookmark {
				t.Fatalf("unexpected event %s", describe([]*Event{e}))
			}
		}
	}
}

func describe(evs []*Event) string {
	s := ""
	for _, e := range evs {
		name := ""
		if m, ok := e.Object.(metav1.Object); ok {
			name = m.GetNamespace() + "/" + m.GetName()
		}
		s += fmt.Sprintf("[%s %s @%d] ", e.Type, name, e.Rev)
	}
	return s
}

func names(objs []runtime.Object) []string {
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		m := o.(metav1.Object)
		out = append(out, m.GetNamespace()+"/"+m.GetName())
	}
	return out
}

func rvString(rev int64) string { return fmt.Sprint(rev) }
