package serviceaccount

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
)

func newController(t *testing.T, objs ...runtime.Object) (*Controller, *fake.Clientset) {
	t.Helper()
	client := fake.NewSimpleClientset(objs...)
	f := informers.NewSharedInformerFactory(client, 0)
	c, err := New(Config{Client: client, Namespaces: f.Core().V1().Namespaces(), ServiceAccounts: f.Core().V1().ServiceAccounts(), Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		switch o := o.(type) {
		case *corev1.Namespace:
			_ = f.Core().V1().Namespaces().Informer().GetIndexer().Add(o)
		case *corev1.ServiceAccount:
			_ = f.Core().V1().ServiceAccounts().Informer().GetIndexer().Add(o)
		}
	}
	client.ClearActions()
	return c, client
}

func TestNeedsAccount(t *testing.T) {
	now := metav1.NewTime(time.Now())
	cases := []struct {
		name string
		ns   corev1.Namespace
		want bool
	}{
		{"an active namespace needs one", corev1.Namespace{Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}}, true},
		{"a terminating namespace does not", corev1.Namespace{Status: corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating}}, false},
		{"a namespace marked for deletion does not, whatever its phase says", corev1.Namespace{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &now}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}}, false},
	}
	for _, c := range cases {
		if got := needsAccount(&c.ns); got != c.want {
			t.Errorf("%s: got %v", c.name, got)
		}
	}
}

func TestSyncCreatesTheDefaultAccountOnce(t *testing.T) {
	a := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a"}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}}
	b := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "b"}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}}
	has := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: DefaultName, Namespace: "b"}}
	c, client := newController(t, a, b, has)
	for _, ns := range []string{"a", "b"} {
		if err := c.sync(context.Background(), ns); err != nil {
			t.Fatal(err)
		}
	}
	actions := client.Actions()
	if len(actions) != 1 || !actions[0].Matches("create", "serviceaccounts") || actions[0].GetNamespace() != "a" {
		t.Fatalf("actions: %v", actions)
	}
}
