package sim

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestCreateIsIdempotentAndAddsOnlyWhatIsMissing(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset()
	m := Nodes{Client: client, Parallel: 4}
	steps := []struct {
		name             string
		count            int
		created, existed int
		total            int
	}{
		{"five nodes are created", 5, 5, 0, 5},
		{"asking for ten when five exist adds five", 10, 5, 5, 10},
		{"asking for ten again adds nothing", 10, 0, 10, 10},
		{"asking for fewer removes nothing", 3, 0, 3, 10},
	}
	for _, s := range steps {
		res, err := m.Create(ctx, template(), s.count)
		if err != nil || res.Created != s.created || res.Existed != s.existed {
			t.Fatalf("%s: got %+v, %v", s.name, res, err)
		}
		nodes, _ := m.Simulated(ctx)
		if len(nodes) != s.total {
			t.Fatalf("%s: %d nodes", s.name, len(nodes))
		}
	}
	nodes, _ := m.Simulated(ctx)
	cidrs := map[string]bool{}
	for i, n := range nodes {
		if want := template().Name(i); n.Name != want {
			t.Errorf("node %d is %s, want %s (sorted by number)", i, n.Name, want)
		}
		if cidrs[n.Spec.PodCIDR] {
			t.Errorf("pod range %s given twice", n.Spec.PodCIDR)
		}
		cidrs[n.Spec.PodCIDR] = true
	}
}

func TestCreateGivesAnotherGroupFreeRanges(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset()
	m := Nodes{Client: client}
	if _, err := m.Create(ctx, template(), 2); err != nil {
		t.Fatal(err)
	}
	gpu := template()
	gpu.Prefix = "gpu-"
	if _, err := m.Create(ctx, gpu, 2); err != nil {
		t.Fatal(err)
	}
	n, err := client.CoreV1().Nodes().Get(ctx, "gpu-0", metav1.GetOptions{})
	if err != nil || n.Spec.PodCIDR != "100.64.2.0/24" {
		t.Errorf("gpu-0 has %q (%v), want the first free range 100.64.2.0/24", n.Spec.PodCIDR, err)
	}
}

func TestCreateRefusesToAdoptARealNode(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "sim-1"}})
	_, err := Nodes{Client: client}.Create(ctx, template(), 3)
	if err == nil || !strings.Contains(err.Error(), `node "sim-1" exists and is not a simulated node`) {
		t.Fatalf("got %v", err)
	}
	if nodes, _ := (Nodes{Client: client}).Simulated(ctx); len(nodes) != 0 {
		t.Errorf("%d nodes created despite the error", len(nodes))
	}
}

func TestDeleteRemovesNodesLeasesAndTheirPods(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset(
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "real"}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "on-sim", Namespace: "ns"}, Spec: corev1.PodSpec{NodeName: "sim-0"}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "on-kept", Namespace: "ns"}, Spec: corev1.PodSpec{NodeName: "sim-2"}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "on-real", Namespace: "ns"}, Spec: corev1.PodSpec{NodeName: "real"}},
	)
	m := Nodes{Client: client}
	if _, err := m.Create(ctx, template(), 3); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"sim-0", "sim-2"} {
		node, _ := client.CoreV1().Nodes().Get(ctx, n, metav1.GetOptions{})
		if _, err := client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Create(ctx, newLease(node, DefaultLeaseDuration, node.CreationTimestamp.Time), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := m.Delete(ctx, func(n corev1.Node) bool { return n.Name != "sim-2" })
	if err != nil || res.Nodes != 2 || res.Pods != 1 {
		t.Fatalf("got %+v, %v", res, err)
	}
	nodes, _ := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	var names []string
	for _, n := range nodes.Items {
		names = append(names, n.Name)
	}
	if strings.Join(names, ",") != "real,sim-2" {
		t.Errorf("nodes left: %v", names)
	}
	leases, _ := client.CoordinationV1().Leases(corev1.NamespaceNodeLease).List(ctx, metav1.ListOptions{})
	if len(leases.Items) != 1 || leases.Items[0].Name != "sim-2" {
		t.Errorf("leases left: %v", leases.Items)
	}
	pods, _ := client.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if len(pods.Items) != 2 {
		t.Errorf("pods left: %v", pods.Items)
	}
}

func TestSetFailed(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "real"}})
	m := Nodes{Client: client}
	if _, err := m.Create(ctx, template(), 1); err != nil {
		t.Fatal(err)
	}
	if err := m.SetFailed(ctx, []string{"sim-0"}, true); err != nil {
		t.Fatal(err)
	}
	n, _ := client.CoreV1().Nodes().Get(ctx, "sim-0", metav1.GetOptions{})
	if !failed(n) {
		t.Errorf("sim-0 not failed: %v", n.Annotations)
	}
	if err := m.SetFailed(ctx, []string{"sim-0"}, false); err != nil {
		t.Fatal(err)
	}
	n, _ = client.CoreV1().Nodes().Get(ctx, "sim-0", metav1.GetOptions{})
	if failed(n) {
		t.Errorf("sim-0 still failed: %v", n.Annotations)
	}
	err := m.SetFailed(ctx, []string{"real", "nope"}, true)
	if err == nil || !strings.Contains(err.Error(), `node "real" is not a simulated node`) || !strings.Contains(err.Error(), `"nope" not found`) {
		t.Errorf("failing a real and a missing node: %v", err)
	}
}

func TestLessNameOrdersNumberedNamesByNumber(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"sim-2", "sim-10", true},
		{"sim-10", "sim-2", false},
		{"gpu-5", "sim-1", true},
		{"sim-x", "sim-1", false},
	}
	for _, c := range cases {
		if got := lessName(c.a, c.b); got != c.want {
			t.Errorf("lessName(%s, %s) = %v", c.a, c.b, got)
		}
	}
}
