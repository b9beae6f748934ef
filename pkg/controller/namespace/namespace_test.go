package namespace

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
	clienttesting "k8s.io/client-go/testing"

	"github.com/minik8s/minik8s/pkg/controller/worker"
)

var now = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func TestProblemsNameWhatIsLeftAndWhy(t *testing.T) {
	cm := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	dep := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	cases := []struct {
		name string
		pass pass
		want map[corev1.NamespaceConditionType]string
	}{
		{"a clean pass has no problems", pass{}, map[corev1.NamespaceConditionType]string{}},
		{"remaining objects are listed by resource, sorted", pass{remaining: map[schema.GroupVersionResource]int{dep: 1, cm: 2}},
			map[corev1.NamespaceConditionType]string{corev1.NamespaceContentRemaining: "Some resources are remaining: configmaps. has 2 resource instances, deployments.apps has 1 resource instances"}},
		{"finalizers holding content are counted", pass{finalizers: map[string]int{"example.com/x": 3}},
			map[corev1.NamespaceConditionType]string{corev1.NamespaceFinalizersRemaining: "Some content in the namespace has finalizers remaining: example.com/x in 3 resource instances"}},
		{"delete errors are joined", pass{deleteErrs: []error{errors.New("b failed"), errors.New("a failed")}},
			map[corev1.NamespaceConditionType]string{corev1.NamespaceDeletionContentFailure: "Failed to delete all resource types, 2 remaining: a failed, b failed"}},
		{"a discovery failure is reported", pass{discoveryErr: errors.New("metrics.k8s.io unavailable")},
			map[corev1.NamespaceConditionType]string{corev1.NamespaceDeletionDiscoveryFailure: "metrics.k8s.io unavailable"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.pass.problems()
			if len(got) != len(c.want) {
				t.Fatalf("got %d problems %v, want %d", len(got), got, len(c.want))
			}
			for typ, msg := range c.want {
				if got[typ].Message != msg || got[typ].Status != corev1.ConditionTrue {
					t.Errorf("%s: got %q (%s), want %q", typ, got[typ].Message, got[typ].Status, msg)
				}
			}
		})
	}
}

func TestMergeConditionsKeepsTransitionTimesAndPositions(t *testing.T) {
	earlier := metav1.NewTime(now.Add(-time.Hour))
	status := corev1.NamespaceStatus{Conditions: []corev1.NamespaceCondition{
		{Type: "Other", Status: corev1.ConditionTrue, LastTransitionTime: earlier},
		{Type: corev1.NamespaceContentRemaining, Status: corev1.ConditionTrue, Reason: "SomeResourcesRemain", Message: "old", LastTransitionTime: earlier},
	}}
	if !mergeConditions(&status, nil, metav1.NewTime(now)) {
		t.Fatal("no change reported")
	}
	if len(status.Conditions) != 6 || status.Conditions[0].Type != "Other" || status.Conditions[1].Type != corev1.NamespaceContentRemaining {
		t.Fatalf("conditions reordered or missing: %+v", status.Conditions)
	}
	c := status.Conditions[1]
	if c.Status != corev1.ConditionFalse || c.Reason != "ContentRemoved" || !c.LastTransitionTime.Equal(&metav1.Time{Time: now}) {
		t.Errorf("content condition = %+v", c)
	}
	if mergeConditions(&status, nil, metav1.NewTime(now.Add(time.Minute))) {
		t.Error("an unchanged pass reported a change")
	}
	problems := map[corev1.NamespaceConditionType]corev1.NamespaceCondition{corev1.NamespaceDeletionContentFailure: {Status: corev1.ConditionTrue, Reason: "ContentDeletionFailed", Message: "x"}}
	mergeConditions(&status, problems, metav1.NewTime(now.Add(time.Minute)))
	failure := findCondition(status.Conditions, corev1.NamespaceDeletionContentFailure)
	if failure.Status != corev1.ConditionTrue || !failure.LastTransitionTime.Equal(&metav1.Time{Time: now.Add(time.Minute)}) {
		t.Errorf("failure condition = %+v", failure)
	}
}

func TestRemainderExpectsGracePeriodsAndFinalizersOnly(t *testing.T) {
	gvr := schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	withFinalizer := metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: "a", Finalizers: []string{"f"}}}
	plain := metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: "b"}}
	cases := []struct {
		name         string
		items        []metav1.PartialObjectMetadata
		grace        int64
		wantEstimate int64
		wantErr      bool
	}{
		{"nothing left needs no wait", nil, 30, 0, false},
		{"objects in their grace period wait for it", []metav1.PartialObjectMetadata{plain}, 30, 30, false},
		{"objects held by finalizers wait fifteen seconds", []metav1.PartialObjectMetadata{withFinalizer}, 0, 15, false},
		{"objects left for no reason are an error", []metav1.PartialObjectMetadata{plain}, 0, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l, err := remainder(gvr, "ns", c.items, c.grace)
			if (err != nil) != c.wantErr || l.estimate != c.wantEstimate || l.count != len(c.items) {
				t.Errorf("got %+v, %v", l, err)
			}
		})
	}
}

func TestLongestGraceIgnoresFinishedPods(t *testing.T) {
	g := func(s int64) *int64 { return &s }
	pods := []corev1.Pod{
		{Spec: corev1.PodSpec{TerminationGracePeriodSeconds: g(30)}},
		{Spec: corev1.PodSpec{TerminationGracePeriodSeconds: g(300)}, Status: corev1.PodStatus{Phase: corev1.PodSucceeded}},
		{Spec: corev1.PodSpec{TerminationGracePeriodSeconds: g(60)}, Status: corev1.PodStatus{Phase: corev1.PodRunning}},
	}
	if got := longestGrace(pods); got != 60 {
		t.Errorf("got %d, want 60", got)
	}
}

// fixture is a terminating namespace, a fake API and a fake metadata client.
type fixture struct {
	client   *fake.Clientset
	metadata *metadatafake.FakeMetadataClient
	ctrl     *Controller
}

func newFixture(t *testing.T, ns *corev1.Namespace, content ...runtime.Object) *fixture {
	t.Helper()
	client := fake.NewSimpleClientset(ns)
	scheme := metadatafake.NewTestScheme()
	metav1.AddMetaToScheme(scheme)
	md := metadatafake.NewSimpleMetadataClient(scheme, content...)
	// The fake tracker knows no deletecollection: delete what has no finalizers.
	md.PrependReactor("delete-collection", "*", func(a clienttesting.Action) (bool, runtime.Object, error) {
		for _, o := range content {
			m := o.(*metav1.PartialObjectMetadata)
			if len(m.Finalizers) == 0 {
				_ = md.Tracker().Delete(a.GetResource(), m.Namespace, m.Name)
			}
		}
		return true, nil, nil
	})
	factory := informers.NewSharedInformerFactory(client, 0)
	lists := []*metav1.APIResourceList{{GroupVersion: "v1", APIResources: []metav1.APIResource{
		{Name: "configmaps", Namespaced: true, Kind: "ConfigMap", Verbs: []string{"create", "delete", "deletecollection", "get", "list"}},
		{Name: "bindings", Namespaced: true, Kind: "Binding", Verbs: []string{"create"}},
	}}}
	ctrl, err := New(Config{Client: client, Namespaces: factory.Core().V1().Namespaces(), Workers: 1,
		Deleter: &ContentDeleter{Resources: func() ([]*metav1.APIResourceList, error) { return lists, nil }, Metadata: md, Now: func() time.Time { return now }}})
	if err != nil {
		t.Fatal(err)
	}
	if err := factory.Core().V1().Namespaces().Informer().GetIndexer().Add(ns); err != nil {
		t.Fatal(err)
	}
	client.ClearActions()
	return &fixture{client: client, metadata: md, ctrl: ctrl}
}

func terminating(name string) *corev1.Namespace {
	ts := metav1.NewTime(now)
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, DeletionTimestamp: &ts},
		Spec:   corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{corev1.FinalizerKubernetes}},
		Status: corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating}}
}

func configMap(ns, name string, finalizers ...string) *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Finalizers: finalizers}}
}

func verbs(actions []clienttesting.Action) string {
	var out []string
	for _, a := range actions {
		s := a.GetVerb() + " " + a.GetResource().Resource
		if sub := a.GetSubresource(); sub != "" {
			s += "/" + sub
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}

func TestSyncDeletesContentThenFinalizesTheNamespace(t *testing.T) {
	f := newFixture(t, terminating("gone"), configMap("gone", "a"))
	if err := f.ctrl.sync(context.Background(), "gone"); err != nil {
		t.Fatal(err)
	}
	if got := verbs(f.metadata.Actions()); got != "delete-collection configmaps, list configmaps" {
		t.Errorf("metadata actions: %s", got)
	}
	if got := verbs(f.client.Actions()); got != "update namespaces/status, create namespaces/finalize" {
		t.Fatalf("actions: %s", got)
	}
	// The fake records the finalize PUT as a create of the subresource.
	final := f.client.Actions()[1].(clienttesting.CreateAction).GetObject().(*corev1.Namespace)
	if len(final.Spec.Finalizers) != 0 {
		t.Errorf("finalize kept %v", final.Spec.Finalizers)
	}
	status := f.client.Actions()[0].(clienttesting.UpdateAction).GetObject().(*corev1.Namespace)
	if c := findCondition(status.Status.Conditions, corev1.NamespaceContentRemaining); c == nil || c.Reason != "ContentRemoved" {
		t.Errorf("content condition: %+v", c)
	}
}

func TestSyncWaitsForContentHeldByFinalizers(t *testing.T) {
	f := newFixture(t, terminating("held"), configMap("held", "a", "example.com/keep"))
	err := f.ctrl.sync(context.Background(), "held")
	if d, ok := worker.RequeueDelay(err); !ok || d != 8*time.Second {
		t.Fatalf("sync = %v, want a requeue after 8s (half of fifteen, plus one)", err)
	}
	if got := verbs(f.client.Actions()); got != "update namespaces/status" {
		t.Fatalf("actions: %s", got)
	}
	status := f.client.Actions()[0].(clienttesting.UpdateAction).GetObject().(*corev1.Namespace)
	c := findCondition(status.Status.Conditions, corev1.NamespaceFinalizersRemaining)
	if c == nil || c.Status != corev1.ConditionTrue || c.Message != "Some content in the namespace has finalizers remaining: example.com/keep in 1 resource instances" {
		t.Errorf("finalizers condition: %+v", c)
	}
}

func TestSyncLeavesLiveAndFinalizedNamespacesAlone(t *testing.T) {
	live := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "live"}}
	f := newFixture(t, live)
	if err := f.ctrl.sync(context.Background(), "live"); err != nil || len(f.client.Actions()) != 0 {
		t.Errorf("live namespace: %v, actions %s", err, verbs(f.client.Actions()))
	}
	done := terminating("done")
	done.Spec.Finalizers = nil
	f = newFixture(t, done)
	if err := f.ctrl.sync(context.Background(), "done"); err != nil || len(f.client.Actions()) != 0 {
		t.Errorf("finalized namespace: %v, actions %s", err, verbs(f.client.Actions()))
	}
	if err := f.ctrl.sync(context.Background(), "missing"); err != nil {
		t.Errorf("missing namespace: %v", err)
	}
}

func TestSyncReturnsStatusUpdateErrors(t *testing.T) {
	f := newFixture(t, terminating("x"))
	f.client.PrependReactor("update", "namespaces", func(clienttesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("etcd is down")
	})
	if err := f.ctrl.sync(context.Background(), "x"); err == nil || !strings.Contains(err.Error(), "etcd is down") {
		t.Errorf("sync = %v, want the status update's error", err)
	}
}
