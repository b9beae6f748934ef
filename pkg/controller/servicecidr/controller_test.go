package servicecidr

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/minik8s/minik8s/pkg/controller/worker"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func cidr(name string, deleted *time.Time, cidrs ...string) *networkingv1.ServiceCIDR {
	sc := &networkingv1.ServiceCIDR{ObjectMeta: metav1.ObjectMeta{Name: name, Finalizers: []string{Finalizer}}, Spec: networkingv1.ServiceCIDRSpec{CIDRs: cidrs}}
	if deleted != nil {
		ts := metav1.NewTime(*deleted)
		sc.DeletionTimestamp = &ts
	}
	return sc
}

func TestOrphans(t *testing.T) {
	addr := func(s string) []netip.Addr { return []netip.Addr{netip.MustParseAddr(s)} }
	extra := cidr("extra", &t0, "10.100.0.0/24")
	cases := []struct {
		name  string
		all   []*networkingv1.ServiceCIDR
		addrs []netip.Addr
		want  bool
	}{
		{"an address only this range holds is orphaned", []*networkingv1.ServiceCIDR{extra}, addr("10.100.0.7"), true},
		{"no address inside orphans nothing", []*networkingv1.ServiceCIDR{extra}, addr("10.96.0.1"), false},
		{"a range inside a larger one orphans nothing", []*networkingv1.ServiceCIDR{extra, cidr("big", nil, "10.100.0.0/16")}, addr("10.100.0.7"), false},
		{"an address another range also holds is not orphaned", []*networkingv1.ServiceCIDR{extra, cidr("half", nil, "10.100.0.0/25")}, addr("10.100.0.7"), false},
		{"an address only this range holds, beside another, is", []*networkingv1.ServiceCIDR{extra, cidr("half", nil, "10.100.0.0/25")}, addr("10.100.0.200"), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Orphans(extra, c.all, c.addrs); got != c.want {
				t.Errorf("Orphans = %v, want %v", got, c.want)
			}
		})
	}
}

func newController(t *testing.T, now time.Time, objs ...runtime.Object) (*Controller, *fake.Clientset) {
	t.Helper()
	client := fake.NewClientset(objs...)
	f := informers.NewSharedInformerFactory(client, 0)
	c, err := New(Config{Client: client, ServiceCIDRs: f.Networking().V1().ServiceCIDRs(), IPAddresses: f.Networking().V1().IPAddresses(),
		Services: f.Core().V1().Services(), Workers: 1, Clock: clocktesting.NewFakePassiveClock(now)})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		switch o.(type) {
		case *networkingv1.ServiceCIDR:
			_ = f.Networking().V1().ServiceCIDRs().Informer().GetIndexer().Add(o)
		case *corev1.Service:
			_ = f.Core().V1().Services().Informer().GetIndexer().Add(o)
		}
	}
	return c, client
}

func get(t *testing.T, client *fake.Clientset, name string) *networkingv1.ServiceCIDR {
	t.Helper()
	sc, err := client.NetworkingV1().ServiceCIDRs().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func TestANewServiceCIDRGetsTheFinalizerAndIsReady(t *testing.T) {
	sc := cidr("extra", nil, "10.100.0.0/24")
	sc.Finalizers = nil
	c, client := newController(t, t0, sc)
	if err := c.Sync(context.Background(), "extra"); err != nil {
		t.Fatal(err)
	}
	got := get(t, client, "extra")
	ready := meta.FindStatusCondition(got.Status.Conditions, networkingv1.ServiceCIDRConditionReady)
	if !slices.Contains(got.Finalizers, Finalizer) || ready == nil || ready.Status != metav1.ConditionTrue || ready.Message != "Kubernetes Service CIDR is ready" {
		t.Errorf("finalizers %v conditions %+v", got.Finalizers, got.Status.Conditions)
	}
}

func TestADeletedServiceCIDRAServiceStillUsesStaysTerminating(t *testing.T) {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"}, Spec: corev1.ServiceSpec{ClusterIPs: []string{"10.100.0.7"}}}
	c, client := newController(t, t0.Add(time.Minute), cidr("extra", &t0, "10.100.0.0/24"), svc)
	if err := c.Sync(context.Background(), "extra"); err != nil {
		t.Fatal(err)
	}
	got := get(t, client, "extra")
	ready := meta.FindStatusCondition(got.Status.Conditions, networkingv1.ServiceCIDRConditionReady)
	if !slices.Contains(got.Finalizers, Finalizer) || ready == nil || ready.Status != metav1.ConditionFalse || ready.Reason != networkingv1.ServiceCIDRReasonTerminating {
		t.Errorf("finalizers %v conditions %+v", got.Finalizers, got.Status.Conditions)
	}
}

func TestAFreeDeletedServiceCIDRLosesItsFinalizerAfterTheGracePeriod(t *testing.T) {
	c, client := newController(t, t0.Add(3*time.Second), cidr("extra", &t0, "10.100.0.0/24"))
	err := c.Sync(context.Background(), "extra")
	if d, ok := worker.RequeueDelay(err); !ok || d != 7*time.Second {
		t.Fatalf("sync = %v, want a requeue after 7s", err)
	}
	c, client = newController(t, t0.Add(11*time.Second), cidr("extra", &t0, "10.100.0.0/24"))
	if err := c.Sync(context.Background(), "extra"); err != nil {
		t.Fatal(err)
	}
	if got := get(t, client, "extra"); slices.Contains(got.Finalizers, Finalizer) {
		t.Errorf("finalizers %v", got.Finalizers)
	}
}
