package rootca

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
)

const ca = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n"

func TestReconcile(t *testing.T) {
	good := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: ConfigMapName, Annotations: map[string]string{descriptionAnnotation: "mine"}},
		Data: map[string]string{"ca.crt": ca}}
	cases := []struct {
		name     string
		have     *corev1.ConfigMap
		want     change
		wantNote string
	}{
		{"a namespace without the config map gets one", nil, create, description},
		{"a correct config map with the user's own description is left alone", good, none, "mine"},
		{"a stale CA is replaced", &corev1.ConfigMap{ObjectMeta: good.ObjectMeta, Data: map[string]string{"ca.crt": "old"}}, update, "mine"},
		{"extra keys are removed", &corev1.ConfigMap{ObjectMeta: good.ObjectMeta, Data: map[string]string{"ca.crt": ca, "x": "y"}}, update, "mine"},
		{"a missing description is added", &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: ConfigMapName}, Data: map[string]string{"ca.crt": ca}}, update, description},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ch := reconcile(c.have, []byte(ca))
			if ch != c.want {
				t.Fatalf("change = %v, want %v", ch, c.want)
			}
			if len(got.Data) != 1 || got.Data["ca.crt"] != ca || got.Annotations[descriptionAnnotation] != c.wantNote {
				t.Errorf("got %+v", got)
			}
		})
	}
}

func newController(t *testing.T, objs ...runtime.Object) (*Controller, *fake.Clientset) {
	t.Helper()
	client := fake.NewSimpleClientset(objs...)
	f := informers.NewSharedInformerFactory(client, 0)
	cms := NewConfigMapInformer(client, 0, nil)
	c, err := New(Config{Client: client, CAPEM: []byte(ca), Namespaces: f.Core().V1().Namespaces(), ConfigMaps: cms, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		switch o := o.(type) {
		case *corev1.Namespace:
			_ = f.Core().V1().Namespaces().Informer().GetIndexer().Add(o)
		case *corev1.ConfigMap:
			_ = cms.GetIndexer().Add(o)
		}
	}
	client.ClearActions()
	return c, client
}

func TestSyncCreatesTheConfigMapInActiveNamespacesOnly(t *testing.T) {
	active := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a"}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}}
	going := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "b"}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating}}
	c, client := newController(t, active, going)
	for _, ns := range []string{"a", "b", "missing"} {
		if err := c.sync(context.Background(), ns); err != nil {
			t.Fatalf("sync %s: %v", ns, err)
		}
	}
	actions := client.Actions()
	if len(actions) != 1 || !actions[0].Matches("create", "configmaps") || actions[0].GetNamespace() != "a" {
		t.Fatalf("actions: %v", actions)
	}
	cm := actions[0].(clienttesting.CreateAction).GetObject().(*corev1.ConfigMap)
	if cm.Name != ConfigMapName || cm.Data["ca.crt"] != ca {
		t.Errorf("created %+v", cm)
	}
}

func TestSyncRepairsAnEditedConfigMap(t *testing.T) {
	active := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a"}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}}
	edited := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: ConfigMapName, Namespace: "a"}, Data: map[string]string{"ca.crt": "forged"}}
	c, client := newController(t, active, edited)
	if err := c.sync(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	actions := client.Actions()
	if len(actions) != 1 || !actions[0].Matches("update", "configmaps") {
		t.Fatalf("actions: %v", actions)
	}
	if got := actions[0].(clienttesting.UpdateAction).GetObject().(*corev1.ConfigMap).Data["ca.crt"]; got != ca {
		t.Errorf("ca.crt = %q", got)
	}
}
