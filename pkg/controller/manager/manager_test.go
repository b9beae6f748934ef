package manager

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
	"k8s.io/client-go/tools/cache"
)

func TestDisabledNamesResolveToCanonicalNames(t *testing.T) {
	descs := []Descriptor{{Name: "replicaset-controller", Aliases: []string{"replicaset"}}, {Name: "garbage-collector-controller", Aliases: []string{"garbagecollector"}}}
	cases := []struct {
		name    string
		given   []string
		want    []string
		wantErr string
	}{
		{"upstream's canonical name", []string{"replicaset-controller"}, []string{"replicaset-controller"}, ""},
		{"the name without -controller", []string{"garbage-collector"}, []string{"garbage-collector-controller"}, ""},
		{"upstream's old alias", []string{"garbagecollector", " replicaset "}, []string{"garbage-collector-controller", "replicaset-controller"}, ""},
		{"empty entries are ignored", []string{""}, nil, ""},
		{"an unknown name is refused with the known ones", []string{"replicaset", "nope"}, nil, `unknown controller "nope"; known controllers: garbage-collector-controller, replicaset-controller`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := disabledSet(descs, c.given)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil || len(got) != len(c.want) {
				t.Fatalf("got %v, %v", got, err)
			}
			for _, w := range c.want {
				if !got[w] {
					t.Errorf("%s not disabled", w)
				}
			}
		})
	}
}

func TestEveryControllerHasAUniqueName(t *testing.T) {
	seen := map[string]string{}
	for _, d := range Descriptors() {
		if d.New == nil {
			t.Errorf("%s has no constructor", d.Name)
		}
		for _, n := range d.known() {
			if other, dup := seen[n]; dup && other != d.Name {
				t.Errorf("%q names both %s and %s", n, other, d.Name)
			}
			seen[n] = d.Name
		}
	}
}

func TestRunBuildsEnabledControllersWithSharedInformersAndStopsThem(t *testing.T) {
	client := fake.NewSimpleClientset(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}})
	md := metadatafake.NewSimpleMetadataClient(metadatafake.NewTestScheme())
	var sawNamespace, stopped atomic.Bool
	descs := []Descriptor{
		{Name: "one-controller", New: func(cc ControllerContext) (Runnable, error) {
			inf := cc.Informers.Core().V1().Namespaces().Informer()
			return RunnableFunc(func(ctx context.Context) error {
				if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
					return nil
				}
				_, ok, _ := inf.GetIndexer().GetByKey("default")
				sawNamespace.Store(ok)
				<-ctx.Done()
				stopped.Store(true)
				return nil
			}), nil
		}},
		{Name: "off-controller", New: func(ControllerContext) (Runnable, error) {
			t.Error("a disabled controller was built")
			return nil, nil
		}},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, client, md, nil, Config{Disabled: []string{"off"}}, descs, slog.New(slog.DiscardHandler))
	}()
	deadline := time.Now().Add(5 * time.Second)
	for !sawNamespace.Load() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !sawNamespace.Load() || !stopped.Load() {
		t.Errorf("controller saw the namespace: %v, stopped: %v", sawNamespace.Load(), stopped.Load())
	}
}

func TestAControllerThatFailsStopsTheManager(t *testing.T) {
	client := fake.NewSimpleClientset()
	md := metadatafake.NewSimpleMetadataClient(metadatafake.NewTestScheme())
	var otherStopped atomic.Bool
	descs := []Descriptor{
		{Name: "bad-controller", New: func(ControllerContext) (Runnable, error) {
			return RunnableFunc(func(context.Context) error { return errors.New("cannot work") }), nil
		}},
		{Name: "good-controller", New: func(ControllerContext) (Runnable, error) {
			return RunnableFunc(func(ctx context.Context) error { <-ctx.Done(); otherStopped.Store(true); return nil }), nil
		}},
	}
	err := run(context.Background(), client, md, nil, Config{}, descs, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "bad-controller: cannot work") {
		t.Errorf("err = %v", err)
	}
	if !otherStopped.Load() {
		t.Error("the other controller was not stopped")
	}
}

func TestDropManagedFields(t *testing.T) {
	obj := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}}}
	out, err := dropManagedFields(obj)
	if err != nil || out.(*corev1.Pod).ManagedFields != nil {
		t.Errorf("got %v, %v", out, err)
	}
	if _, err := dropManagedFields("not an object"); err != nil {
		t.Errorf("a non-object failed the transform: %v", err)
	}
}
