package statefulset

import (
	"context"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"

	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// fixture is a controller over a fake API whose caches are filled by hand,
// as the informers would, like upstream's sample-controller tests.
type fixture struct {
	t        *testing.T
	client   *fake.Clientset
	factory  informers.SharedInformerFactory
	ctrl     *Controller
	recorder *events.FakeRecorder
}

func newFixture(t *testing.T, gate bool, objs ...runtime.Object) *fixture {
	t.Helper()
	f := &fixture{t: t, client: fake.NewSimpleClientset(objs...), recorder: events.NewFakeRecorder(1000)}
	f.factory = informers.NewSharedInformerFactory(f.client, 0)
	ctrl, err := New(Config{Client: f.client, StatefulSets: f.factory.Apps().V1().StatefulSets(), Pods: f.factory.Core().V1().Pods(),
		Claims: f.factory.Core().V1().PersistentVolumeClaims(), Revisions: f.factory.Apps().V1().ControllerRevisions(),
		Recorder: f.recorder, Workers: 1, MaxUnavailable: gate, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	f.ctrl = ctrl
	for _, o := range objs {
		var inf interface{ GetIndexer() cache.Indexer }
		switch o.(type) {
		case *appsv1.StatefulSet:
			inf = f.factory.Apps().V1().StatefulSets().Informer()
		case *corev1.Pod:
			inf = f.factory.Core().V1().Pods().Informer()
		case *corev1.PersistentVolumeClaim:
			inf = f.factory.Core().V1().PersistentVolumeClaims().Informer()
		case *appsv1.ControllerRevision:
			inf = f.factory.Apps().V1().ControllerRevisions().Informer()
		}
		_ = inf.GetIndexer().Add(o)
	}
	f.client.ClearActions()
	return f
}

func (f *fixture) sync() error {
	f.t.Helper()
	return f.ctrl.sync(context.Background(), "ns/web")
}

// actions lists the client's actions as "verb resource[/subresource] [name]".
func (f *fixture) actions() []string {
	var out []string
	for _, a := range f.client.Actions() {
		s := a.GetVerb() + " " + a.GetResource().Resource
		if sub := a.GetSubresource(); sub != "" {
			s += "/" + sub
		}
		switch a := a.(type) {
		case clienttesting.CreateAction:
			if m, ok := a.GetObject().(metav1.Object); ok && a.GetVerb() == "create" && a.GetResource().Resource != "controllerrevisions" {
				s += " " + m.GetName()
			}
		case clienttesting.DeleteAction:
			s += " " + a.GetName()
		case clienttesting.PatchAction:
			s += " " + a.GetName()
		}
		out = append(out, s)
	}
	return out
}

func (f *fixture) expectActions(want ...string) {
	f.t.Helper()
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

func (f *fixture) expectEvents(want ...string) {
	f.t.Helper()
	if got := f.events(); strings.Join(got, "\n") != strings.Join(sortedStrings(want), "\n") {
		f.t.Errorf("events:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(sortedStrings(want), "\n  "))
	}
}

func (f *fixture) lastStatus() appsv1.StatefulSetStatus {
	f.t.Helper()
	acts := f.client.Actions()
	for i := len(acts) - 1; i >= 0; i-- {
		if acts[i].Matches("update", "statefulsets") && acts[i].GetSubresource() == "status" {
			return acts[i].(clienttesting.UpdateAction).GetObject().(*appsv1.StatefulSet).Status
		}
	}
	f.t.Fatal("no status update")
	return appsv1.StatefulSetStatus{}
}

func (f *fixture) created(resource string) runtime.Object {
	f.t.Helper()
	for _, a := range f.client.Actions() {
		if a.Matches("create", resource) {
			return a.(clienttesting.CreateAction).GetObject()
		}
	}
	f.t.Fatalf("no %s created", resource)
	return nil
}

// revisionOfSet is the revision set's current template would be recorded as.
func revisionOfSet(t *testing.T, set *appsv1.StatefulSet, n int64) *appsv1.ControllerRevision {
	t.Helper()
	r, err := newRevision(set, n, ptr(int32(0)))
	if err != nil {
		t.Fatal(err)
	}
	r.ResourceVersion = "1"
	return r
}

// atRevision is set with its status naming rev current and updated.
func atRevision(set *appsv1.StatefulSet, rev *appsv1.ControllerRevision) *appsv1.StatefulSet {
	set.Status.CurrentRevision, set.Status.UpdateRevision = rev.Name, rev.Name
	set.Status.CollisionCount = ptr(int32(0))
	return set
}

func TestANewSetRecordsItsFirstRevisionAndCreatesOnlyItsFirstPod(t *testing.T) {
	set := newSet(3)
	f := newFixture(t, false, set)
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	f.expectActions("create controllerrevisions", "create pods web-0", "update statefulsets/status")
	rev := f.created("controllerrevisions").(*appsv1.ControllerRevision)
	if want := revisionOfSet(t, set, 1); rev.Name != want.Name || rev.Revision != 1 || metav1.GetControllerOf(rev).UID != "web-uid" {
		t.Errorf("revision %s (%d), want %s (1)", rev.Name, rev.Revision, want.Name)
	}
	p := f.created("pods").(*corev1.Pod)
	if p.Labels[appsv1.StatefulSetRevisionLabel] != rev.Name || p.Spec.Hostname != "web-0" || p.Spec.Subdomain != "nginx" {
		t.Errorf("pod labels %v hostname %s subdomain %s", p.Labels, p.Spec.Hostname, p.Spec.Subdomain)
	}
	f.expectEvents("Normal SuccessfulCreate create Pod web-0 in StatefulSet web successful")
	s := f.lastStatus()
	if s.CurrentRevision != rev.Name || s.UpdateRevision != rev.Name || s.ObservedGeneration != 1 || s.Replicas != 0 || *s.CollisionCount != 0 {
		t.Errorf("status %+v", s)
	}
}

func TestClaimsAreCreatedBeforeTheirPodWithUpstreamsEvents(t *testing.T) {
	set := withClaimTemplate(newSet(1), "www")
	rev := revisionOfSet(t, set, 1)
	f := newFixture(t, false, atRevision(set, rev), rev)
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	f.expectActions("create persistentvolumeclaims www-web-0", "create pods web-0", "update statefulsets/status")
	f.expectEvents("Normal SuccessfulCreate create Claim www-web-0 Pod web-0 in StatefulSet web success",
		"Normal SuccessfulCreate create Pod web-0 in StatefulSet web successful")
	claim := f.created("persistentvolumeclaims").(*corev1.PersistentVolumeClaim)
	if claim.Labels["app"] != "web" || len(claim.OwnerReferences) != 0 {
		t.Errorf("claim labels %v owners %v", claim.Labels, claim.OwnerReferences)
	}
}

func TestScalingDownDeletesTheHighestOrdinalWithUpstreamsEvent(t *testing.T) {
	set := newSet(1)
	rev := revisionOfSet(t, set, 1)
	objs := []runtime.Object{atRevision(set, rev), rev}
	for i := 0; i < 3; i++ {
		objs = append(objs, pod(set, i, rev.Name, ready))
	}
	f := newFixture(t, false, objs...)
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	f.expectActions("delete pods web-2", "update statefulsets/status")
	f.expectEvents("Normal SuccessfulDelete delete Pod web-2 in StatefulSet web successful")
	if s := f.lastStatus(); s.Replicas != 3 || s.ReadyReplicas != 3 || s.CurrentReplicas != 3 {
		t.Errorf("status %+v", s)
	}
}

func TestATemplateChangeRecordsARevisionAndReplacesTheHighestOrdinalFirst(t *testing.T) {
	old := newSet(3)
	rev1 := revisionOfSet(t, old, 1)
	set := atRevision(newSet(3), rev1)
	set.Spec.Template.Spec.Containers[0].Image = "nginx:2"
	set.Generation = 2
	objs := []runtime.Object{set, rev1}
	for i := 0; i < 3; i++ {
		objs = append(objs, pod(old, i, rev1.Name, ready))
	}
	f := newFixture(t, false, objs...)
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	f.expectActions("create controllerrevisions", "delete pods web-2", "update statefulsets/status")
	rev2 := f.created("controllerrevisions").(*appsv1.ControllerRevision)
	s := f.lastStatus()
	if rev2.Revision != 2 || s.CurrentRevision != rev1.Name || s.UpdateRevision != rev2.Name || s.CurrentReplicas != 2 || s.UpdatedReplicas != 0 || s.ObservedGeneration != 2 {
		t.Errorf("revision %d, status %+v", rev2.Revision, s)
	}
}

func TestTheReplacementOfAnUpdatedPodIsCreatedAtTheUpdateRevision(t *testing.T) {
	old := newSet(3)
	rev1 := revisionOfSet(t, old, 1)
	set := newSet(3)
	set.Spec.Template.Spec.Containers[0].Image = "nginx:2"
	rev2 := revisionOfSet(t, set, 2)
	set = atRevision(set, rev1)
	set.Status.UpdateRevision = rev2.Name
	f := newFixture(t, false, set, rev1, rev2, pod(old, 0, rev1.Name, ready), pod(old, 1, rev1.Name, ready))
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	f.expectActions("create pods web-2", "update statefulsets/status")
	p := f.created("pods").(*corev1.Pod)
	if p.Labels[appsv1.StatefulSetRevisionLabel] != rev2.Name || p.Spec.Containers[0].Image != "nginx:2" {
		t.Errorf("web-2 at %s with %s", p.Labels[appsv1.StatefulSetRevisionLabel], p.Spec.Containers[0].Image)
	}
}

func TestARollbackRenumbersTheOldRevision(t *testing.T) {
	a := newSet(1)
	revA := revisionOfSet(t, a, 1)
	b := newSet(1)
	b.Spec.Template.Spec.Containers[0].Image = "nginx:2"
	revB := revisionOfSet(t, b, 2)
	set := atRevision(newSet(1), revB) // back to template A
	f := newFixture(t, false, set, revA, revB, pod(b, 0, revB.Name, ready))
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	f.expectActions("update controllerrevisions", "delete pods web-0", "update statefulsets/status")
	upd := f.client.Actions()[0].(clienttesting.UpdateAction).GetObject().(*appsv1.ControllerRevision)
	if upd.Name != revA.Name || upd.Revision != 3 {
		t.Errorf("renumbered %s to %d", upd.Name, upd.Revision)
	}
	if s := f.lastStatus(); s.UpdateRevision != revA.Name {
		t.Errorf("update revision %s, want %s", s.UpdateRevision, revA.Name)
	}
}

func TestOldRevisionsBeyondTheLimitArePrunedButNotOnesInUse(t *testing.T) {
	set := newSet(1)
	set.Spec.RevisionHistoryLimit = ptr(int32(1))
	var objs []runtime.Object
	var revs []*appsv1.ControllerRevision
	for i := 1; i <= 4; i++ {
		s := newSet(1)
		s.Spec.Template.Spec.Containers[0].Image = "nginx:" + string(rune('0'+i))
		revs = append(revs, revisionOfSet(t, s, int64(i)))
		objs = append(objs, revs[i-1])
	}
	set.Spec.Template.Spec.Containers[0].Image = "nginx:4"
	set = atRevision(set, revs[3])
	// A pod still runs revision 1 (OnDelete leaves it there).
	set.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
	objs = append(objs, set, pod(set, 0, revs[0].Name, ready))
	f := newFixture(t, false, objs...)
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	// Revisions 2 and 3 are history; the limit keeps one of them, the oldest goes.
	f.expectActions("update statefulsets/status", "delete controllerrevisions "+revs[1].Name)
}

func TestAFailedCreateIsReportedAsUpstreamDoesAndStatusIsStillWritten(t *testing.T) {
	set := newSet(1)
	rev := revisionOfSet(t, set, 1)
	f := newFixture(t, false, atRevision(set, rev), rev)
	f.client.PrependReactor("create", "pods", func(clienttesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "web-0", errors.New("exceeded quota: q"))
	})
	if err := f.sync(); err == nil {
		t.Fatal("no error")
	}
	f.expectEvents(`Warning FailedCreate create Pod web-0 in StatefulSet web failed error: pods "web-0" is forbidden: exceeded quota: q`)
	f.expectActions("create pods web-0", "update statefulsets/status")
}

func TestOrphanPodsAndRevisionsAreAdopted(t *testing.T) {
	set := newSet(1)
	rev := revisionOfSet(t, set, 1)
	rev.OwnerReferences = nil
	orphan := pod(set, 0, rev.Name, ready)
	orphan.OwnerReferences = nil
	stranger := pod(set, 0, rev.Name, ready)
	stranger.Name, stranger.OwnerReferences = "other-0", nil
	f := newFixture(t, false, atRevision(set, rev), rev, orphan, stranger)
	f.client.PrependReactor("patch", "*", func(a clienttesting.Action) (bool, runtime.Object, error) {
		return true, nil, nil
	})
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	// The revision and web-0 are adopted; other-0 is not named after the set.
	f.expectActions("get statefulsets", "patch controllerrevisions "+rev.Name, "patch pods web-0", "update statefulsets/status")
}

func TestAParallelSetCreatesEveryPodInOneSync(t *testing.T) {
	set := parallel(newSet(3))
	rev := revisionOfSet(t, set, 1)
	f := newFixture(t, false, atRevision(set, rev), rev)
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	got := f.actions()
	sort.Strings(got)
	if strings.Join(got, ",") != "create pods web-0,create pods web-1,create pods web-2,update statefulsets/status" {
		t.Errorf("actions %v", got)
	}
}

func TestMinReadySecondsRequeuesForTheNextPodToTurnAvailable(t *testing.T) {
	set := newSet(1)
	set.Spec.MinReadySeconds = 10
	rev := revisionOfSet(t, set, 1)
	f := newFixture(t, false, atRevision(set, rev), rev, pod(set, 0, rev.Name, justReady))
	err := f.sync()
	if d, ok := worker.RequeueDelay(err); !ok || d != 9*time.Second {
		t.Errorf("sync returned %v, want a requeue after 9s", err)
	}
}
