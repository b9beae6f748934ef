package disruption

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	scalefake "k8s.io/client-go/scale/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/minik8s/minik8s/pkg/controller/worker"
)

type fixture struct {
	client   *fake.Clientset
	ctrl     *Controller
	clock    *clocktesting.FakeClock
	recorder *events.FakeRecorder
	scales   *scalefake.FakeScaleClient
}

func newFixture(t *testing.T, objs ...runtime.Object) *fixture {
	t.Helper()
	client := fake.NewSimpleClientset(objs...)
	f := informers.NewSharedInformerFactory(client, 0)
	clk := clocktesting.NewFakeClock(t0)
	rec := events.NewFakeRecorder(100)
	sc := &scalefake.FakeScaleClient{}
	mapper := meta.NewDefaultRESTMapper(nil)
	mapper.Add(schema.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Foo"}, meta.RESTScopeNamespace)
	mapper.Add(appsv1.SchemeGroupVersion.WithKind("ReplicaSet"), meta.RESTScopeNamespace)
	client.Resources = []*metav1.APIResourceList{{GroupVersion: "apps/v1", APIResources: []metav1.APIResource{
		{Name: "replicasets", Kind: "ReplicaSet"}, {Name: "replicasets/scale", Group: "autoscaling", Version: "v1", Kind: "Scale"}}}}
	c, err := New(Config{Client: client, Pods: f.Core().V1().Pods(), PodDisruptionBudgets: f.Policy().V1().PodDisruptionBudgets(),
		ReplicationControllers: f.Core().V1().ReplicationControllers(), ReplicaSets: f.Apps().V1().ReplicaSets(),
		Deployments: f.Apps().V1().Deployments(), StatefulSets: f.Apps().V1().StatefulSets(), Scales: sc, Mapper: mapper,
		Recorder: rec, Workers: 1, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		switch o := o.(type) {
		case *corev1.Pod:
			_ = f.Core().V1().Pods().Informer().GetIndexer().Add(o)
		case *policyv1.PodDisruptionBudget:
			_ = f.Policy().V1().PodDisruptionBudgets().Informer().GetIndexer().Add(o)
		case *appsv1.ReplicaSet:
			_ = f.Apps().V1().ReplicaSets().Informer().GetIndexer().Add(o)
		case *appsv1.Deployment:
			_ = f.Apps().V1().Deployments().Informer().GetIndexer().Add(o)
		case *appsv1.StatefulSet:
			_ = f.Apps().V1().StatefulSets().Informer().GetIndexer().Add(o)
		case *corev1.ReplicationController:
			_ = f.Core().V1().ReplicationControllers().Informer().GetIndexer().Add(o)
		}
	}
	client.ClearActions()
	return &fixture{client: client, ctrl: c, clock: clk, recorder: rec, scales: sc}
}

func (f *fixture) status(t *testing.T) policyv1.PodDisruptionBudgetStatus {
	t.Helper()
	for _, a := range f.client.Actions() {
		if u, ok := a.(clienttesting.UpdateAction); ok && a.GetSubresource() == "status" {
			return u.GetObject().(*policyv1.PodDisruptionBudget).Status
		}
	}
	t.Fatalf("no status update among %v", f.client.Actions())
	return policyv1.PodDisruptionBudgetStatus{}
}

func (f *fixture) events() string {
	var out []string
	for {
		select {
		case e := <-f.recorder.Events:
			out = append(out, e)
		default:
			return strings.Join(out, "\n")
		}
	}
}

func replicas(n int32) *int32 { return &n }

func deploymentWithReplicaSet(replicasWanted int32) (*appsv1.Deployment, *appsv1.ReplicaSet) {
	yes := true
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "web"}, Spec: appsv1.DeploymentSpec{Replicas: replicas(replicasWanted)}}
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "rs", Namespace: "ns", UID: "rs",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", UID: "web", Controller: &yes}}},
		Spec: appsv1.ReplicaSetSpec{Replicas: replicas(2)}}
	return d, rs
}

func TestABudgetOverADeploymentsPodsTakesPercentagesOfTheDeploymentsReplicas(t *testing.T) {
	d, rs := deploymentWithReplicaSet(4)
	f := newFixture(t, budget(intOrStr("50%"), nil), d, rs, ownedPod("a", "rs", true), ownedPod("b", "rs", true), ownedPod("c", "rs", true))
	if err := f.ctrl.sync(context.Background(), "ns/pdb"); err != nil {
		t.Fatal(err)
	}
	st := f.status(t)
	if st.ExpectedPods != 4 || st.DesiredHealthy != 2 || st.CurrentHealthy != 3 || st.DisruptionsAllowed != 1 || st.ObservedGeneration != 1 {
		t.Errorf("status %+v", st)
	}
	if c := st.Conditions[0]; c.Reason != "SufficientPods" || c.Status != metav1.ConditionTrue {
		t.Errorf("condition %+v", c)
	}
}

func TestABudgetOverAStatefulSetAndAReplicationController(t *testing.T) {
	yes := true
	ss := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "ns", UID: "db"}, Spec: appsv1.StatefulSetSpec{Replicas: replicas(3)}}
	rc := &corev1.ReplicationController{ObjectMeta: metav1.ObjectMeta{Name: "old", Namespace: "ns", UID: "old"}, Spec: corev1.ReplicationControllerSpec{Replicas: replicas(2)}}
	p1 := ownedPod("db-0", "", true)
	p1.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "db", UID: "db", Controller: &yes}}
	p2 := ownedPod("old-x", "", true)
	p2.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "ReplicationController", Name: "old", UID: "old", Controller: &yes}}
	f := newFixture(t, budget(nil, intOrStr("1")), ss, rc, p1, p2)
	if err := f.ctrl.sync(context.Background(), "ns/pdb"); err != nil {
		t.Fatal(err)
	}
	if st := f.status(t); st.ExpectedPods != 5 || st.DesiredHealthy != 4 || st.DisruptionsAllowed != 0 {
		t.Errorf("status %+v", st)
	}
}

func TestACustomControllerIsScaledThroughItsScaleSubresource(t *testing.T) {
	yes := true
	p := ownedPod("foo-1", "", true)
	p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "example.com/v1", Kind: "Foo", Name: "foo", UID: "foo", Controller: &yes}}
	f := newFixture(t, budget(nil, intOrStr("1")), p)
	f.scales.AddReactor("get", "foos", func(clienttesting.Action) (bool, runtime.Object, error) {
		return true, &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: "foo", UID: "foo"}, Spec: autoscalingv1.ScaleSpec{Replicas: 3}}, nil
	})
	if err := f.ctrl.sync(context.Background(), "ns/pdb"); err != nil {
		t.Fatal(err)
	}
	if st := f.status(t); st.ExpectedPods != 3 || st.DesiredHealthy != 2 {
		t.Errorf("status %+v", st)
	}
}

func TestABudgetThatCannotBeComputedAllowsNoDisruption(t *testing.T) {
	pdb := budget(intOrStr("50%"), nil)
	pdb.Status.DisruptionsAllowed = 3
	f := newFixture(t, pdb, ownedPod("a", "missing", true))
	f.scales.AddReactor("get", "replicasets", func(a clienttesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewNotFound(schema.GroupResource{Group: "apps", Resource: "replicasets"}, "missing")
	})
	if err := f.ctrl.sync(context.Background(), "ns/pdb"); err != nil {
		t.Fatal(err)
	}
	st := f.status(t)
	if st.DisruptionsAllowed != 0 || len(st.Conditions) != 1 || st.Conditions[0].Reason != "SyncFailed" ||
		st.Conditions[0].Message != `found no controllers for pod "a"` {
		t.Errorf("status %+v", st)
	}
	if ev := f.events(); !strings.Contains(ev, "Warning CalculateExpectedPodCountFailed Failed to calculate the number of expected pods: found no controllers for pod \"a\"") {
		t.Errorf("events:\n%s", ev)
	}
}

func TestAnApprovedEvictionIsCountedUntilItsTimeRunsOut(t *testing.T) {
	d, rs := deploymentWithReplicaSet(3)
	pdb := budget(intOrStr("2"), nil)
	pdb.Status.DisruptedPods = map[string]metav1.Time{"a": metav1.NewTime(t0)}
	f := newFixture(t, pdb, d, rs, ownedPod("a", "rs", true), ownedPod("b", "rs", true), ownedPod("c", "rs", true))
	err := f.ctrl.sync(context.Background(), "ns/pdb")
	if wait, ok := worker.RequeueDelay(err); !ok || wait != DeletionTimeout {
		t.Fatalf("sync returned %v, want a recheck after %s", err, DeletionTimeout)
	}
	if st := f.status(t); st.CurrentHealthy != 2 || st.DisruptionsAllowed != 0 || len(st.DisruptedPods) != 1 {
		t.Errorf("status %+v", st)
	}
}

func TestNoMatchingPodsIsReported(t *testing.T) {
	f := newFixture(t, budget(intOrStr("1"), nil))
	if err := f.ctrl.sync(context.Background(), "ns/pdb"); err != nil {
		t.Fatal(err)
	}
	if ev := f.events(); !strings.Contains(ev, "Normal NoPods No matching pods found") {
		t.Errorf("events:\n%s", ev)
	}
	if st := f.status(t); st.ExpectedPods != 0 || st.DesiredHealthy != 1 || st.Conditions[0].Reason != "InsufficientPods" {
		t.Errorf("status %+v", st)
	}
}

func TestAStaleDisruptionTargetConditionIsCleared(t *testing.T) {
	p := ownedPod("a", "rs", true)
	p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
		Reason: "EvictionByEvictionAPI", LastTransitionTime: metav1.NewTime(t0)})
	f := newFixture(t, p)
	err := f.ctrl.syncStalePod(context.Background(), "ns/a")
	if wait, ok := worker.RequeueDelay(err); !ok || wait != stalePodDisruptionTimeout {
		t.Fatalf("fresh condition: %v", err)
	}
	f.clock.Step(stalePodDisruptionTimeout + time.Second)
	if err := f.ctrl.syncStalePod(context.Background(), "ns/a"); err != nil {
		t.Fatal(err)
	}
	got, _ := f.client.CoreV1().Pods("ns").Get(context.Background(), "a", metav1.GetOptions{})
	for _, c := range got.Status.Conditions {
		if c.Type == corev1.DisruptionTarget && c.Status != corev1.ConditionFalse {
			t.Errorf("condition %+v", c)
		}
	}
}
