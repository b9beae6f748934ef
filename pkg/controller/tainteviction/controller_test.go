package tainteviction

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/minik8s/minik8s/pkg/controller/worker"
)

var t0 = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

func seconds(s int64) *int64 { return &s }

var (
	unreachable = corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute}
	notReady    = corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute}
	dedicated   = corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoExecute}
)

func tolerate(key string, secs *int64) corev1.Toleration {
	return corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: secs}
}

func TestDecide(t *testing.T) {
	defaults := []corev1.Toleration{tolerate(corev1.TaintNodeNotReady, seconds(300)), tolerate(corev1.TaintNodeUnreachable, seconds(300))}
	cases := []struct {
		name        string
		taints      []corev1.Taint
		tolerations []corev1.Toleration
		want        verdict
	}{
		{"a node without NoExecute taints keeps its pods", nil, nil, verdict{kind: keepPod}},
		{"a pod without a matching toleration is evicted at once", []corev1.Taint{unreachable}, nil, verdict{kind: evictNow}},
		{"a pod with the default tolerations is evicted after 300s", []corev1.Taint{unreachable}, defaults, verdict{kind: evictLater, after: 300 * time.Second}},
		{"a toleration without seconds tolerates forever", []corev1.Taint{unreachable}, []corev1.Toleration{tolerate(corev1.TaintNodeUnreachable, nil)}, verdict{kind: keepPod}},
		{"the shortest tolerationSeconds among the taints wins", []corev1.Taint{unreachable, dedicated},
			[]corev1.Toleration{tolerate(corev1.TaintNodeUnreachable, seconds(60)), tolerate("dedicated", seconds(20))}, verdict{kind: evictLater, after: 20 * time.Second}},
		{"one untolerated taint among tolerated ones evicts at once", []corev1.Taint{unreachable, dedicated}, defaults, verdict{kind: evictNow}},
		{"a zero or negative tolerationSeconds evicts at once", []corev1.Taint{notReady}, []corev1.Toleration{tolerate(corev1.TaintNodeNotReady, seconds(-5))},
			verdict{kind: evictLater, after: 0}},
		{"an Exists toleration without a key tolerates every taint forever", []corev1.Taint{unreachable, dedicated},
			[]corev1.Toleration{{Operator: corev1.TolerationOpExists}}, verdict{kind: keepPod}},
		{"a toleration for another effect does not match", []corev1.Taint{unreachable},
			[]corev1.Toleration{{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}, verdict{kind: evictNow}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := decide(c.taints, c.tolerations); got != c.want {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

type fixture struct {
	client   *fake.Clientset
	factory  informers.SharedInformerFactory
	ctrl     *Controller
	clock    *clocktesting.FakeClock
	recorder *events.FakeRecorder
}

func newFixture(t *testing.T, objs ...runtime.Object) *fixture {
	t.Helper()
	client := fake.NewSimpleClientset(objs...)
	f := informers.NewSharedInformerFactory(client, 0)
	clk := clocktesting.NewFakeClock(t0)
	rec := events.NewFakeRecorder(100)
	c, err := New(Config{Client: client, Nodes: f.Core().V1().Nodes(), Pods: f.Core().V1().Pods(), Recorder: rec, Workers: 1, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		switch o := o.(type) {
		case *corev1.Node:
			_ = f.Core().V1().Nodes().Informer().GetIndexer().Add(o)
		case *corev1.Pod:
			_ = f.Core().V1().Pods().Informer().GetIndexer().Add(o)
		}
	}
	return &fixture{client: client, factory: f, ctrl: c, clock: clk, recorder: rec}
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

func taintedNode(taints ...corev1.Taint) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}, Spec: corev1.NodeSpec{Taints: taints}}
}

func pod(name string, tolerations ...corev1.Toleration) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name)},
		Spec: corev1.PodSpec{NodeName: "n", Tolerations: tolerations}}
}

func TestPodsOnATaintedNodeAreEvictedAccordingToTheirTolerations(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, taintedNode(unreachable), pod("intolerant"), pod("patient", tolerate(corev1.TaintNodeUnreachable, seconds(30))),
		pod("forever", tolerate(corev1.TaintNodeUnreachable, nil)))
	if err := f.ctrl.syncNode("n"); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.ctrl.Pending("ns/forever"); ok {
		t.Error("a pod tolerating forever was scheduled for eviction")
	}
	if at, ok := f.ctrl.Pending("ns/patient"); !ok || !at.Equal(t0.Add(30*time.Second)) {
		t.Errorf("patient pod due at %v, %v", at, ok)
	}
	if err := f.ctrl.evict(ctx, "ns/intolerant"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.CoreV1().Pods("ns").Get(ctx, "intolerant", metav1.GetOptions{}); err == nil {
		t.Error("the intolerant pod was not deleted")
	}
	// Not yet due: the sync asks to be called again when it is.
	err := f.ctrl.evict(ctx, "ns/patient")
	if d, ok := worker.RequeueDelay(err); !ok || d != 30*time.Second {
		t.Fatalf("early eviction returned %v", err)
	}
	f.clock.Step(30 * time.Second)
	if err := f.ctrl.evict(ctx, "ns/patient"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.CoreV1().Pods("ns").Get(ctx, "patient", metav1.GetOptions{}); err == nil {
		t.Error("the patient pod was not deleted after its toleration ran out")
	}
	if ev := f.events(); !strings.Contains(ev, "Normal TaintManagerEviction Marking for deletion Pod ns/intolerant") ||
		!strings.Contains(ev, "Marking for deletion Pod ns/patient") {
		t.Errorf("events:\n%s", ev)
	}
	var patched bool
	for _, a := range f.client.Actions() {
		if a.GetVerb() == "patch" && a.GetSubresource() == "status" {
			patched = true
		}
	}
	if !patched {
		t.Error("no DisruptionTarget condition was patched before the deletion")
	}
}

func TestTaintsGoingAwayCancelThePendingEvictions(t *testing.T) {
	f := newFixture(t, taintedNode(unreachable), pod("patient", tolerate(corev1.TaintNodeUnreachable, seconds(300))))
	if err := f.ctrl.syncNode("n"); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.ctrl.Pending("ns/patient"); !ok {
		t.Fatal("no eviction scheduled")
	}
	_ = f.factory.Core().V1().Nodes().Informer().GetIndexer().Update(taintedNode())
	if err := f.ctrl.syncNode("n"); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.ctrl.Pending("ns/patient"); ok {
		t.Error("the eviction outlived the taint")
	}
	if ev := f.events(); !strings.Contains(ev, "Cancelling deletion of Pod ns/patient") {
		t.Errorf("events:\n%s", ev)
	}
	if err := f.ctrl.evict(context.Background(), "ns/patient"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.CoreV1().Pods("ns").Get(context.Background(), "patient", metav1.GetOptions{}); err != nil {
		t.Errorf("a cancelled eviction deleted the pod: %v", err)
	}
}

func TestAPodLaterPlacedOnATaintedNodeIsJudgedByItsOwnSync(t *testing.T) {
	f := newFixture(t, taintedNode(notReady))
	if err := f.ctrl.syncNode("n"); err != nil {
		t.Fatal(err)
	}
	_ = f.factory.Core().V1().Pods().Informer().GetIndexer().Add(pod("late"))
	if err := f.ctrl.syncPod("ns/late"); err != nil {
		t.Fatal(err)
	}
	if at, ok := f.ctrl.Pending("ns/late"); !ok || !at.Equal(t0) {
		t.Errorf("late pod due at %v, %v", at, ok)
	}
	// Deleted before its eviction: cancelled.
	_ = f.factory.Core().V1().Pods().Informer().GetIndexer().Delete(pod("late"))
	if err := f.ctrl.syncPod("ns/late"); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.ctrl.Pending("ns/late"); ok {
		t.Error("a deleted pod still has an eviction")
	}
}

func TestALongerTolerationAddedLaterDoesNotPostponeARunningEviction(t *testing.T) {
	f := newFixture(t, taintedNode(unreachable), pod("p", tolerate(corev1.TaintNodeUnreachable, seconds(10))))
	if err := f.ctrl.syncNode("n"); err != nil {
		t.Fatal(err)
	}
	f.clock.Step(5 * time.Second)
	_ = f.factory.Core().V1().Pods().Informer().GetIndexer().Update(pod("p", tolerate(corev1.TaintNodeUnreachable, seconds(600))))
	if err := f.ctrl.syncPod("ns/p"); err != nil {
		t.Fatal(err)
	}
	if at, _ := f.ctrl.Pending("ns/p"); !at.Equal(t0.Add(10 * time.Second)) {
		t.Errorf("due at %v", at)
	}
}
