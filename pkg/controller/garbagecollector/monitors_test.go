package garbagecollector

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	fakediscovery "k8s.io/client-go/discovery/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/events"
)

// A custom resource whose CRD is deleted stops being watched: its informer
// ends instead of listing a resource that no longer exists.
func TestAResourceThatGoesAwayIsNoLongerWatched(t *testing.T) {
	scheme := metadatafake.NewTestScheme()
	metav1.AddMetaToScheme(scheme)
	md := metadatafake.NewSimpleMetadataClient(scheme)
	widgets := &metav1.APIResourceList{GroupVersion: "example.com/v1", APIResources: []metav1.APIResource{
		{Name: "widgets", Kind: "Widget", Namespaced: true, Verbs: metav1.Verbs{"delete", "list", "watch"}}}}
	fake := &clienttesting.Fake{Resources: []*metav1.APIResourceList{widgets}}
	disc := &listedDiscovery{FakeDiscovery: &fakediscovery.FakeDiscovery{Fake: fake}}
	gc, err := New(Config{Metadata: md, Discovery: disc, Recorder: events.NewFakeRecorder(10), Workers: 1, ResyncPeriod: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := gc.syncMonitors(ctx); err != nil {
		t.Fatal(err)
	}
	gvr := schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}
	m := gc.monitors[gvr]
	if m == nil || m.stop == nil {
		t.Fatalf("widgets are not watched by an informer of the collector's own: %+v", m)
	}
	fake.Resources = nil
	if _, err := gc.syncMonitors(ctx); err != nil {
		t.Fatal(err)
	}
	if gc.monitors[gvr] != nil {
		t.Fatal("widgets are still watched after they went away")
	}
	select {
	case <-m.stop:
	default:
		t.Fatal("the widgets informer was not stopped")
	}
}

// listedDiscovery answers preferred resources from the fake's list.
type listedDiscovery struct{ *fakediscovery.FakeDiscovery }

func (d *listedDiscovery) ServerPreferredResources() ([]*metav1.APIResourceList, error) {
	return d.Resources, nil
}
func (d *listedDiscovery) Fresh() bool { return true }
func (d *listedDiscovery) Invalidate() {}
