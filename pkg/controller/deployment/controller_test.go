package deployment

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/events"
)

type fixture struct {
	t        *testing.T
	client   *fake.Clientset
	factory  informers.SharedInformerFactory
	ctrl     *Controller
	recorder *events.FakeRecorder
}

func newFixture(t *testing.T, objs ...runtime.Object) *fixture {
	t.Helper()
	f := &fixture{t: t, client: fake.NewSimpleClientset(objs...), recorder: events.NewFakeRecorder(100)}
	f.factory = informers.NewSharedInformerFactory(f.client, 0)
	c, err := New(Config{Client: f.client, Deployments: f.factory.Apps().V1().Deployments(), ReplicaSets: f.factory.Apps().V1().ReplicaSets(),
		Pods: f.factory.Core().V1().Pods(), Recorder: f.recorder, Workers: 1, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	f.ctrl = c
	for _, o := range objs {
		switch o := o.(type) {
		case *appsv1.Deployment:
			_ = f.factory.Apps().V1().Deployments().Informer().GetIndexer().Add(o)
		case *appsv1.ReplicaSet:
			_ = f.factory.Apps().V1().ReplicaSets().Informer().GetIndexer().Add(o)
		case *corev1.Pod:
			_ = f.factory.Core().V1().Pods().Informer().GetIndexer().Add(o)
		}
	}
	f.client.ClearActions()
	return f
}

func (f *fixture) sync() error {
	f.t.Helper()
	return f.ctrl.Sync(context.Background(), "ns/web")
}

func (f *fixture) actions() string {
	var out []string
	for _, a := range f.client.Actions() {
		s := a.GetVerb() + " " + a.GetResource().Resource
		if sub := a.GetSubresource(); sub != "" {
			s += "/" + sub
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}

func (f *fixture) events() []string {
	var out []string
	for {
		select {
		case e := <-f.recorder.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

// written returns the objects of the client's create and update actions on resource.
func written[T runtime.Object](f *fixture, verb, resource, sub string) []T {
	var out []T
	for _, a := range f.client.Actions() {
		if !a.Matches(verb, resource) || a.GetSubresource() != sub {
			continue
		}
		var obj runtime.Object
		switch a := a.(type) {
		case clienttesting.CreateAction:
			obj = a.GetObject()
		case clienttesting.UpdateAction:
			obj = a.GetObject()
		}
		if o, ok := obj.(T); ok {
			out = append(out, o)
		}
	}
	return out
}

// owned is a ReplicaSet of d with d's template (or one with another image).
func owned(d *appsv1.Deployment, image string, replicas, available int32, revision string, age time.Duration) *appsv1.ReplicaSet {
	t := d.Spec.Template.DeepCopy()
	if image != "" {
		t.Spec.Containers[0].Image = image
	}
	hash := templateHash(t, nil)
	t.Labels = withLabel(t.Labels, appsv1.DefaultDeploymentUniqueLabelKey, hash)
	rs := set(replicaSetName(d.Name, hash), replicas, available, age)
	rs.Labels = t.Labels
	rs.Spec.Template = *t
	rs.Spec.Selector = &metav1.LabelSelector{MatchLabels: t.Labels}
	yes := true
	rs.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name, UID: d.UID, Controller: &yes, BlockOwnerDeletion: &yes}}
	rs.Annotations = map[string]string{RevisionAnnotation: revision, DesiredReplicasAnnotation: "3", MaxReplicasAnnotation: "4"}
	rs.Generation, rs.Status.ObservedGeneration = 1, 1
	return rs
}

func TestANewDeploymentGetsItsReplicaSet(t *testing.T) {
	d := deploy("web", 3, "25%", "25%")
	d.Annotations = map[string]string{ChangeCauseAnnotation: "kubectl create deployment web --image=busybox"}
	f := newFixture(t, d)
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	if got := f.actions(); got != "create replicasets, update deployments/status, update deployments/status" {
		t.Fatalf("actions: %s", got)
	}
	rs := written[*appsv1.ReplicaSet](f, "create", "replicasets", "")[0]
	hash := templateHash(&d.Spec.Template, nil)
	ref := metav1.GetControllerOf(rs)
	switch {
	case rs.Name != "web-"+hash:
		t.Errorf("name %s, want web-%s", rs.Name, hash)
	case rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != hash || rs.Spec.Template.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != hash ||
		rs.Spec.Selector.MatchLabels[appsv1.DefaultDeploymentUniqueLabelKey] != hash || rs.Spec.Selector.MatchLabels["app"] != "web":
		t.Errorf("hash labels: %v %v", rs.Labels, rs.Spec.Selector)
	case ref == nil || ref.Kind != "Deployment" || ref.UID != d.UID:
		t.Errorf("owner %+v", rs.OwnerReferences)
	case *rs.Spec.Replicas != 3:
		t.Errorf("replicas %d", *rs.Spec.Replicas)
	case rs.Annotations[RevisionAnnotation] != "1" || rs.Annotations[ChangeCauseAnnotation] == "" ||
		rs.Annotations[DesiredReplicasAnnotation] != "3" || rs.Annotations[MaxReplicasAnnotation] != "4":
		t.Errorf("annotations %v", rs.Annotations)
	}
	if got := f.events(); len(got) != 1 || got[0] != "Normal ScalingReplicaSet Scaled up replica set web-"+hash+" from 0 to 3" {
		t.Errorf("events %v", got)
	}
	statuses := written[*appsv1.Deployment](f, "update", "deployments", "status")
	if statuses[0].Annotations[RevisionAnnotation] != "1" || progressingReason(statuses[0].Status) != "True/NewReplicaSetCreated" {
		t.Errorf("first status: %v %s", statuses[0].Annotations, progressingReason(statuses[0].Status))
	}
	last := statuses[len(statuses)-1].Status
	if last.ObservedGeneration != 1 || getCondition(last, appsv1.DeploymentAvailable) == nil {
		t.Errorf("last status %+v", last)
	}
}

func TestATemplateChangeRollsWithinSurgeAndUnavailable(t *testing.T) {
	d := deploy("web", 3, "1", "0")
	old := owned(d, "busybox:old", 3, 3, "1", time.Hour)
	f := newFixture(t, d, old)
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	created := written[*appsv1.ReplicaSet](f, "create", "replicasets", "")
	if len(created) != 1 || *created[0].Spec.Replicas != 1 || created[0].Annotations[RevisionAnnotation] != "2" {
		t.Fatalf("created %v", created)
	}
	for _, rs := range written[*appsv1.ReplicaSet](f, "update", "replicasets", "") {
		if rs.Name == old.Name && *rs.Spec.Replicas < 3 {
			t.Errorf("an available old pod went before any new one was available")
		}
	}
}

func TestTheOldSetShrinksAsNewPodsBecomeAvailable(t *testing.T) {
	d := deploy("web", 3, "1", "0")
	old := owned(d, "busybox:old", 3, 3, "1", time.Hour)
	newRS := owned(d, "", 1, 1, "2", time.Minute)
	newRS.Annotations[DesiredReplicasAnnotation] = "3"
	f := newFixture(t, d, old, newRS)
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, rs := range written[*appsv1.ReplicaSet](f, "update", "replicasets", "") {
		got = append(got, rs.Name+"="+string(rune('0'+*rs.Spec.Replicas)))
	}
	// The new set is at the surge limit (4 pods for 3): one old pod may go.
	if strings.Join(got, ",") != old.Name+"=2" {
		t.Errorf("scaled %v", got)
	}
	if e := f.events(); len(e) != 1 || e[0] != "Normal ScalingReplicaSet Scaled down replica set "+old.Name+" from 3 to 2" {
		t.Errorf("events %v", e)
	}
}

func TestARollbackMakesTheOldSetNewWithTheNextRevision(t *testing.T) {
	d := deploy("web", 3, "1", "0")
	// The template is back to what revision 1 ran; revision 2 runs now.
	back := owned(d, "", 0, 0, "1", time.Hour)
	current := owned(d, "busybox:2", 3, 3, "2", time.Minute)
	f := newFixture(t, d, back, current)
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	updates := written[*appsv1.ReplicaSet](f, "update", "replicasets", "")
	if len(updates) == 0 || updates[0].Name != back.Name || updates[0].Annotations[RevisionAnnotation] != "3" ||
		updates[0].Annotations[RevisionHistoryAnnotation] != "1" {
		t.Fatalf("updates %v", updates)
	}
	statuses := written[*appsv1.Deployment](f, "update", "deployments", "status")
	if len(statuses) == 0 || statuses[0].Annotations[RevisionAnnotation] != "3" {
		t.Errorf("deployment revision not updated: %v", statuses)
	}
	if len(written[*appsv1.ReplicaSet](f, "create", "replicasets", "")) != 0 {
		t.Error("a set was created for a template that has one")
	}
}

func TestAPausedDeploymentDoesNotRollButScales(t *testing.T) {
	d := deploy("web", 5, "1", "0")
	d.Spec.Paused = true
	old := owned(d, "busybox:old", 3, 3, "1", time.Hour)
	f := newFixture(t, d, old)
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	if n := len(written[*appsv1.ReplicaSet](f, "create", "replicasets", "")); n != 0 {
		t.Errorf("a paused deployment created %d sets", n)
	}
	updates := written[*appsv1.ReplicaSet](f, "update", "replicasets", "")
	if len(updates) != 1 || *updates[0].Spec.Replicas != 5 {
		t.Errorf("updates %v", updates)
	}
	statuses := written[*appsv1.Deployment](f, "update", "deployments", "status")
	if progressingReason(statuses[0].Status) != "Unknown/DeploymentPaused" {
		t.Errorf("condition %s", progressingReason(statuses[0].Status))
	}
}

func TestRecreateScalesOldToZeroAndWaitsForItsPods(t *testing.T) {
	d := deploy("web", 2, "", "")
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	old := owned(d, "busybox:old", 2, 2, "1", time.Hour)
	old.Annotations[DesiredReplicasAnnotation] = "2"
	f := newFixture(t, d, old)
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	if got := f.actions(); !strings.HasPrefix(got, "update replicasets") || strings.Contains(got, "create replicasets") {
		t.Fatalf("actions: %s", got)
	}
	// Old scaled to zero, its status says so, but a pod is still running.
	gone := old.DeepCopy()
	*gone.Spec.Replicas, gone.Status.Replicas = 0, 0
	yes := true
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: old.Name, UID: old.UID, Controller: &yes}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	f = newFixture(t, d, gone, pod)
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(f.actions(), "create replicasets") {
		t.Fatal("the new set came while an old pod runs")
	}
	f = newFixture(t, d, gone)
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	if created := written[*appsv1.ReplicaSet](f, "create", "replicasets", ""); len(created) != 1 || *created[0].Spec.Replicas != 2 {
		t.Errorf("created %v", created)
	}
}

func TestOldSetsBeyondTheHistoryLimitAreDeleted(t *testing.T) {
	d := deploy("web", 1, "1", "0")
	d.Spec.RevisionHistoryLimit = ptr(int32(1))
	current := owned(d, "", 1, 1, "3", time.Minute)
	current.Annotations[DesiredReplicasAnnotation], current.Annotations[MaxReplicasAnnotation] = "1", "2"
	r1, r2 := owned(d, "busybox:1", 0, 0, "1", 2*time.Hour), owned(d, "busybox:2", 0, 0, "2", time.Hour)
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1, ReadyReplicas: 1}
	d.Annotations = map[string]string{RevisionAnnotation: "3"}
	f := newFixture(t, d, current, r1, r2)
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	var deleted []string
	for _, a := range f.client.Actions() {
		if a.Matches("delete", "replicasets") {
			deleted = append(deleted, a.(clienttesting.DeleteAction).GetName())
		}
	}
	sort.Strings(deleted)
	if len(deleted) != 1 || deleted[0] != r1.Name {
		t.Errorf("deleted %v, want only revision 1", deleted)
	}
}

func TestASelectorForEverythingIsRefusedWithAnEvent(t *testing.T) {
	d := deploy("web", 1, "1", "0")
	d.Spec.Selector = &metav1.LabelSelector{}
	f := newFixture(t, d)
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	if e := f.events(); len(e) != 1 || e[0] != "Warning SelectingAll This deployment is selecting all pods. A non-empty selector is required." {
		t.Errorf("events %v", e)
	}
	if got := f.actions(); got != "update deployments/status" {
		t.Errorf("actions %s", got)
	}
}

func TestADeploymentAdoptsMatchingOrphanSets(t *testing.T) {
	d := deploy("web", 1, "1", "0")
	orphan := owned(d, "", 1, 1, "1", time.Hour)
	orphan.OwnerReferences = nil
	f := newFixture(t, d, orphan)
	if err := f.sync(); err != nil {
		t.Fatal(err)
	}
	if got := f.actions(); !strings.HasPrefix(got, "get deployments, patch replicasets") {
		t.Errorf("actions %s", got)
	}
}
