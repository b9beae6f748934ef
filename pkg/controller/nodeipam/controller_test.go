package nodeipam

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/events"
)

type fixture struct {
	client   *fake.Clientset
	ctrl     *Controller
	recorder *events.FakeRecorder
}

// newFixture builds the controller and feeds it the nodes as the informer would.
func newFixture(t *testing.T, cluster string, nodes ...*corev1.Node) *fixture {
	t.Helper()
	var objs []runtime.Object
	for _, n := range nodes {
		objs = append(objs, n)
	}
	client := fake.NewSimpleClientset(objs...)
	f := informers.NewSharedInformerFactory(client, 0)
	rec := events.NewFakeRecorder(10)
	c, err := New(Config{Client: client, Nodes: f.Core().V1().Nodes(), ClusterCIDR: cluster, NodeMaskSize: 24, Recorder: rec, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		_ = f.Core().V1().Nodes().Informer().GetIndexer().Add(n)
		c.observe(n)
	}
	client.ClearActions()
	return &fixture{client: client, ctrl: c, recorder: rec}
}

func node(name string, cidrs ...string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if len(cidrs) > 0 {
		n.Spec.PodCIDR, n.Spec.PodCIDRs = cidrs[0], cidrs
	}
	return n
}

// patched returns the pod CIDR each patch action set, by node.
func patched(t *testing.T, actions []clienttesting.Action) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, a := range actions {
		p, ok := a.(clienttesting.PatchAction)
		if !ok || !a.Matches("patch", "nodes") {
			t.Fatalf("unexpected action %v", a)
		}
		s := string(p.GetPatch())
		i := strings.Index(s, `"podCIDR":"`)
		out[p.GetName()] = strings.SplitN(s[i+len(`"podCIDR":"`):], `"`, 2)[0]
	}
	return out
}

func TestTwoNodesRegisteringTogetherGetDifferentRanges(t *testing.T) {
	// Both are in the cache without a range; neither patch has come back yet.
	f := newFixture(t, "10.244.0.0/16", node("a"), node("b"))
	for _, n := range []string{"a", "b"} {
		if err := f.ctrl.sync(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	got := patched(t, f.client.Actions())
	if got["a"] == "" || got["a"] == got["b"] {
		t.Errorf("ranges: %v", got)
	}
}

func TestNodesWithARangeAreLeftAloneAndTheirRangesSkipped(t *testing.T) {
	f := newFixture(t, "10.244.0.0/16", node("old", "10.244.0.0/24"), node("sim", "100.64.0.0/24"), node("new"))
	for _, n := range []string{"old", "sim", "new"} {
		if err := f.ctrl.sync(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	got := patched(t, f.client.Actions())
	if len(got) != 1 || got["new"] != "10.244.1.0/24" {
		t.Errorf("patches: %v, want only new with 10.244.1.0/24", got)
	}
}

func TestAGarbagePodCIDRDoesNotStopAllocation(t *testing.T) {
	f := newFixture(t, "10.244.0.0/16", node("bad", "not-a-cidr"), node("new"))
	if err := f.ctrl.sync(context.Background(), "new"); err != nil {
		t.Fatal(err)
	}
	if got := patched(t, f.client.Actions()); got["new"] != "10.244.0.0/24" {
		t.Errorf("patches: %v", got)
	}
}

func TestAFullClusterCIDRReportsCIDRNotAvailable(t *testing.T) {
	f := newFixture(t, "10.244.0.0/24", node("a", "10.244.0.0/24"), node("b"))
	err := f.ctrl.sync(context.Background(), "b")
	if err == nil {
		t.Fatal("allocated from a full range")
	}
	if got := <-f.recorder.Events; got != "Normal CIDRNotAvailable Node b status is now: CIDRNotAvailable" {
		t.Errorf("event %q", got)
	}
}

func TestADeletedNodesRangeIsFreedAndAFailedPatchReturnsItsRange(t *testing.T) {
	f := newFixture(t, "10.244.0.0/23", node("a", "10.244.0.0/24"), node("b"))
	f.client.PrependReactor("patch", "nodes", func(clienttesting.Action) (bool, runtime.Object, error) {
		return true, nil, errTest
	})
	if err := f.ctrl.sync(context.Background(), "b"); err == nil {
		t.Fatal("a failed patch was not reported")
	}
	if got := <-f.recorder.Events; got != "Normal CIDRAssignmentFailed Node b status is now: CIDRAssignmentFailed" {
		t.Errorf("event %q", got)
	}
	f.ctrl.forget(node("a", "10.244.0.0/24"))
	f.ctrl.mu.Lock()
	defer f.ctrl.mu.Unlock()
	if len(f.ctrl.alloc.used) != 0 {
		t.Errorf("ranges still taken: %v", f.ctrl.alloc.used)
	}
}

var errTest = &testError{}

type testError struct{}

func (*testError) Error() string { return "the API server said no" }
