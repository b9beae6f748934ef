package garbagecollector

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	metadatafake "k8s.io/client-go/metadata/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
)

// staticMapper knows pods, replica sets, config maps, namespaces and cluster roles.
type staticMapper struct{ meta.RESTMapper }

func (staticMapper) Reset() {}

func newMapper() staticMapper {
	m := meta.NewDefaultRESTMapper(nil)
	m.Add(podKind, meta.RESTScopeNamespace)
	m.Add(rsKind, meta.RESTScopeNamespace)
	m.Add(schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, meta.RESTScopeNamespace)
	m.Add(nsKind, meta.RESTScopeRoot)
	m.Add(schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole"}, meta.RESTScopeRoot)
	return staticMapper{m}
}

type fixture struct {
	t        *testing.T
	md       *metadatafake.FakeMetadataClient
	gc       *Controller
	recorder *events.FakeRecorder
}

// partial is an object as the metadata API holds it.
func partial(kind schema.GroupVersionKind, m *metav1.ObjectMeta) *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: kind.GroupVersion().String(), Kind: kind.Kind}, ObjectMeta: *m}
}

// newFixture stores the objects in a fake API and feeds them to the graph.
func newFixture(t *testing.T, objs ...*metav1.PartialObjectMetadata) *fixture {
	t.Helper()
	scheme := metadatafake.NewTestScheme()
	metav1.AddMetaToScheme(scheme)
	var ros []runtime.Object
	for _, o := range objs {
		ros = append(ros, o)
	}
	md := metadatafake.NewSimpleMetadataClient(scheme, ros...)
	rec := events.NewFakeRecorder(10)
	gc := &Controller{cfg: Config{Metadata: md, Recorder: rec}, log: slog.New(slog.DiscardHandler), graph: newGraph(),
		api: &api{client: md, mapper: newMapper()}, absent: newAbsentCache(10),
		changes:  workqueue.NewTyped[*event](),
		toDelete: workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[*node]()),
		toOrphan: workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[*node]()),
		reported: map[[2]types.UID]bool{}}
	for _, o := range objs {
		gc.graph.apply(&event{typ: addEvent, gvk: o.GroupVersionKind(), obj: &o.ObjectMeta})
	}
	return &fixture{t: t, md: md, gc: gc, recorder: rec}
}

func (f *fixture) node(name string) *node {
	f.t.Helper()
	n, ok := f.gc.graph.node(types.UID(name))
	if !ok {
		f.t.Fatalf("%s not in the graph", name)
	}
	return n
}

// writes lists the fake API's changes as "verb resource name".
func (f *fixture) writes() []string {
	var out []string
	for _, a := range f.md.Actions() {
		if a.GetVerb() == "get" || a.GetVerb() == "list" {
			continue
		}
		name := ""
		switch a := a.(type) {
		case clienttesting.DeleteAction:
			name = a.GetName()
		case clienttesting.PatchAction:
			name = a.GetName()
		}
		out = append(out, a.GetVerb()+" "+a.GetResource().Resource+" "+name)
	}
	return out
}

func (f *fixture) expectWrites(want ...string) {
	f.t.Helper()
	if got := f.writes(); strings.Join(got, "|") != strings.Join(want, "|") {
		f.t.Errorf("writes %v, want %v", got, want)
	}
}

func TestADependentOfAGoneOwnerIsDeletedInTheBackground(t *testing.T) {
	pod := partial(podKind, object("ns", "pod", owner(rsKind, "rs", true)))
	f := newFixture(t, pod)
	if err := f.gc.attemptToDelete(context.Background(), f.node("pod")); err != nil {
		t.Fatal(err)
	}
	f.expectWrites("delete pods pod")
	del := f.md.Actions()[len(f.md.Actions())-1].(clienttesting.DeleteAction)
	opts := del.GetDeleteOptions()
	if *opts.PropagationPolicy != metav1.DeletePropagationBackground || *opts.Preconditions.UID != "pod" {
		t.Errorf("options %+v", opts)
	}
}

func TestADependentWithALiveOwnerStays(t *testing.T) {
	f := newFixture(t, partial(rsKind, object("ns", "rs")), partial(podKind, object("ns", "pod", owner(rsKind, "rs", true))))
	if err := f.gc.attemptToDelete(context.Background(), f.node("pod")); err != nil {
		t.Fatal(err)
	}
	f.expectWrites()
}

func TestADanglingReferenceIsRemovedWhenAnotherOwnerKeepsTheObject(t *testing.T) {
	f := newFixture(t, partial(rsKind, object("ns", "rs")),
		partial(podKind, object("ns", "pod", owner(rsKind, "rs", true), owner(rsKind, "gone", false))))
	if err := f.gc.attemptToDelete(context.Background(), f.node("pod")); err != nil {
		t.Fatal(err)
	}
	f.expectWrites("patch pods pod")
	patch := f.md.Actions()[len(f.md.Actions())-1].(clienttesting.PatchAction).GetPatch()
	var p metaPatch
	_ = json.Unmarshal(patch, &p)
	if p.Metadata.OwnerReferences == nil || len(*p.Metadata.OwnerReferences) != 1 || (*p.Metadata.OwnerReferences)[0].Name != "rs" || p.Metadata.ResourceVersion == "" {
		t.Errorf("patch %s", patch)
	}
}

func TestAForegroundOwnerLosesItsFinalizerOnceNoDependentBlocks(t *testing.T) {
	rs := partial(rsKind, deleting(object("ns", "rs"), metav1.FinalizerDeleteDependents))
	f := newFixture(t, rs)
	if err := f.gc.attemptToDelete(context.Background(), f.node("rs")); err != nil {
		t.Fatal(err)
	}
	f.expectWrites("patch replicasets rs")
	patch := string(f.md.Actions()[len(f.md.Actions())-1].(clienttesting.PatchAction).GetPatch())
	if !strings.Contains(patch, `"finalizers":[]`) {
		t.Errorf("patch %s", patch)
	}
}

func TestAForegroundOwnerWaitsForBlockingDependentsAndPushesThem(t *testing.T) {
	rs := partial(rsKind, deleting(object("ns", "rs"), metav1.FinalizerDeleteDependents))
	pod := partial(podKind, object("ns", "pod", owner(rsKind, "rs", true)))
	f := newFixture(t, rs, pod)
	if err := f.gc.attemptToDelete(context.Background(), f.node("rs")); err != nil {
		t.Fatal(err)
	}
	f.expectWrites()
	if f.gc.toDelete.Len() != 1 {
		t.Errorf("the blocking dependent was not queued")
	}
	// The dependent, whose only owner waits, goes.
	if err := f.gc.attemptToDelete(context.Background(), f.node("pod")); err != nil {
		t.Fatal(err)
	}
	f.expectWrites("delete pods pod")
}

func TestOrphaningRemovesTheOwnerFromDependentsThenTheFinalizer(t *testing.T) {
	rs := partial(rsKind, deleting(object("ns", "rs"), metav1.FinalizerOrphanDependents))
	a := partial(podKind, object("ns", "a", owner(rsKind, "rs", true)))
	f := newFixture(t, rs, a)
	if err := f.gc.attemptToOrphan(context.Background(), f.node("rs")); err != nil {
		t.Fatal(err)
	}
	f.expectWrites("patch pods a", "patch replicasets rs")
	patch := string(f.md.Actions()[1].(clienttesting.PatchAction).GetPatch())
	if !strings.Contains(patch, `"ownerReferences":[]`) {
		t.Errorf("dependent patch %s", patch)
	}
}

func TestAClusterScopedDependentOfANamespacedOwnerIsLeftWithAnEvent(t *testing.T) {
	crKind := schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole"}
	cm := schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}
	role := partial(crKind, object("", "role", owner(cm, "cm", false)))
	f := newFixture(t, role)
	if err := f.gc.attemptToDelete(context.Background(), f.node("role")); err != nil {
		t.Fatal(err)
	}
	f.expectWrites()
	if e := <-f.recorder.Events; e != `Warning OwnerRefInvalidNamespace ownerRef [v1/ConfigMap, namespace: , name: cm, uid: cm] does not exist in namespace ""` {
		t.Errorf("event %q", e)
	}
	// Said once.
	_ = f.gc.attemptToDelete(context.Background(), f.node("role"))
	select {
	case e := <-f.recorder.Events:
		t.Errorf("second event %q", e)
	default:
	}
}

func TestAVirtualOwnerThatDoesNotExistIsDroppedFromTheGraph(t *testing.T) {
	f := newFixture(t, partial(podKind, object("ns", "pod", owner(rsKind, "rs", true))))
	if err := f.gc.attemptToDelete(context.Background(), f.node("rs")); err != nil {
		t.Fatal(err)
	}
	if f.gc.changes.Len() != 1 {
		t.Fatal("no virtual delete event")
	}
	f.gc.processChange()
	if _, ok := f.gc.graph.node("rs"); ok {
		t.Error("the absent owner stayed in the graph")
	}
	if f.gc.toDelete.Len() != 1 {
		t.Error("its dependent was not queued")
	}
}

func TestDeletableResources(t *testing.T) {
	lists := []*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{
			{Name: "pods", Kind: "Pod", Verbs: []string{"delete", "list", "watch", "get"}},
			{Name: "pods/status", Kind: "Pod", Verbs: []string{"get", "patch"}},
			{Name: "events", Kind: "Event", Verbs: []string{"delete", "list", "watch"}},
			{Name: "bindings", Kind: "Binding", Verbs: []string{"create"}},
		}},
		{GroupVersion: "events.k8s.io/v1", APIResources: []metav1.APIResource{{Name: "events", Kind: "Event", Verbs: []string{"delete", "list", "watch"}}}},
	}
	got := deletable(lists)
	if len(got) != 1 || got[schema.GroupVersionResource{Version: "v1", Resource: "pods"}].Kind != "Pod" {
		t.Errorf("got %v", got)
	}
}
