package cache

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func node(name, zone string) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelTopologyZone: zone}},
		Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourcePods: resource.MustParse("110")}}}
}

func pod(name, node, cpu string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID(name)},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}}}}}}
}

func TestAnAssumedPodCountsUntilForgotten(t *testing.T) {
	c := New()
	c.AddNode(node("n1", "a"))
	s := NewEmptySnapshot()
	p := pod("p", "n1", "1")
	if err := c.AssumePod(p); err != nil {
		t.Fatal(err)
	}
	c.UpdateSnapshot(s)
	ni, _ := s.Get("n1")
	if ni.Requested.MilliCPU != 1000 || len(ni.Pods) != 1 {
		t.Fatalf("assumed pod not counted: %d mCPU, %d pods", ni.Requested.MilliCPU, len(ni.Pods))
	}
	c.ForgetPod(p)
	c.UpdateSnapshot(s)
	ni, _ = s.Get("n1")
	if ni.Requested.MilliCPU != 0 || len(ni.Pods) != 0 {
		t.Fatalf("forgotten pod still counted: %d mCPU, %d pods", ni.Requested.MilliCPU, len(ni.Pods))
	}
}

func TestTheInformersAddConfirmsAnAssumedPodWithoutCountingItTwice(t *testing.T) {
	c := New()
	c.AddNode(node("n1", "a"))
	p := pod("p", "n1", "1")
	_ = c.AssumePod(p)
	c.FinishBinding(p)
	c.AddPod(p)
	if c.IsAssumedPod(p) {
		t.Fatal("pod still assumed after the informer saw it bound")
	}
	s := NewEmptySnapshot()
	c.UpdateSnapshot(s)
	ni, _ := s.Get("n1")
	if ni.Requested.MilliCPU != 1000 || len(ni.Pods) != 1 {
		t.Fatalf("confirmed pod counted as %d mCPU, %d pods", ni.Requested.MilliCPU, len(ni.Pods))
	}
	// Forgetting a confirmed pod does nothing: it is not assumed any more.
	c.ForgetPod(p)
	if c.PodCount() != 1 {
		t.Fatal("a confirmed pod was forgotten")
	}
}

func TestSnapshotsCopyOnlyChangedNodes(t *testing.T) {
	c := New()
	c.AddNode(node("n1", "a"))
	c.AddNode(node("n2", "a"))
	s := NewEmptySnapshot()
	c.UpdateSnapshot(s)
	n1, _ := s.Get("n1")
	n2, _ := s.Get("n2")
	c.AddPod(pod("p", "n2", "1"))
	c.UpdateSnapshot(s)
	n1b, _ := s.Get("n1")
	n2b, _ := s.Get("n2")
	if n1b != n1 {
		t.Error("an unchanged node was copied again")
	}
	if n2b == n2 || len(n2.Pods) != 0 {
		t.Error("the changed node's old copy was modified instead of replaced")
	}
	if s.List()[1] != n2b && s.List()[0] != n2b {
		t.Error("the node list does not point at the new copy")
	}
}

func TestNodesAreListedZoneByZoneInTurn(t *testing.T) {
	c := New()
	for _, n := range []struct{ name, zone string }{{"a1", "a"}, {"a2", "a"}, {"a3", "a"}, {"b1", "b"}, {"c1", "c"}, {"c2", "c"}} {
		c.AddNode(node(n.name, n.zone))
	}
	s := NewEmptySnapshot()
	c.UpdateSnapshot(s)
	var got []string
	for _, ni := range s.List() {
		got = append(got, ni.Node().Name)
	}
	want := []string{"a1", "b1", "c1", "a2", "c2", "a3"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
}

func TestARemovedNodeLeavesTheSnapshotButItsPodsStayCounted(t *testing.T) {
	c := New()
	n := node("n1", "a")
	c.AddNode(n)
	c.AddPod(pod("p", "n1", "1"))
	c.RemoveNode(n)
	s := NewEmptySnapshot()
	c.UpdateSnapshot(s)
	if s.NumNodes() != 0 {
		t.Fatalf("snapshot has %d nodes after removal", s.NumNodes())
	}
	if c.PodCount() != 1 {
		t.Fatal("the pod of a removed node was dropped before it went")
	}
	c.AddNode(n)
	c.UpdateSnapshot(s)
	ni, err := s.Get("n1")
	if err != nil || len(ni.Pods) != 1 {
		t.Fatalf("node back without its pod: %v", err)
	}
}
