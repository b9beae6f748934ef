package replicaset

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/events"

	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// fixture is a controller over a fake API, its caches filled by hand as the
// informers would, like upstream's sample-controller tests.
type fixture struct {
	t        *testing.T
	client   *fake.Clientset
	factory  informers.SharedInformerFactory
	ctrl     *Controller
	recorder *events.FakeRecorder
	names    atomic.Int32
}

func newFixture(t *testing.T, objs ...runtime.Object) *fixture {
	t.Helper()
	f := &fixture{t: t, client: fake.NewSimpleClientset(objs...), recorder: events.NewFakeRecorder(1000)}
	// The fake API does not generate names: do it as the server would.
	f.client.PrependReactor("create", "pods", func(a clienttesting.Action) (bool, runtime.Object, error) {
		p := a.(clienttesting.CreateAction).GetObject().(*corev1.Pod)
		if p.Name == "" {
			p.Name = fmt.Sprintf("%s%05d", p.GenerateName, f.names.Add(1))
		}
		return false, nil, nil
	})
	f.factory = informers.NewSharedInformerFactory(f.client, 0)
	ctrl, err := New(Config{Name: Name, Client: f.client, Source: ReplicaSets(f.client, f.factory.Apps().V1().ReplicaSets()),
		Pods: f.factory.Core().V1().Pods(), Recorder: f.recorder, Workers: 1, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	f.ctrl = ctrl
	for _, o := range objs {
		f.add(o)
	}
	f.client.ClearActions()
	return f
}

// add puts an object in the informer cache.
func (f *fixture) add(o runtime.Object) {
	switch o := o.(type) {
	case *appsv1.ReplicaSet:
		_ = f.factory.Apps().V1().ReplicaSets().Informer().GetIndexer().Add(o)
	case *corev1.Pod:
		_ = f.factory.Core().V1().Pods().Informer().GetIndexer().Add(o)
	}
}

func (f *fixture) sync(key string) error {
	f.t.Helper()
	return f.ctrl.sync(context.Background(), key)
}

// actions lists the client's actions as "verb resource[/subresource]".
func (f *fixture) actions() []string {
	var out []string
	for _, a := range f.client.Actions() {
		s := a.GetVerb() + " " + a.GetResource().Resource
		if sub := a.GetSubresource(); sub != "" {
			s += "/" + sub
		}
		out = append(out, s)
	}
	return out
}

func (f *fixture) events() []string {
	var out []string
	for {
		select {
		case e := <-f.recorder.Events:
			out = append(out, e)
		default:
			sort.Strings(out)
			return out
		}
	}
}

func (f *fixture) expectActions(want ...string) {
	f.t.Helper()
	got := f.actions()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		f.t.Fatalf("actions:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func (f *fixture) lastStatus() appsv1.ReplicaSetStatus {
	f.t.Helper()
	acts := f.client.Actions()
	for i := len(acts) - 1; i >= 0; i-- {
		if acts[i].Matches("update", "replicasets") && acts[i].GetSubresource() == "status" {
			return acts[i].(clienttesting.UpdateAction).GetObject().(*appsv1.ReplicaSet).Status
		}
	}
	f.t.Fatal("no status update")
	return appsv1.ReplicaSetStatus{}
}

func newRS(name string, n int32) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID(name + "-uid"), Generation: 1},
		Spec: appsv1.ReplicaSetSpec{Replicas: &n, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}},
	}
}

func ownedPod(rs *appsv1.ReplicaSet, name string, s podSpec) *corev1.Pod {
	s.name = name
	p := s.pod()
	p.Labels = map[string]string{"app": rs.Name}
	yes := true
	p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: &yes}}
	p.ResourceVersion = "1"
	return p
}

func TestSyncCreatesMissingPodsWithControllerRefsAndEvents(t *testing.T) {
	rs := newRS("web", 3)
	f := newFixture(t, rs)
	if err := f.sync("ns/web"); err != nil {
		t.Fatal(err)
	}
	f.expectActions("create pods", "create pods", "create pods", "update replicasets/status")
	p := f.client.Actions()[0].(clienttesting.CreateAction).GetObject().(*corev1.Pod)
	ref := metav1.GetControllerOf(p)
	if p.GenerateName != "web-" || p.Labels["app"] != "web" || ref == nil || ref.Kind != "ReplicaSet" || ref.UID != "web-uid" || !*ref.BlockOwnerDeletion {
		t.Errorf("pod %+v", p.ObjectMeta)
	}
	want := []string{"Normal SuccessfulCreate Created pod: web-00001", "Normal SuccessfulCreate Created pod: web-00002", "Normal SuccessfulCreate Created pod: web-00003"}
	if got := f.events(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("events %v", got)
	}
	if s := f.lastStatus(); s.Replicas != 0 || s.ObservedGeneration != 1 {
		t.Errorf("status %+v", s)
	}
}

func TestABurstOfCreatesIsNotDoubledWhileTheCacheLags(t *testing.T) {
	rs := newRS("web", 3)
	f := newFixture(t, rs)
	_ = f.sync("ns/web")
	f.client.ClearActions()
	// The creations have not reached the cache yet: no new pods.
	if err := f.sync("ns/web"); err != nil {
		t.Fatal(err)
	}
	for _, a := range f.actions() {
		if a == "create pods" {
			t.Fatalf("created again before observing: %v", f.actions())
		}
	}
	// Once the informer reports them, expectations are met.
	for i := 1; i <= 3; i++ {
		p := ownedPod(rs, fmt.Sprintf("web-%05d", i), podSpec{})
		f.add(p)
		f.ctrl.addPod(p)
	}
	if !f.ctrl.exp.Satisfied("ns/web") {
		t.Error("expectations unmet after observing three creations")
	}
}

func TestSyncDeletesSurplusPodsInUpstreamsOrder(t *testing.T) {
	rs := newRS("web", 1)
	running := ownedPod(rs, "running", podSpec{node: "n", phase: corev1.PodRunning, readyAgo: time.Hour})
	pending := ownedPod(rs, "pending", podSpec{node: "n", phase: corev1.PodPending})
	unplaced := ownedPod(rs, "unplaced", podSpec{phase: corev1.PodPending})
	f := newFixture(t, rs, running, pending, unplaced)
	if err := f.sync("ns/web"); err != nil {
		t.Fatal(err)
	}
	f.expectActions("delete pods", "delete pods", "update replicasets/status")
	var deleted []string
	for _, a := range f.client.Actions()[:2] {
		deleted = append(deleted, a.(clienttesting.DeleteAction).GetName())
	}
	sort.Strings(deleted)
	if strings.Join(deleted, ",") != "pending,unplaced" {
		t.Errorf("deleted %v", deleted)
	}
	if got := f.events(); len(got) != 2 || got[0] != "Normal SuccessfulDelete Deleted pod: pending" {
		t.Errorf("events %v", got)
	}
	// The deletions are awaited: one observed twice (graceful, then gone) counts once.
	f.ctrl.deletePod(pending)
	f.ctrl.deletePod(pending)
	if f.ctrl.exp.Satisfied("ns/web") {
		t.Error("satisfied with one of two deletions seen")
	}
	f.ctrl.deletePod(unplaced)
	if !f.ctrl.exp.Satisfied("ns/web") {
		t.Error("unsatisfied after both deletions")
	}
}

func TestSyncAdoptsOrphansReleasesStraysAndIgnoresOthers(t *testing.T) {
	rs := newRS("web", 2)
	orphan := podSpec{name: "orphan"}.pod()
	orphan.Labels = map[string]string{"app": "web"}
	stray := ownedPod(rs, "stray", podSpec{})
	stray.Labels = map[string]string{"app": "other"}
	kept := ownedPod(rs, "kept", podSpec{})
	theirs := ownedPod(rs, "theirs", podSpec{})
	theirs.OwnerReferences[0].UID = "someone-else"
	f := newFixture(t, rs, orphan, stray, kept, theirs)
	if err := f.sync("ns/web"); err != nil {
		t.Fatal(err)
	}
	// The stray (controlled) is released; a live read of the set comes before
	// the first adoption.
	f.expectActions("patch pods", "get replicasets", "patch pods", "update replicasets/status")
	patches := map[string]string{}
	for _, a := range f.client.Actions() {
		if p, ok := a.(clienttesting.PatchAction); ok {
			patches[p.GetName()] = string(p.GetPatch())
		}
	}
	if !strings.Contains(patches["orphan"], `"uid":"web-uid"`) || !strings.Contains(patches["stray"], `"$patch":"delete"`) {
		t.Errorf("patches %v", patches)
	}
	if s := f.lastStatus(); s.Replicas != 2 {
		t.Errorf("status counts %d pods, want the kept and the adopted", s.Replicas)
	}
}

func TestAFailedCreateStopsTheSlowStartAndSetsReplicaFailure(t *testing.T) {
	rs := newRS("web", 10)
	f := newFixture(t, rs)
	var calls atomic.Int32
	f.client.PrependReactor("create", "pods", func(clienttesting.Action) (bool, runtime.Object, error) {
		if calls.Add(1) == 2 {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", errors.New("exceeded quota"))
		}
		return false, nil, nil
	})
	err := f.sync("ns/web")
	if err == nil {
		t.Fatal("no error")
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("%d creates attempted, want 3 (a batch of one, then a batch of two that failed)", n)
	}
	if adds, _ := f.ctrl.exp.Pending("ns/web"); adds != 2 {
		t.Errorf("expecting %d creations, want the 2 that succeeded", adds)
	}
	cond := condition(f.lastStatus(), appsv1.ReplicaSetReplicaFailure)
	if cond == nil || cond.Reason != "FailedCreate" || cond.Message != `pods is forbidden: exceeded quota` {
		t.Errorf("condition %+v", cond)
	}
	if got := f.events(); !strings.Contains(strings.Join(got, "|"), "Warning FailedCreate Error creating: pods is forbidden: exceeded quota") {
		t.Errorf("events %v", got)
	}
}

func TestABurstIsCappedPerSync(t *testing.T) {
	rs := newRS("web", 30)
	f := newFixture(t, rs)
	f.ctrl.maxBurst = 7
	if err := f.sync("ns/web"); err != nil {
		t.Fatal(err)
	}
	creates := 0
	for _, a := range f.actions() {
		if a == "create pods" {
			creates++
		}
	}
	if creates != 7 {
		t.Errorf("%d creates, want 7", creates)
	}
}

func TestASetBeingDeletedCreatesNothing(t *testing.T) {
	rs := newRS("web", 3)
	ts := metav1.NewTime(now)
	rs.DeletionTimestamp = &ts
	f := newFixture(t, rs)
	if err := f.sync("ns/web"); err != nil {
		t.Fatal(err)
	}
	f.expectActions("update replicasets/status")
}

func TestMinReadySecondsAsksForASyncWhenPodsTurnAvailable(t *testing.T) {
	rs := newRS("web", 2)
	rs.Spec.MinReadySeconds = 30
	a := ownedPod(rs, "a", podSpec{node: "n", phase: corev1.PodRunning, readyAgo: time.Hour})
	b := ownedPod(rs, "b", podSpec{node: "n", phase: corev1.PodRunning, readyAgo: 10 * time.Second})
	f := newFixture(t, rs, a, b)
	err := f.sync("ns/web")
	if d, ok := worker.RequeueDelay(err); !ok || d != 20*time.Second {
		t.Fatalf("sync = %v, want a requeue after 20s", err)
	}
	if s := f.lastStatus(); s.ReadyReplicas != 2 || s.AvailableReplicas != 1 || s.Replicas != 2 || s.FullyLabeledReplicas != 2 {
		t.Errorf("status %+v", s)
	}
}

func TestAnUpToDateSetWritesNothing(t *testing.T) {
	rs := newRS("web", 1)
	rs.Status = appsv1.ReplicaSetStatus{Replicas: 1, FullyLabeledReplicas: 1, ObservedGeneration: 1}
	f := newFixture(t, rs, ownedPod(rs, "a", podSpec{}))
	if err := f.sync("ns/web"); err != nil {
		t.Fatal(err)
	}
	f.expectActions()
}

func TestAStatusConflictIsRetriedWithAFreshRead(t *testing.T) {
	rs := newRS("web", 0)
	f := newFixture(t, rs)
	var tries atomic.Int32
	f.client.PrependReactor("update", "replicasets", func(a clienttesting.Action) (bool, runtime.Object, error) {
		if tries.Add(1) == 1 {
			return true, nil, apierrors.NewConflict(schema.GroupResource{Resource: "replicasets"}, "web", errors.New("changed"))
		}
		return false, nil, nil
	})
	if err := f.sync("ns/web"); err != nil {
		t.Fatal(err)
	}
	f.expectActions("update replicasets/status", "get replicasets", "update replicasets/status")
}

func TestHandlersEnqueueTheOwnerOrTheMatchingSets(t *testing.T) {
	rs := newRS("web", 1)
	other := newRS("db", 1)
	f := newFixture(t, rs, other)
	orphan := podSpec{name: "orphan"}.pod()
	orphan.Labels = map[string]string{"app": "db"}
	f.ctrl.addPod(orphan)
	owned := ownedPod(rs, "owned", podSpec{})
	f.ctrl.addPod(owned)
	var keys []string
	for f.ctrl.queue.Len() > 0 {
		k, _ := f.ctrl.queue.Get()
		keys = append(keys, k)
		f.ctrl.queue.Done(k)
	}
	sort.Strings(keys)
	if strings.Join(keys, ",") != "ns/db,ns/web" {
		t.Errorf("queued %v", keys)
	}
	// A resync (same resourceVersion) queues nothing.
	f.ctrl.updatePod(owned, owned)
	if f.ctrl.queue.Len() != 0 {
		t.Error("a resync queued the owner")
	}
}

// A terminating namespace refuses every create: the first refusal ends the
// slow start (not 1+2+4+... refused requests), is no error, and leaves no
// creation awaited.
func TestATerminatingNamespaceStopsTheSlowStartAtTheFirstRefusal(t *testing.T) {
	rs := newRS("web", 100)
	f := newFixture(t, rs)
	var calls atomic.Int32
	f.client.PrependReactor("create", "pods", func(clienttesting.Action) (bool, runtime.Object, error) {
		calls.Add(1)
		err := apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", errors.New("unable to create new content in namespace ns because it is being terminated"))
		err.ErrStatus.Details.Causes = []metav1.StatusCause{{Type: corev1.NamespaceTerminatingCause, Message: "namespace ns is being terminated", Field: "metadata.namespace"}}
		return true, nil, err
	})
	if err := f.sync("ns/web"); err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d creates attempted, want 1", n)
	}
	if adds, _ := f.ctrl.exp.Pending("ns/web"); adds != 0 {
		t.Errorf("expecting %d creations, want none", adds)
	}
	if got := f.events(); len(got) != 0 {
		t.Errorf("events %v", got)
	}
}
