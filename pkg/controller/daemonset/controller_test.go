package daemonset

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/minik8s/minik8s/pkg/controller/history"
	"github.com/minik8s/minik8s/pkg/controller/worker"
)

type fixture struct {
	t        *testing.T
	client   *fake.Clientset
	factory  informers.SharedInformerFactory
	ctrl     *Controller
	recorder *events.FakeRecorder
	clock    *testingclock.FakeClock
	names    atomic.Int32
}

func newFixture(t *testing.T, objs ...runtime.Object) *fixture {
	t.Helper()
	f := &fixture{t: t, client: fake.NewSimpleClientset(objs...), recorder: events.NewFakeRecorder(1000), clock: testingclock.NewFakeClock(now)}
	// The fake API does not generate names: do it as the server would.
	f.client.PrependReactor("create", "pods", func(a clienttesting.Action) (bool, runtime.Object, error) {
		p := a.(clienttesting.CreateAction).GetObject().(*corev1.Pod)
		if p.Name == "" {
			p.Name = fmt.Sprintf("%s%05d", p.GenerateName, f.names.Add(1))
		}
		return false, nil, nil
	})
	f.factory = informers.NewSharedInformerFactory(f.client, 0)
	ctrl, err := New(Config{Client: f.client, DaemonSets: f.factory.Apps().V1().DaemonSets(), Revisions: f.factory.Apps().V1().ControllerRevisions(),
		Pods: f.factory.Core().V1().Pods(), Nodes: f.factory.Core().V1().Nodes(), Recorder: f.recorder, Workers: 1, Clock: f.clock})
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

func (f *fixture) add(o runtime.Object) {
	var inf cache.SharedIndexInformer
	switch o.(type) {
	case *appsv1.DaemonSet:
		inf = f.factory.Apps().V1().DaemonSets().Informer()
	case *corev1.Pod:
		inf = f.factory.Core().V1().Pods().Informer()
	case *corev1.Node:
		inf = f.factory.Core().V1().Nodes().Informer()
	case *appsv1.ControllerRevision:
		inf = f.factory.Apps().V1().ControllerRevisions().Informer()
	}
	_ = inf.GetIndexer().Add(o)
}

func (f *fixture) sync() error {
	f.t.Helper()
	return f.ctrl.sync(context.Background(), "ns/agent")
}

// actions lists the client's actions as "verb resource[/subresource] [name or node]".
func (f *fixture) actions() []string {
	var out []string
	for _, a := range f.client.Actions() {
		s := a.GetVerb() + " " + a.GetResource().Resource
		if sub := a.GetSubresource(); sub != "" {
			s += "/" + sub
		}
		switch a := a.(type) {
		case clienttesting.CreateAction:
			if p, ok := a.GetObject().(*corev1.Pod); ok && a.GetVerb() == "create" {
				n, _ := targetNode(p)
				s += " on " + n
			}
		case clienttesting.DeleteAction:
			s += " " + a.GetName()
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func (f *fixture) expectActions(want ...string) {
	f.t.Helper()
	sort.Strings(want)
	if got := f.actions(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		f.t.Fatalf("actions:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
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

func (f *fixture) lastStatus() appsv1.DaemonSetStatus {
	f.t.Helper()
	acts := f.client.Actions()
	for i := len(acts) - 1; i >= 0; i-- {
		if acts[i].Matches("update", "daemonsets") && acts[i].GetSubresource() == "status" {
			return acts[i].(clienttesting.UpdateAction).GetObject().(*appsv1.DaemonSet).Status
		}
	}
	f.t.Fatal("no status update")
	return appsv1.DaemonSetStatus{}
}

// revisionOf is the revision ds's current template is recorded as, and its hash.
func revisionOf(t *testing.T, ds *appsv1.DaemonSet, n int64) (*appsv1.ControllerRevision, string) {
	t.Helper()
	patch, err := templatePatch(ds)
	if err != nil {
		t.Fatal(err)
	}
	hash := history.TemplateHash(&ds.Spec.Template, ds.Status.CollisionCount)
	return &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: "agent-" + hash, Namespace: "ns", ResourceVersion: "1",
		Labels:          map[string]string{"app": "agent", appsv1.DefaultDaemonSetUniqueLabelKey: hash},
		OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(ds, kind)}},
		Data: runtime.RawExtension{Raw: patch}, Revision: n}, hash
}

func TestANewDaemonSetPutsAPodPinnedByAffinityOnEveryEligibleNode(t *testing.T) {
	ds := newDS()
	f := newFixture(t, ds, node("a", false), node("b", false), node("plain", true),
		node("tainted", false, taint("dedicated", corev1.TaintEffectNoSchedule)))
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	f.expectActions("create controllerrevisions", "create pods on a", "create pods on b", "update daemonsets/status")
	rev := f.client.Actions()[0].(clienttesting.CreateAction).GetObject().(*appsv1.ControllerRevision)
	_, hash := revisionOf(t, ds, 1)
	if rev.Name != "agent-"+hash || rev.Revision != 1 || rev.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] != hash {
		t.Errorf("revision %s (%d) labels %v", rev.Name, rev.Revision, rev.Labels)
	}
	for _, a := range f.client.Actions() {
		p, ok := a.(clienttesting.CreateAction).GetObject().(*corev1.Pod)
		if !ok {
			continue
		}
		ref := metav1.GetControllerOf(p)
		if p.Spec.NodeName != "" || p.GenerateName != "agent-" || p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] != hash ||
			p.Labels["pod-template-generation"] != "1" || len(p.Spec.Tolerations) != 6 || ref == nil || ref.UID != "agent-uid" {
			t.Errorf("pod %s nodeName %q labels %v tolerations %d owner %v", p.Name, p.Spec.NodeName, p.Labels, len(p.Spec.Tolerations), ref)
		}
	}
	got := f.events()
	if len(got) != 2 || !strings.HasPrefix(got[0], "Normal SuccessfulCreate Created pod: agent-") {
		t.Errorf("events %v", got)
	}
	if s := f.lastStatus(); s.DesiredNumberScheduled != 2 || s.CurrentNumberScheduled != 0 || s.NumberUnavailable != 2 || s.ObservedGeneration != 1 {
		t.Errorf("status %+v", s)
	}
}

func TestANodeThatStopsMatchingLosesItsPodAndStatusCountsIt(t *testing.T) {
	ds := newDS()
	rev, hash := revisionOf(t, ds, 1)
	stay := dpod(ds, "a", hash, ready, time.Hour)
	leave := dpod(ds, "b", hash, ready, time.Hour)
	f := newFixture(t, ds, rev, node("a", false), node("b", true), stay, leave)
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	f.expectActions("delete pods "+leave.Name, "update daemonsets/status")
	if got := f.events(); len(got) != 1 || got[0] != "Normal SuccessfulDelete Deleted pod: "+leave.Name {
		t.Errorf("events %v", got)
	}
	s := f.lastStatus()
	if s.DesiredNumberScheduled != 1 || s.CurrentNumberScheduled != 1 || s.NumberMisscheduled != 1 || s.NumberReady != 1 ||
		s.NumberAvailable != 1 || s.UpdatedNumberScheduled != 1 || s.NumberUnavailable != 0 {
		t.Errorf("status %+v", s)
	}
}

func TestATemplateChangeRecordsARevisionAndReplacesPodsWithinMaxUnavailable(t *testing.T) {
	old := newDS()
	oldRev, oldHash := revisionOf(t, old, 1)
	ds := newDS()
	ds.Spec.Template.Spec.Containers[0].Image = "agent:2"
	ds.Generation = 2
	ds.Annotations[appsv1.DeprecatedTemplateGeneration] = "2"
	a, b := dpod(old, "a", oldHash, ready, time.Hour), dpod(old, "b", oldHash, ready, time.Hour)
	f := newFixture(t, ds, oldRev, node("a", false), node("b", false), a, b)
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	f.expectActions("create controllerrevisions", "delete pods "+a.Name, "update daemonsets/status")
	rev := f.client.Actions()[0].(clienttesting.CreateAction).GetObject().(*appsv1.ControllerRevision)
	if rev.Revision != 2 {
		t.Errorf("new revision numbered %d", rev.Revision)
	}
	if s := f.lastStatus(); s.UpdatedNumberScheduled != 0 || s.NumberAvailable != 2 || s.ObservedGeneration != 2 {
		t.Errorf("status %+v", s)
	}
}

func TestOnDeleteLeavesOldPodsAlone(t *testing.T) {
	old := newDS()
	oldRev, oldHash := revisionOf(t, old, 1)
	ds := newDS()
	ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}
	ds.Spec.Template.Spec.Containers[0].Image = "agent:2"
	f := newFixture(t, ds, oldRev, node("a", false), dpod(old, "a", oldHash, ready, time.Hour))
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	f.expectActions("create controllerrevisions", "update daemonsets/status")
}

func TestAFailedPodIsReportedAndReplacedWithBackOff(t *testing.T) {
	ds := newDS()
	rev, hash := revisionOf(t, ds, 1)
	bad := dpod(ds, "a", hash, failed, time.Hour)
	f := newFixture(t, ds, rev, node("a", false), bad)
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	f.expectActions("delete pods "+bad.Name, "update daemonsets/status")
	want := []string{"Normal SuccessfulDelete Deleted pod: " + bad.Name,
		"Warning FailedDaemonPod Found failed daemon pod ns/" + bad.Name + " on node a, will try to kill it"}
	if got := f.events(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("events %v", got)
	}
	// The next failure on the node, right after, waits out the back-off.
	f.ctrl.exp.Delete("ns/agent")
	f.client.ClearActions()
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	for _, a := range f.actions() {
		if strings.HasPrefix(a, "delete pods") {
			t.Errorf("deleted again within the back-off: %v", f.actions())
		}
	}
}

func TestAnEmptySelectorIsReportedAndNothingIsDone(t *testing.T) {
	ds := newDS()
	ds.Spec.Selector = &metav1.LabelSelector{}
	f := newFixture(t, ds, node("a", false))
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	f.expectActions()
	if got := f.events(); len(got) != 1 || got[0] != "Warning SelectingAll This daemon set is selecting all pods. A non-empty selector is required." {
		t.Errorf("events %v", got)
	}
}

func TestOldRevisionsBeyondTheLimitArePrunedOldestFirst(t *testing.T) {
	ds := newDS()
	ds.Spec.RevisionHistoryLimit = ptr(int32(1))
	objs := []runtime.Object{node("a", false)}
	var names []string
	for i := 1; i <= 3; i++ {
		old := newDS()
		old.Spec.Template.Spec.Containers[0].Image = fmt.Sprintf("agent:old%d", i)
		r, _ := revisionOf(t, old, int64(i))
		objs = append(objs, r)
		names = append(names, r.Name)
	}
	cur, hash := revisionOf(t, ds, 4)
	objs = append(objs, ds, cur, dpod(ds, "a", hash, ready, time.Hour))
	ds.Status = appsv1.DaemonSetStatus{DesiredNumberScheduled: 1, CurrentNumberScheduled: 1, NumberReady: 1, UpdatedNumberScheduled: 1,
		NumberAvailable: 1, ObservedGeneration: 1}
	f := newFixture(t, objs...)
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	f.expectActions("delete controllerrevisions "+names[0], "delete controllerrevisions "+names[1])
}

func TestMinReadySecondsBringsTheDaemonSetBack(t *testing.T) {
	ds := newDS()
	ds.Spec.MinReadySeconds = 10
	rev, hash := revisionOf(t, ds, 1)
	f := newFixture(t, ds, rev, node("a", false), dpod(ds, "a", hash, justReady, time.Hour))
	err := f.sync()
	if d, ok := worker.RequeueDelay(err); !ok || d != 10*time.Second {
		t.Errorf("sync returned %v, want a requeue after minReadySeconds", err)
	}
	if s := f.lastStatus(); s.NumberReady != 1 || s.NumberAvailable != 0 {
		t.Errorf("status %+v", s)
	}
}

func TestANewNodeBringsTheDaemonSetsThatShouldRunThere(t *testing.T) {
	ds := newDS()
	f := newFixture(t, ds, node("a", false), node("plain", true))
	if err := f.ctrl.syncNode(context.Background(), "plain"); err != nil || f.ctrl.queue.Len() != 0 {
		t.Fatalf("a node the DaemonSet does not want queued it (%v)", err)
	}
	if err := f.ctrl.syncNode(context.Background(), "a"); err != nil || f.ctrl.queue.Len() != 1 {
		t.Fatalf("a node the DaemonSet wants did not queue it (%v)", err)
	}
}
