package endpointslicemirroring

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/events"
)

func endpointsObj(subsets ...corev1.EndpointSubset) *corev1.Endpoints {
	return &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "ns", UID: "ep-uid", Labels: map[string]string{"team": "data"},
		Annotations: map[string]string{"note": "external", corev1.EndpointsLastChangeTriggerTime: "x"}}, Subsets: subsets}
}

func addrs(ips ...string) []corev1.EndpointAddress {
	var out []corev1.EndpointAddress
	for _, ip := range ips {
		out = append(out, corev1.EndpointAddress{IP: ip})
	}
	return out
}

var pgPort = []corev1.EndpointPort{{Name: "pg", Port: 5432, Protocol: corev1.ProtocolTCP}}

// applied turns a plan into the slices the API would hold.
func applied(existing []*discoveryv1.EndpointSlice, p Plan) []*discoveryv1.EndpointSlice {
	by := map[string]*discoveryv1.EndpointSlice{}
	for _, s := range existing {
		by[s.Name] = s
	}
	for _, s := range p.Delete {
		delete(by, s.Name)
	}
	for _, s := range p.Update {
		by[s.Name] = s
	}
	for i, s := range p.Create {
		c := s.DeepCopy()
		c.Name = fmt.Sprintf("%s%d", c.GenerateName, i+len(existing))
		c.UID = types.UID(c.Name)
		by[c.Name] = c
	}
	var out []*discoveryv1.EndpointSlice
	for _, s := range by {
		out = append(out, s)
	}
	return out
}

func TestMirroring(t *testing.T) {
	ready := corev1.EndpointSubset{Addresses: addrs("192.0.2.10", "192.0.2.11"), NotReadyAddresses: addrs("192.0.2.12"), Ports: pgPort}
	cases := []struct {
		name  string
		ep    *corev1.Endpoints
		check func(t *testing.T, p Plan)
	}{
		{"a hand-written Endpoints gets one mirrored slice with its labels, annotations and readiness",
			endpointsObj(ready), func(t *testing.T, p Plan) {
				if len(p.Create) != 1 || p.Changes() != 1 {
					t.Fatalf("plan %+v", p)
				}
				s := p.Create[0]
				if s.Labels[discoveryv1.LabelManagedBy] != ManagedBy || s.Labels[discoveryv1.LabelServiceName] != "db" || s.Labels["team"] != "data" {
					t.Errorf("labels %v", s.Labels)
				}
				if s.Annotations["note"] != "external" || s.Annotations[corev1.EndpointsLastChangeTriggerTime] != "" {
					t.Errorf("annotations %v", s.Annotations)
				}
				if s.GenerateName != "db-" || s.OwnerReferences[0].Kind != "Endpoints" || s.OwnerReferences[0].UID != "ep-uid" {
					t.Errorf("meta %+v", s.ObjectMeta)
				}
				readyCount := 0
				for _, e := range s.Endpoints {
					if *e.Conditions.Ready {
						readyCount++
					}
				}
				if len(s.Endpoints) != 3 || readyCount != 2 || *s.Ports[0].Port != 5432 {
					t.Errorf("slice %+v", s)
				}
			}},
		{"IPv4 and IPv6 addresses go to slices of their own type",
			endpointsObj(corev1.EndpointSubset{Addresses: addrs("192.0.2.10", "2001:db8::1"), Ports: pgPort}), func(t *testing.T, p Plan) {
				types := map[discoveryv1.AddressType]int{}
				for _, s := range p.Create {
					types[s.AddressType] = len(s.Endpoints)
				}
				if types[discoveryv1.AddressTypeIPv4] != 1 || types[discoveryv1.AddressTypeIPv6] != 1 {
					t.Errorf("types %v", types)
				}
			}},
		{"an address that is not an IP is skipped and counted",
			endpointsObj(corev1.EndpointSubset{Addresses: addrs("192.0.2.10", "db.example.com"), Ports: pgPort}), func(t *testing.T, p Plan) {
				if p.InvalidAddresses != 1 || p.Skipped != 1 || len(p.Create[0].Endpoints) != 1 {
					t.Errorf("plan %+v", p)
				}
			}},
		{"subsets with different ports get different slices",
			endpointsObj(ready, corev1.EndpointSubset{Addresses: addrs("192.0.2.20"), Ports: []corev1.EndpointPort{{Name: "pg", Port: 6432, Protocol: corev1.ProtocolTCP}}}),
			func(t *testing.T, p Plan) {
				if len(p.Create) != 2 {
					t.Errorf("created %d", len(p.Create))
				}
			}},
		{"an Endpoints without addresses gets no slice",
			endpointsObj(), func(t *testing.T, p Plan) {
				if p.Changes() != 0 {
					t.Errorf("plan %+v", p)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.check(t, Reconcile(Input{Endpoints: c.ep, MaxPerSubset: 1000}))
		})
	}
}

func TestMirroringUpdatesInPlaceAndCaps(t *testing.T) {
	ep := endpointsObj(corev1.EndpointSubset{Addresses: addrs("192.0.2.10"), Ports: pgPort})
	first := applied(nil, Reconcile(Input{Endpoints: ep, MaxPerSubset: 1000}))
	if p := Reconcile(Input{Endpoints: ep, Existing: first, MaxPerSubset: 1000}); p.Changes() != 0 {
		t.Errorf("unchanged Endpoints rewritten: %+v", p)
	}
	moved := endpointsObj(corev1.EndpointSubset{Addresses: addrs("192.0.2.99"), Ports: pgPort})
	p := Reconcile(Input{Endpoints: moved, Existing: first, MaxPerSubset: 1000})
	if len(p.Update) != 1 || p.Update[0].Name != first[0].Name || p.Update[0].Endpoints[0].Addresses[0] != "192.0.2.99" {
		t.Errorf("plan %+v", p)
	}
	relabelled := ep.DeepCopy()
	relabelled.Labels["team"] = "ops"
	if p := Reconcile(Input{Endpoints: relabelled, Existing: first, MaxPerSubset: 1000}); len(p.Update) != 1 || p.Update[0].Labels["team"] != "ops" {
		t.Errorf("labels not mirrored: %+v", p)
	}
	newPort := endpointsObj(corev1.EndpointSubset{Addresses: addrs("192.0.2.10"), Ports: []corev1.EndpointPort{{Name: "pg", Port: 6432, Protocol: corev1.ProtocolTCP}}})
	if p := Reconcile(Input{Endpoints: newPort, Existing: first, MaxPerSubset: 1000}); len(p.Update) != 1 || len(p.Create)+len(p.Delete) != 0 {
		t.Errorf("a port change should rewrite the slice: %+v", p)
	}
	var many []string
	for i := 0; i < 5; i++ {
		many = append(many, fmt.Sprintf("192.0.2.%d", 100+i))
	}
	capped := Reconcile(Input{Endpoints: endpointsObj(corev1.EndpointSubset{Addresses: addrs(many...), Ports: pgPort}), MaxPerSubset: 3})
	if len(capped.Create[0].Endpoints) != 3 || capped.Skipped != 2 {
		t.Errorf("cap: %d endpoints, %d skipped", len(capped.Create[0].Endpoints), capped.Skipped)
	}
}

func newController(t *testing.T, objs ...runtime.Object) (*Controller, *fake.Clientset, *events.FakeRecorder) {
	t.Helper()
	client := fake.NewSimpleClientset(objs...)
	f := informers.NewSharedInformerFactory(client, 0)
	rec := events.NewFakeRecorder(10)
	c, err := New(Config{Client: client, Endpoints: f.Core().V1().Endpoints(), EndpointSlices: f.Discovery().V1().EndpointSlices(),
		Services: f.Core().V1().Services(), Recorder: rec, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		switch o := o.(type) {
		case *corev1.Service:
			_ = f.Core().V1().Services().Informer().GetIndexer().Add(o)
		case *corev1.Endpoints:
			_ = f.Core().V1().Endpoints().Informer().GetIndexer().Add(o)
		case *discoveryv1.EndpointSlice:
			_ = f.Discovery().V1().EndpointSlices().Informer().GetIndexer().Add(o)
		}
	}
	client.ClearActions()
	return c, client, rec
}

func TestSyncMirrorsOnlySelectorlessServicesNotSkipped(t *testing.T) {
	selectorless := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "ns"}}
	withSelector := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"}, Spec: corev1.ServiceSpec{Selector: map[string]string{"a": "b"}}}
	kubernetes := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: "ns"}}
	sub := corev1.EndpointSubset{Addresses: addrs("192.0.2.10"), Ports: pgPort}
	dbEp := endpointsObj(sub)
	webEp := endpointsObj(sub)
	webEp.Name = "web"
	skipped := endpointsObj(sub)
	skipped.Name, skipped.Labels = "kubernetes", map[string]string{discoveryv1.LabelSkipMirror: "true"}
	c, client, _ := newController(t, selectorless, withSelector, kubernetes, dbEp, webEp, skipped)
	for _, k := range []string{"ns/db", "ns/web", "ns/kubernetes"} {
		if err := c.Sync(context.Background(), k); err != nil {
			t.Fatal(err)
		}
	}
	a := client.Actions()
	// Listing nothing to delete for web and kubernetes writes nothing; db is mirrored.
	creates := 0
	for _, act := range a {
		if act.Matches("create", "endpointslices") {
			creates++
		} else if act.GetVerb() != "list" && act.GetVerb() != "watch" {
			t.Errorf("unexpected %v", act)
		}
	}
	if creates != 1 {
		t.Errorf("actions %v", a)
	}
}

func TestSyncRemovesMirroredSlicesWhenTheServiceGetsASelector(t *testing.T) {
	withSelector := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "ns"}, Spec: corev1.ServiceSpec{Selector: map[string]string{"a": "b"}}}
	old := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "db-abc", Namespace: "ns",
		Labels: map[string]string{discoveryv1.LabelServiceName: "db", discoveryv1.LabelManagedBy: ManagedBy}}}
	c, client, _ := newController(t, withSelector, endpointsObj(), old)
	if err := c.Sync(context.Background(), "ns/db"); err != nil {
		t.Fatal(err)
	}
	a := client.Actions()
	if len(a) != 1 || !a[0].Matches("delete", "endpointslices") {
		t.Errorf("actions %v", a)
	}
}

func TestSyncWarnsAboutInvalidAddresses(t *testing.T) {
	selectorless := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "ns"}}
	c, _, rec := newController(t, selectorless, endpointsObj(corev1.EndpointSubset{Addresses: addrs("nope"), Ports: pgPort}))
	if err := c.Sync(context.Background(), "ns/db"); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-rec.Events:
		if e != "Warning InvalidIPAddress Skipped 1 invalid IP addresses when mirroring to EndpointSlices" {
			t.Errorf("event %q", e)
		}
	default:
		t.Error("no event")
	}
}
