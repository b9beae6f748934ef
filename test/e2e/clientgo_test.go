package e2e

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// A client-go informer lists and watches without errors, sees every change once,
// and does not relist in a loop.
func TestClientGoInformer(t *testing.T) {
	for _, proto := range []bool{false, true} {
		t.Run(fmt.Sprintf("protobuf=%v", proto), func(t *testing.T) {
			cfg, err := cluster.RESTConfig()
			if err != nil {
				t.Fatal(err)
			}
			if proto {
				cfg.ContentType = "application/vnd.kubernetes.protobuf"
				cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
			}
			cs, err := kubernetes.NewForConfig(cfg)
			if err != nil {
				t.Fatal(err)
			}
			s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			for i := 0; i < 5; i++ {
				s.Run("create", "cm", fmt.Sprintf("pre-%d", i))
			}
			var adds, updates, deletes atomic.Int32
			factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(s.Namespace))
			inf := factory.Core().V1().ConfigMaps().Informer()
			// kube-root-ca.crt is published into every namespace by its controller;
			// only the ConfigMaps this test makes are counted.
			ours := func(o interface{}) bool {
				cm, ok := o.(*corev1.ConfigMap)
				return !ok || cm.Name != "kube-root-ca.crt"
			}
			_, _ = inf.AddEventHandler(cache.FilteringResourceEventHandler{
				FilterFunc: ours,
				Handler: cache.ResourceEventHandlerFuncs{
					AddFunc:    func(interface{}) { adds.Add(1) },
					UpdateFunc: func(o, n interface{}) { updates.Add(1) },
					DeleteFunc: func(interface{}) { deletes.Add(1) },
				},
			})
			var watchErrs atomic.Int32
			_ = inf.SetWatchErrorHandler(func(_ *cache.Reflector, err error) { watchErrs.Add(1); t.Logf("watch error: %v", err) })
			factory.Start(ctx.Done())
			if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
				t.Fatal("cache did not sync")
			}
			framework.Eventually(t, 10*time.Second, func() error {
				if adds.Load() != 5 {
					return fmt.Errorf("adds=%d", adds.Load())
				}
				return nil
			})
			s.Run("create", "cm", "live")
			s.Run("label", "cm", "live", "a=b")
			s.Run("delete", "cm", "pre-0")
			framework.Eventually(t, 10*time.Second, func() error {
				if adds.Load() != 6 || updates.Load() != 1 || deletes.Load() != 1 {
					return fmt.Errorf("adds=%d updates=%d deletes=%d", adds.Load(), updates.Load(), deletes.Load())
				}
				return nil
			})
			time.Sleep(2 * time.Second)
			if adds.Load() != 6 || updates.Load() != 1 || deletes.Load() != 1 || watchErrs.Load() != 0 {
				t.Fatalf("after quiet: adds=%d updates=%d deletes=%d watch errors=%d", adds.Load(), updates.Load(), deletes.Load(), watchErrs.Load())
			}
		})
	}
}

// A watch from an old resourceVersion replays what happened since; bookmarks arrive
// when asked for; a watch with sendInitialEvents ends its initial state with the
// marked bookmark.
func TestWatchSemantics(t *testing.T) {
	cs := cluster.Client(t)
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	ctx := ctxT(t)
	cms := cs.CoreV1().ConfigMaps(s.Namespace)
	a, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "b"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: a.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	ev := next(t, w)
	if ev.Type != watch.Added || ev.Object.(*corev1.ConfigMap).Name != "b" {
		t.Fatalf("replay from a's resourceVersion: got %s %v", ev.Type, ev.Object)
	}
	w.Stop()

	send := true
	w, err = cms.Watch(ctx, metav1.ListOptions{SendInitialEvents: &send, AllowWatchBookmarks: true, ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for {
		ev := next(t, w)
		if ev.Type == watch.Bookmark {
			if ev.Object.(*corev1.ConfigMap).Annotations["k8s.io/initial-events-end"] != "true" {
				t.Fatalf("bookmark without the initial-events-end annotation: %v", ev.Object)
			}
			break
		}
		seen[ev.Object.(*corev1.ConfigMap).Name] = true
	}
	if !seen["a"] || !seen["b"] {
		t.Fatalf("initial events: %v", seen)
	}
	w.Stop()

	_, err = cms.Watch(ctx, metav1.ListOptions{ResourceVersion: "1", AllowWatchBookmarks: true})
	if err != nil {
		t.Fatal(err)
	}
}

func next(t *testing.T, w watch.Interface) watch.Event {
	t.Helper()
	select {
	case ev, ok := <-w.ResultChan():
		if !ok {
			t.Fatal("watch closed")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no watch event within 10s")
	}
	return watch.Event{}
}
