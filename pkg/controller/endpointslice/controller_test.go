package endpointslice

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/events"
)

type fixture struct {
	c       *Controller
	client  *fake.Clientset
	factory informers.SharedInformerFactory
}

func newFixture(t *testing.T, objs ...runtime.Object) *fixture {
	t.Helper()
	client := fake.NewSimpleClientset(objs...)
	f := informers.NewSharedInformerFactory(client, 0)
	c, err := New(Config{Client: client, Services: f.Core().V1().Services(), Pods: f.Core().V1().Pods(), Nodes: f.Core().V1().Nodes(),
		EndpointSlices: f.Discovery().V1().EndpointSlices(), Recorder: events.NewFakeRecorder(10), Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		var err error
		switch o := o.(type) {
		case *corev1.Service:
			err = f.Core().V1().Services().Informer().GetIndexer().Add(o)
		case *corev1.Pod:
			err = f.Core().V1().Pods().Informer().GetIndexer().Add(o)
		case *corev1.Node:
			err = f.Core().V1().Nodes().Informer().GetIndexer().Add(o)
		case *discoveryv1.EndpointSlice:
			err = f.Discovery().V1().EndpointSlices().Informer().GetIndexer().Add(o)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	client.ClearActions()
	return &fixture{c: c, client: client, factory: f}
}

func node(name, zone string) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelTopologyZone: zone}}}
}

func TestSyncCreatesTheSlicesOfAServiceFromItsPods(t *testing.T) {
	f := newFixture(t, testService(), testPod(0), testPod(1), node("node-a", "zone-a"))
	if err := f.c.Sync(context.Background(), "ns/web"); err != nil {
		t.Fatal(err)
	}
	actions := f.client.Actions()
	if len(actions) != 1 || !actions[0].Matches("create", "endpointslices") {
		t.Fatalf("actions %v", actions)
	}
	s := actions[0].(clienttesting.CreateAction).GetObject().(*discoveryv1.EndpointSlice)
	if len(s.Endpoints) != 2 || s.Annotations[corev1.EndpointsLastChangeTriggerTime] == "" {
		t.Errorf("slice %+v", s)
	}
}

func TestSyncLeavesServicesWithoutSelectorOrOfTypeExternalNameAlone(t *testing.T) {
	noSelector := testService(func(s *corev1.Service) { s.Name, s.Spec.Selector = "kubernetes", nil })
	external := testService(func(s *corev1.Service) {
		s.Name, s.Spec.Type, s.Spec.ExternalName = "ext", corev1.ServiceTypeExternalName, "example.com"
	})
	f := newFixture(t, noSelector, external, testPod(0), node("node-a", "zone-a"))
	for _, key := range []string{"ns/kubernetes", "ns/ext", "ns/missing"} {
		if err := f.c.Sync(context.Background(), key); err != nil {
			t.Fatal(err)
		}
	}
	if a := f.client.Actions(); len(a) != 0 {
		t.Errorf("actions %v", a)
	}
}

func TestSyncWaitsForTheCacheToShowItsOwnWrites(t *testing.T) {
	f := newFixture(t, testService(), testPod(0), node("node-a", "zone-a"))
	if err := f.c.Sync(context.Background(), "ns/web"); err != nil {
		t.Fatal(err)
	}
	// The created slice has not reached the informer: a second sync must not create another.
	f.client.ClearActions()
	if err := f.c.Sync(context.Background(), "ns/web"); err == nil {
		t.Error("a sync on a stale cache succeeded")
	}
	if a := f.client.Actions(); len(a) != 0 {
		t.Errorf("actions on a stale cache: %v", a)
	}
	created, err := f.client.DiscoveryV1().EndpointSlices("ns").List(context.Background(), metav1.ListOptions{})
	if err != nil || len(created.Items) != 1 {
		t.Fatalf("slices %v %v", created, err)
	}
	_ = f.factory.Discovery().V1().EndpointSlices().Informer().GetIndexer().Add(&created.Items[0])
	f.client.ClearActions()
	if err := f.c.Sync(context.Background(), "ns/web"); err != nil {
		t.Fatal(err)
	}
	if a := f.client.Actions(); len(a) != 0 {
		t.Errorf("an up-to-date service was written again: %v", a)
	}
}

func TestSlicesOfOtherControllersDoNotTriggerSyncs(t *testing.T) {
	f := newFixture(t)
	mine := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "ns", UID: "u1",
		Labels: map[string]string{discoveryv1.LabelServiceName: "web", discoveryv1.LabelManagedBy: ManagedBy}}}
	other := mine.DeepCopy()
	other.UID, other.Labels[discoveryv1.LabelManagedBy] = "u2", "someone-else"
	f.c.addSlice(other)
	f.c.addSlice(mine)
	if f.c.queue.Len() != 0 {
		t.Fatal("slice events are delayed, not immediate")
	}
	f.c.tracker.Update(mine)
	if f.c.tracker.ShouldSync(mine) {
		t.Error("the controller's own write would trigger a sync")
	}
	newer := mine.DeepCopy()
	newer.Generation = 5
	if !f.c.tracker.ShouldSync(newer) {
		t.Error("someone else's change to a slice would not trigger a sync")
	}
	if f.c.tracker.HandleDeletion(mine) {
		t.Error("a deletion the controller did not make was taken as its own")
	}
}
