package nodelifecycle

import (
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var t0 = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

const grace, startup = 50 * time.Second, 60 * time.Second

func readyNode(status corev1.ConditionStatus, heartbeat time.Time) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "n", CreationTimestamp: metav1.NewTime(t0.Add(-time.Hour))},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{
			Type: corev1.NodeReady, Status: status, Reason: "KubeletReady",
			LastHeartbeatTime: metav1.NewTime(heartbeat), LastTransitionTime: metav1.NewTime(t0.Add(-time.Hour)),
		}}},
	}
}

func leaseRenewedAt(at time.Time) *coordinationv1.Lease {
	rt := metav1.NewMicroTime(at)
	return &coordinationv1.Lease{Spec: coordinationv1.LeaseSpec{RenewTime: &rt}}
}

func TestAssess(t *testing.T) {
	seen := func(probe time.Time, n *corev1.Node, lease time.Time) *health {
		return &health{probe: probe, readyTransition: probe, status: n.Status.DeepCopy(), leaseRenew: lease}
	}
	cases := []struct {
		name       string
		saved      func(n *corev1.Node) *health
		node       *corev1.Node
		lease      *coordinationv1.Lease
		now        time.Time
		wantWrite  bool
		wantReady  corev1.ConditionStatus
		wantReason string
		wantProbe  time.Time
	}{
		{name: "a node seen for the first time counts as alive now",
			node: readyNode(corev1.ConditionTrue, t0.Add(-time.Hour)), now: t0,
			wantReady: corev1.ConditionTrue, wantReason: "KubeletReady", wantProbe: t0},
		{name: "a node whose heartbeat and lease stopped longer than the grace period becomes Unknown",
			saved: func(n *corev1.Node) *health { return seen(t0, n, t0) }, node: readyNode(corev1.ConditionTrue, t0),
			lease: leaseRenewedAt(t0), now: t0.Add(grace + time.Second),
			wantWrite: true, wantReady: corev1.ConditionUnknown, wantReason: reasonUnknown, wantProbe: t0},
		{name: "a silent node still within the grace period stays Ready",
			saved: func(n *corev1.Node) *health { return seen(t0, n, t0) }, node: readyNode(corev1.ConditionTrue, t0),
			lease: leaseRenewedAt(t0), now: t0.Add(grace - time.Second),
			wantReady: corev1.ConditionTrue, wantReason: "KubeletReady", wantProbe: t0},
		{name: "a renewed lease keeps a node alive although its status heartbeat stopped",
			saved: func(n *corev1.Node) *health { return seen(t0, n, t0) }, node: readyNode(corev1.ConditionTrue, t0),
			lease: leaseRenewedAt(t0.Add(40 * time.Second)), now: t0.Add(grace + time.Second),
			wantReady: corev1.ConditionTrue, wantReason: "KubeletReady", wantProbe: t0.Add(grace + time.Second)},
		{name: "a new status heartbeat keeps a node alive without a lease",
			saved: func(n *corev1.Node) *health { return seen(t0, readyNode(corev1.ConditionTrue, t0), time.Time{}) },
			node:  readyNode(corev1.ConditionTrue, t0.Add(30*time.Second)), now: t0.Add(grace + time.Second),
			wantReady: corev1.ConditionTrue, wantReason: "KubeletReady", wantProbe: t0.Add(grace + time.Second)},
		{name: "a node that never posted status gets the startup grace period from its creation",
			node: &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n", CreationTimestamp: metav1.NewTime(t0)}},
			now:  t0.Add(startup - time.Second), wantProbe: t0},
		{name: "a node that never posted status past the startup grace gets never-updated conditions",
			node: &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n", CreationTimestamp: metav1.NewTime(t0)}},
			now:  t0.Add(startup + time.Second), wantWrite: true, wantReady: corev1.ConditionUnknown, wantReason: reasonNeverUpdated, wantProbe: t0},
		{name: "a node already Unknown is not written again",
			saved: func(n *corev1.Node) *health { return seen(t0, n, time.Time{}) }, node: readyNode(corev1.ConditionUnknown, t0),
			now: t0.Add(time.Hour), wantReady: corev1.ConditionUnknown, wantReason: "KubeletReady", wantProbe: t0},
		{name: "a not-Ready node whose kubelet went silent becomes Unknown too",
			saved: func(n *corev1.Node) *health { return seen(t0, n, time.Time{}) }, node: readyNode(corev1.ConditionFalse, t0),
			now: t0.Add(grace + time.Second), wantWrite: true, wantReady: corev1.ConditionUnknown, wantReason: reasonUnknown, wantProbe: t0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var saved *health
			if c.saved != nil {
				saved = c.saved(c.node)
			}
			a := assess(saved, c.node, c.lease, c.now, grace, startup)
			if a.write != c.wantWrite {
				t.Errorf("write = %v, want %v", a.write, c.wantWrite)
			}
			if !a.next.probe.Equal(c.wantProbe) {
				t.Errorf("probe = %v, want %v", a.next.probe, c.wantProbe)
			}
			if c.wantReady == "" {
				if a.current != nil {
					t.Errorf("current = %+v, want none", a.current)
				}
				return
			}
			if a.current == nil || a.current.Status != c.wantReady || a.current.Reason != c.wantReason {
				t.Fatalf("current = %+v, want %s/%s", a.current, c.wantReady, c.wantReason)
			}
		})
	}
}

func TestSilenceTakesOverEveryKubeletCondition(t *testing.T) {
	n := readyNode(corev1.ConditionTrue, t0)
	n.Status.Conditions = append(n.Status.Conditions,
		corev1.NodeCondition{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse},
		corev1.NodeCondition{Type: corev1.NodeNetworkUnavailable, Status: corev1.ConditionFalse})
	silence(n, t0)
	want := map[corev1.NodeConditionType]string{
		corev1.NodeReady: messageUnknown, corev1.NodeMemoryPressure: messageUnknown,
		corev1.NodeDiskPressure: messageNeverUpdated, corev1.NodePIDPressure: messageNeverUpdated,
	}
	for typ, msg := range want {
		c := findCondition(&n.Status, typ)
		if c == nil || c.Status != corev1.ConditionUnknown || c.Message != msg {
			t.Errorf("%s = %+v, want Unknown with %q", typ, c, msg)
		}
	}
	if c := findCondition(&n.Status, corev1.NodeNetworkUnavailable); c.Status != corev1.ConditionFalse {
		t.Errorf("NetworkUnavailable was changed: %+v", c)
	}
}
