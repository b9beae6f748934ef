package servicelb

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
)

func node(name string, ready bool, labels map[string]string, ips ...string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: st}}
	for _, ip := range ips {
		n.Status.Addresses = append(n.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: ip})
	}
	n.Status.Addresses = append(n.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeHostName, Address: name})
	return n
}

func lbService(class *string, families ...corev1.IPFamily) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", ResourceVersion: "1"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, LoadBalancerClass: class, IPFamilies: families,
			Ports: []corev1.ServicePort{{Port: 80, NodePort: 30080}}}}
}

func ips(in []corev1.LoadBalancerIngress) []string {
	var out []string
	for _, i := range in {
		out = append(out, i.IP)
	}
	return out
}

func TestIngressListsTheInternalIPsOfEligibleNodes(t *testing.T) {
	cases := []struct {
		name  string
		svc   *corev1.Service
		nodes []*corev1.Node
		want  []string
	}{
		{"every ready node's InternalIP, sorted", lbService(nil, corev1.IPv4Protocol),
			[]*corev1.Node{node("b", true, nil, "10.0.0.2"), node("a", true, nil, "10.0.0.1")}, []string{"10.0.0.1", "10.0.0.2"}},
		{"a node that is not ready is left out", lbService(nil, corev1.IPv4Protocol),
			[]*corev1.Node{node("a", true, nil, "10.0.0.1"), node("b", false, nil, "10.0.0.2")}, []string{"10.0.0.1"}},
		{"the exclude-from-external-load-balancers label keeps a node out", lbService(nil, corev1.IPv4Protocol),
			[]*corev1.Node{node("a", true, map[string]string{LabelExcludeFromLB: ""}, "10.0.0.1"), node("b", true, nil, "10.0.0.2")},
			[]string{"10.0.0.2"}},
		{"when some node has enablelb=true only those are used", lbService(nil, corev1.IPv4Protocol),
			[]*corev1.Node{node("a", true, map[string]string{LabelEnableLB: "true"}, "10.0.0.1"), node("b", true, nil, "10.0.0.2")},
			[]string{"10.0.0.1"}},
		{"an IPv4-only Service gets no IPv6 address", lbService(nil, corev1.IPv4Protocol),
			[]*corev1.Node{node("a", true, nil, "10.0.0.1", "fd00::1")}, []string{"10.0.0.1"}},
		{"a dual-stack Service gets both", lbService(nil, corev1.IPv4Protocol, corev1.IPv6Protocol),
			[]*corev1.Node{node("a", true, nil, "fd00::1", "10.0.0.1")}, []string{"10.0.0.1", "fd00::1"}},
		{"no eligible node: no ingress", lbService(nil, corev1.IPv4Protocol),
			[]*corev1.Node{node("a", false, nil, "10.0.0.1")}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ips(ingressFor(c.svc, c.nodes))
			if len(got) != len(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("got %v, want %v", got, c.want)
				}
			}
		})
	}
}

func TestDesiredStatusLeavesOtherImplementationsAlone(t *testing.T) {
	nodes := []*corev1.Node{node("a", true, nil, "10.0.0.1")}
	withIngress := func(s *corev1.Service) *corev1.Service {
		s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.7"}}
		return s
	}
	clusterIP := lbService(nil)
	clusterIP.Spec.Type = corev1.ServiceTypeClusterIP
	cases := []struct {
		name        string
		svc         *corev1.Service
		wantChange  bool
		wantIngress []string
	}{
		{"a LoadBalancer Service without a class is ours", lbService(nil), true, []string{"10.0.0.1"}},
		{"a loadBalancerClass names another implementation", withIngress(lbService(ptr.To("example.com/lb"))), false, []string{"192.0.2.7"}},
		{"a Service that stopped being a LoadBalancer loses its ingress", withIngress(clusterIP), true, nil},
		{"an up-to-date status is not written again", func() *corev1.Service {
			s := lbService(nil)
			s.Status.LoadBalancer.Ingress = ingressFor(s, nodes)
			return s
		}(), false, []string{"10.0.0.1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, changed := desiredStatus(c.svc, nodes)
			if changed != c.wantChange {
				t.Fatalf("changed = %v, want %v", changed, c.wantChange)
			}
			if g := ips(got.Ingress); len(g) != len(c.wantIngress) || (len(g) > 0 && g[0] != c.wantIngress[0]) {
				t.Errorf("ingress %v, want %v", g, c.wantIngress)
			}
		})
	}
}

func TestSyncWritesTheStatusOnce(t *testing.T) {
	svc := lbService(nil, corev1.IPv4Protocol)
	n := node("a", true, nil, "10.0.0.1")
	client := fake.NewClientset(svc, n)
	f := informers.NewSharedInformerFactory(client, 0)
	c, err := New(Config{Client: client, Services: f.Core().V1().Services(), Nodes: f.Core().V1().Nodes(), Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Core().V1().Services().Informer().GetIndexer().Add(svc); err != nil {
		t.Fatal(err)
	}
	if err := f.Core().V1().Nodes().Informer().GetIndexer().Add(n); err != nil {
		t.Fatal(err)
	}
	client.ClearActions()
	if err := c.Sync(context.Background(), "default/web"); err != nil {
		t.Fatal(err)
	}
	var updates []clienttesting.UpdateAction
	for _, a := range client.Actions() {
		if u, ok := a.(clienttesting.UpdateAction); ok && a.GetSubresource() == "status" {
			updates = append(updates, u)
		}
	}
	if len(updates) != 1 {
		t.Fatalf("want one status update, got actions %v", client.Actions())
	}
	got := updates[0].GetObject().(*corev1.Service)
	if g := ips(got.Status.LoadBalancer.Ingress); len(g) != 1 || g[0] != "10.0.0.1" ||
		*got.Status.LoadBalancer.Ingress[0].IPMode != corev1.LoadBalancerIPModeVIP {
		t.Fatalf("status written: %+v", got.Status.LoadBalancer)
	}
}
