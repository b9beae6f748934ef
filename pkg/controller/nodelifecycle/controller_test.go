package nodelifecycle

import (
	"context"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/events"
	"k8s.io/component-helpers/node/topology"
	clocktesting "k8s.io/utils/clock/testing"
)

type fixture struct {
	t        *testing.T
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
	c, err := New(Config{Client: client, Nodes: f.Core().V1().Nodes(), Leases: f.Coordination().V1().Leases(), Pods: f.Core().V1().Pods(),
		Recorder: rec, Workers: 1, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	fx := &fixture{t: t, client: client, factory: f, ctrl: c, clock: clk, recorder: rec}
	for _, o := range objs {
		fx.cache(o)
	}
	return fx
}

// cache puts an object in the informers' caches as a watch would.
func (f *fixture) cache(o runtime.Object) {
	f.t.Helper()
	var err error
	switch o := o.(type) {
	case *corev1.Node:
		err = f.factory.Core().V1().Nodes().Informer().GetIndexer().Update(o)
	case *corev1.Pod:
		err = f.factory.Core().V1().Pods().Informer().GetIndexer().Update(o)
	case *coordinationv1.Lease:
		err = f.factory.Coordination().V1().Leases().Informer().GetIndexer().Update(o)
	}
	if err != nil {
		f.t.Fatal(err)
	}
}

// refresh copies the API's version of a node into the cache.
func (f *fixture) refresh(name string) *corev1.Node {
	f.t.Helper()
	n, err := f.client.CoreV1().Nodes().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	f.cache(n)
	return n
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

func healthyNode(name, zone string) *corev1.Node {
	n := readyNode(corev1.ConditionTrue, t0)
	n.Name = name
	n.Labels = map[string]string{corev1.LabelTopologyZone: zone}
	return n
}

func lease(name string, at time.Time) *coordinationv1.Lease {
	l := leaseRenewedAt(at)
	l.Name, l.Namespace = name, corev1.NamespaceNodeLease
	return l
}

func readyPod(name, node string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}, Spec: corev1.PodSpec{NodeName: node},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}}
}

func TestANodeWhoseLeaseStopsIsMarkedUnknownTaintedAndItsPodsNotReady(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, healthyNode("alive", "z"), healthyNode("lost", "z"), lease("alive", t0), lease("lost", t0), readyPod("web", "lost"))
	if err := f.ctrl.monitor(ctx); err != nil {
		t.Fatal(err)
	}
	if ev := f.events(); len(ev) != 2 || !strings.Contains(ev[0], "RegisteredNode") {
		t.Errorf("events on first sight: %v", ev)
	}
	// The alive node's lease keeps being renewed; the lost one's stops.
	f.clock.Step(DefaultMonitorGracePeriod + time.Second)
	f.cache(lease("alive", f.clock.Now()))
	if err := f.ctrl.monitor(ctx); err != nil {
		t.Fatal(err)
	}
	lost := f.refresh("lost")
	ready := findCondition(&lost.Status, corev1.NodeReady)
	if ready.Status != corev1.ConditionUnknown || ready.Message != "Kubelet stopped posting node status." {
		t.Fatalf("lost node Ready = %+v", ready)
	}
	if alive := f.refresh("alive"); findCondition(&alive.Status, corev1.NodeReady).Status != corev1.ConditionTrue {
		t.Error("the node with a renewed lease was marked")
	}
	pod, _ := f.client.CoreV1().Pods("default").Get(ctx, "web", metav1.GetOptions{})
	if pod.Status.Conditions[0].Status != corev1.ConditionFalse {
		t.Errorf("pod Ready = %+v", pod.Status.Conditions[0])
	}
	ev := strings.Join(f.events(), "\n")
	for _, want := range []string{"Normal NodeNotReady Node lost status is now: NodeNotReady", "Warning NodeNotReady Node is not ready"} {
		if !strings.Contains(ev, want) {
			t.Errorf("events lack %q:\n%s", want, ev)
		}
	}
	// The tainting pass puts the NoExecute taint on; the node update brings the NoSchedule one.
	f.ctrl.taintPass(ctx)
	lost = f.refresh("lost")
	if err := f.ctrl.syncNode(ctx, "lost"); err != nil {
		t.Fatal(err)
	}
	lost = f.refresh("lost")
	got := keys(lost.Spec.Taints)
	if strings.Join(got, ",") != "node.kubernetes.io/unreachable:NoExecute,node.kubernetes.io/unreachable:NoSchedule" {
		t.Fatalf("taints = %v", got)
	}

	// The kubelet comes back: Ready again, taints gone.
	f.clock.Step(time.Second)
	back := lost.DeepCopy()
	back.Status.Conditions = readyNode(corev1.ConditionTrue, f.clock.Now()).Status.Conditions
	if _, err := f.client.CoreV1().Nodes().UpdateStatus(ctx, back, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.refresh("lost")
	f.cache(lease("lost", f.clock.Now()))
	if err := f.ctrl.monitor(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.ctrl.syncNode(ctx, "lost"); err != nil {
		t.Fatal(err)
	}
	if taints := f.refresh("lost").Spec.Taints; len(taints) != 0 {
		t.Errorf("a recovered node kept %v", keys(taints))
	}
}

func TestWhenEveryNodeIsDownNoNodeIsTainted(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, healthyNode("a", "z1"), healthyNode("b", "z2"), lease("a", t0), lease("b", t0))
	if err := f.ctrl.monitor(ctx); err != nil {
		t.Fatal(err)
	}
	f.clock.Step(DefaultMonitorGracePeriod + time.Second)
	if err := f.ctrl.monitor(ctx); err != nil {
		t.Fatal(err)
	}
	f.refresh("a")
	f.refresh("b")
	f.ctrl.taintPass(ctx)
	for _, n := range []string{"a", "b"} {
		if taints := f.refresh(n).Spec.Taints; len(taints) != 0 {
			t.Errorf("%s tainted %v while every zone is down", n, keys(taints))
		}
	}
	if s := f.ctrl.zoneStates[topologyKey("z1")]; s != stateFullDisruption {
		t.Errorf("zone state %s", s)
	}
}

func topologyKey(zone string) string {
	return topology.GetZoneKey(healthyNode("x", zone))
}

func TestANotReadyNodeCarryingTheUnreachableTaintEndsUpWithTheNotReadyOne(t *testing.T) {
	ctx := context.Background()
	n := readyNode(corev1.ConditionFalse, t0)
	n.Name = "sick"
	n.Spec.Taints = []corev1.Taint{unreachableNoExecute}
	f := newFixture(t, n, healthyNode("ok", ""), lease("sick", t0), lease("ok", t0))
	if err := f.ctrl.monitor(ctx); err != nil {
		t.Fatal(err)
	}
	// First sight clears the taint; the tainting queue puts the right one back.
	f.refresh("sick")
	f.ctrl.taintPass(ctx)
	if got := keys(f.refresh("sick").Spec.Taints); strings.Join(got, ",") != "node.kubernetes.io/not-ready:NoExecute" {
		t.Errorf("taints = %v", got)
	}
}

func TestSyncNodeKeepsBetaLabelsInStep(t *testing.T) {
	n := healthyNode("n", "")
	n.Labels[corev1.LabelOSStable] = "linux"
	n.Labels["beta.kubernetes.io/arch"] = "arm64"
	n.Labels[corev1.LabelArchStable] = "amd64"
	f := newFixture(t, n)
	if err := f.ctrl.syncNode(context.Background(), "n"); err != nil {
		t.Fatal(err)
	}
	got := f.refresh("n").Labels
	if got["beta.kubernetes.io/os"] != "linux" || got["beta.kubernetes.io/arch"] != "amd64" {
		t.Errorf("labels = %v", got)
	}
}

func TestAPodPlacedOnANotReadyNodeIsMarkedNotReady(t *testing.T) {
	ctx := context.Background()
	n := readyNode(corev1.ConditionFalse, t0)
	n.Name = "sick"
	f := newFixture(t, n, readyPod("late", "sick"))
	if err := f.ctrl.monitor(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.ctrl.syncPod(ctx, "default/late"); err != nil {
		t.Fatal(err)
	}
	pod, _ := f.client.CoreV1().Pods("default").Get(ctx, "late", metav1.GetOptions{})
	if pod.Status.Conditions[0].Status != corev1.ConditionFalse {
		t.Errorf("pod Ready = %+v", pod.Status.Conditions[0])
	}
}

func TestConfigValidateRefusesBadSettings(t *testing.T) {
	base := func() Config {
		f := informers.NewSharedInformerFactory(fake.NewSimpleClientset(), 0)
		c := Config{Client: fake.NewSimpleClientset(), Nodes: f.Core().V1().Nodes(), Leases: f.Coordination().V1().Leases(),
			Pods: f.Core().V1().Pods(), Recorder: events.NewFakeRecorder(1), Workers: 1}
		c.Defaults()
		return c
	}
	for name, mut := range map[string]func(*Config){
		"no workers":                    func(c *Config) { c.Workers = 0 },
		"monitor period beyond grace":   func(c *Config) { c.MonitorPeriod = time.Minute; c.MonitorGracePeriod = time.Second },
		"negative eviction rate":        func(c *Config) { c.EvictionQPS = -1 },
		"zone threshold above one":      func(c *Config) { c.UnhealthyZoneThreshold = 2 },
		"no informers":                  func(c *Config) { c.Nodes = nil },
		"negative startup grace period": func(c *Config) { c.StartupGracePeriod = -time.Second },
	} {
		c := base()
		mut(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	c := base()
	if err := c.Validate(); err != nil {
		t.Errorf("defaults refused: %v", err)
	}
}
