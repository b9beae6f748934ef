package storage

import (
	"context"
	"reflect"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestObserverSeesTheCacheThenEveryChangeBeforeReadsDo(t *testing.T) {
	ts := newTestStore(t, nil)
	ts.create(t, "a", "x", nil, "1")
	var mu sync.Mutex
	var seen []string
	stop := ts.cm.Observe(func(e *Event) {
		c := e.Object.(*corev1.ConfigMap)
		mu.Lock()
		seen = append(seen, string(e.Type)+" "+c.Name+"="+c.Data["v"])
		mu.Unlock()
	})
	ts.set(t, "a", "x", nil, "2")
	ts.create(t, "a", "y", nil, "1")
	ts.remove(t, "a", "x")
	// A consistent read waits for the cache; by then the observer has heard.
	if _, err := ts.cm.List(context.Background(), ListOptions{}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got := append([]string(nil), seen...)
	mu.Unlock()
	want := []string{"ADDED x=1", "MODIFIED x=2", "ADDED y=1", "DELETED x=2"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("observed %v, want %v", got, want)
	}
	stop()
	ts.create(t, "a", "z", nil, "1")
	if _, err := ts.cm.List(context.Background(), ListOptions{}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != len(want) {
		t.Errorf("a stopped observer still hears: %v", seen[len(want):])
	}
}

func TestCatchUpWaitsOnlyWhenTheCacheIsBehind(t *testing.T) {
	ts := newTestStore(t, nil)
	ts.create(t, "a", "x", nil, "1")
	if _, err := ts.cm.List(context.Background(), ListOptions{}); err != nil {
		t.Fatal(err)
	}
	if ts.CatchUp(context.Background()) {
		t.Error("a cache that has caught up waited")
	}
}
