package podgc

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func pod(name string, phase corev1.PodPhase, node string, created time.Time) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name), Generation: 3, CreationTimestamp: metav1.NewTime(created)},
		Spec: corev1.PodSpec{NodeName: node}, Status: corev1.PodStatus{Phase: phase}}
}

func podNames(pods []*corev1.Pod) string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return strings.Join(out, ",")
}

func TestTerminatedPodsBeyondTheThresholdGoEvictedAndOldestFirst(t *testing.T) {
	evicted := pod("evicted", corev1.PodFailed, "n", t0.Add(time.Hour))
	evicted.Status.Reason = "Evicted"
	pods := []*corev1.Pod{
		pod("running", corev1.PodRunning, "n", t0), pod("new", corev1.PodSucceeded, "n", t0.Add(2*time.Hour)),
		pod("old-b", corev1.PodFailed, "n", t0), pod("old-a", corev1.PodSucceeded, "n", t0), evicted,
		pod("pending", corev1.PodPending, "", t0), pod("unknown", corev1.PodUnknown, "n", t0),
	}
	cases := []struct {
		threshold int
		want      string
	}{
		{0, ""}, {4, ""}, {3, "evicted"}, {1, "evicted,old-a,old-b"}, {-1, ""},
	}
	for _, c := range cases {
		if got := podNames(terminatedOverThreshold(pods, c.threshold)); got != c.want {
			t.Errorf("threshold %d: %q, want %q", c.threshold, got, c.want)
		}
	}
}

func TestTerminatingPodsWithoutANodeOrOnOutOfServiceNodesGo(t *testing.T) {
	deleting := func(p *corev1.Pod) *corev1.Pod { p.DeletionTimestamp = &metav1.Time{Time: t0}; return p }
	pods := []*corev1.Pod{
		deleting(pod("unscheduled", corev1.PodPending, "", t0)), pod("pending", corev1.PodPending, "", t0),
		deleting(pod("on-oos", corev1.PodRunning, "oos", t0)), deleting(pod("on-ready-oos", corev1.PodRunning, "ready-oos", t0)),
		deleting(pod("on-down", corev1.PodRunning, "down", t0)), pod("alive-on-oos", corev1.PodRunning, "oos", t0),
	}
	taint := []corev1.Taint{{Key: corev1.TaintNodeOutOfService, Effect: corev1.TaintEffectNoExecute}}
	ready := []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	nodes := map[string]*corev1.Node{
		"oos":       {ObjectMeta: metav1.ObjectMeta{Name: "oos"}, Spec: corev1.NodeSpec{Taints: taint}},
		"ready-oos": {ObjectMeta: metav1.ObjectMeta{Name: "ready-oos"}, Spec: corev1.NodeSpec{Taints: taint}, Status: corev1.NodeStatus{Conditions: ready}},
		"down":      {ObjectMeta: metav1.ObjectMeta{Name: "down"}},
	}
	if got := podNames(unscheduledTerminating(pods)); got != "unscheduled" {
		t.Errorf("unscheduled terminating: %s", got)
	}
	if got := podNames(terminatingOutOfService(pods, nodes)); got != "on-oos" {
		t.Errorf("out of service: %s", got)
	}
}

func TestQuarantineWaitsBeforeANodeIsTakenAsGone(t *testing.T) {
	q := quarantine{since: map[string]time.Time{}}
	pods := []*corev1.Pod{pod("a", corev1.PodRunning, "gone", t0), pod("b", corev1.PodRunning, "here", t0), pod("c", corev1.PodPending, "", t0)}
	here := sets.New("here")
	q.observe(pods, here, t0)
	if got := q.due(t0.Add(39*time.Second), DefaultQuarantine); len(got) != 0 {
		t.Fatalf("due after 39s: %v", got)
	}
	q.observe(pods, here, t0.Add(20*time.Second))
	if got := q.due(t0.Add(40*time.Second), DefaultQuarantine); len(got) != 1 || got[0] != "gone" {
		t.Fatalf("due after 40s: %v", got)
	}
	if got := q.due(t0.Add(time.Hour), DefaultQuarantine); len(got) != 0 {
		t.Errorf("checked twice: %v", got)
	}
	q.observe(pods, here, t0.Add(time.Hour))
	q.observe(pods, sets.New("here", "gone"), t0.Add(time.Hour+time.Second))
	if got := q.due(t0.Add(2*time.Hour), DefaultQuarantine); len(got) != 0 {
		t.Errorf("a node that came back is still quarantined: %v", got)
	}
}

type fixture struct {
	client *fake.Clientset
	ctrl   *Controller
	clock  *clocktesting.FakeClock
}

func newFixture(t *testing.T, threshold int, objs ...runtime.Object) *fixture {
	t.Helper()
	client := fake.NewSimpleClientset(objs...)
	factory := informers.NewSharedInformerFactory(client, 0)
	clock := clocktesting.NewFakeClock(t0)
	c, err := New(Config{Client: client, Pods: factory.Core().V1().Pods(), Nodes: factory.Core().V1().Nodes(), TerminatedPodThreshold: threshold, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		switch o := o.(type) {
		case *corev1.Pod:
			_ = factory.Core().V1().Pods().Informer().GetIndexer().Add(o)
		case *corev1.Node:
			_ = factory.Core().V1().Nodes().Informer().GetIndexer().Add(o)
		}
	}
	return &fixture{client: client, ctrl: c, clock: clock}
}

func (f *fixture) actions() []string {
	var out []string
	for _, a := range f.client.Actions() {
		s := a.GetVerb() + " " + a.GetResource().Resource
		if sub := a.GetSubresource(); sub != "" {
			s += "/" + sub
		}
		switch a := a.(type) {
		case clienttesting.DeleteAction:
			s += " " + a.GetName()
		case clienttesting.PatchAction:
			s += " " + a.GetName()
		case clienttesting.GetAction:
			s += " " + a.GetName()
		}
		out = append(out, s)
	}
	sort.Strings(out)
	f.client.ClearActions()
	return out
}

func TestOrphanedPodsAreMarkedFailedWithDisruptionTargetThenDeleted(t *testing.T) {
	orphan := pod("orphan", corev1.PodRunning, "gone", t0)
	done := pod("done", corev1.PodSucceeded, "gone", t0)
	f := newFixture(t, 0, orphan, done, pod("fine", corev1.PodRunning, "here", t0), &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "here"}})
	var patch []byte
	f.client.PrependReactor("patch", "pods", func(a clienttesting.Action) (bool, runtime.Object, error) {
		patch = a.(clienttesting.PatchAction).GetPatch()
		return false, nil, nil
	})
	var grace *int64
	f.client.PrependReactor("delete", "pods", func(a clienttesting.Action) (bool, runtime.Object, error) {
		grace = a.(clienttesting.DeleteAction).GetDeleteOptions().GracePeriodSeconds
		return false, nil, nil
	})
	if err := f.ctrl.Collect(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := f.actions(); len(got) != 0 {
		t.Fatalf("acted before the quarantine: %v", got)
	}
	f.clock.Step(DefaultQuarantine)
	if err := f.ctrl.Collect(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := "delete pods done,delete pods orphan,get nodes gone,patch pods/status orphan"
	if got := strings.Join(f.actions(), ","); got != want {
		t.Fatalf("actions %s, want %s", got, want)
	}
	if grace == nil || *grace != 0 {
		t.Errorf("grace %v", grace)
	}
	orig, _ := json.Marshal(orphan)
	patched, err := strategicpatch.StrategicMergePatch(orig, patch, corev1.Pod{})
	if err != nil {
		t.Fatal(err)
	}
	var got corev1.Pod
	_ = json.Unmarshal(patched, &got)
	c := got.Status.Conditions
	if got.Status.Phase != corev1.PodFailed || got.Status.ObservedGeneration != 3 || len(c) != 1 || c[0].Type != corev1.DisruptionTarget ||
		c[0].Reason != "DeletionByPodGC" || c[0].Message != "PodGC: node no longer exists" || c[0].ObservedGeneration != 3 ||
		!c[0].LastTransitionTime.Time.Equal(t0.Add(DefaultQuarantine)) {
		t.Errorf("status after the patch %+v", got.Status)
	}
	if !strings.Contains(string(patch), `"uid":"uid-orphan"`) {
		t.Errorf("patch without the uid precondition: %s", patch)
	}
}

func TestANodeStillInTheAPIKeepsItsPods(t *testing.T) {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "late"}}
	f := newFixture(t, 0, pod("p", corev1.PodRunning, "late", t0))
	_ = f.client.Tracker().Add(node) // in the API, not yet in the cache
	f.clock.Step(time.Minute)
	_ = f.ctrl.Collect(context.Background())
	f.clock.Step(time.Minute)
	_ = f.ctrl.Collect(context.Background())
	if got := strings.Join(f.actions(), ","); got != "get nodes late" {
		t.Errorf("actions %s", got)
	}
}

func TestTerminatedPodsOverTheThresholdAreDeletedWithoutAStatusChange(t *testing.T) {
	var objs []runtime.Object
	for i := 0; i < 5; i++ {
		objs = append(objs, pod(fmt.Sprintf("p%d", i), corev1.PodSucceeded, "n", t0.Add(time.Duration(i)*time.Minute)))
	}
	objs = append(objs, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}})
	f := newFixture(t, 3, objs...)
	if err := f.ctrl.Collect(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.actions(), ","); got != "delete pods p0,delete pods p1" {
		t.Errorf("actions %s", got)
	}
}

func TestAnUnscheduledTerminatingPodIsFailedThenDeleted(t *testing.T) {
	p := pod("stuck", corev1.PodPending, "", t0)
	p.DeletionTimestamp = &metav1.Time{Time: t0}
	f := newFixture(t, 0, p)
	if err := f.ctrl.Collect(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.actions(), ","); got != "delete pods stuck,patch pods/status stuck" {
		t.Errorf("actions %s", got)
	}
}
