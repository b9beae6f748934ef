package namespacelifecycle

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/admission"
	"github.com/minik8s/minik8s/pkg/admission/admissiontest"
)

func ns(name string, phase corev1.NamespacePhase) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NamespaceStatus{Phase: phase}}
}

func TestAdmit(t *testing.T) {
	objects := admissiontest.New().Add("namespaces", ns("app", corev1.NamespaceActive), ns("leaving", corev1.NamespaceTerminating))
	cm := func(op admission.Operation, namespace string) admission.Attributes {
		return admission.Attributes{Operation: op, Resource: schema.GroupVersionResource{Version: "v1", Resource: "configmaps"},
			Namespaced: true, Namespace: namespace, Name: "settings",
			Object: &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: namespace}}}
	}
	namespaces := func(op admission.Operation, name string) admission.Attributes {
		return admission.Attributes{Operation: op, Resource: schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}, Name: name}
	}
	cases := []struct {
		name string
		a    admission.Attributes
		want string
	}{
		{"content is created in an active namespace", cm(admission.Create, "app"), ""},
		{"nothing is created in a namespace that does not exist", cm(admission.Create, "nowhere"), `namespaces "nowhere" not found`},
		{"nothing is created in a terminating namespace",
			cm(admission.Create, "leaving"), `configmaps "settings" is forbidden: unable to create new content in namespace leaving because it is being terminated`},
		{"content of a terminating namespace may still change", cm(admission.Update, "leaving"), ""},
		{"content of a namespace that does not exist cannot be updated", cm(admission.Update, "nowhere"), `namespaces "nowhere" not found`},
		{"content is always deleted", cm(admission.Delete, "nowhere"), ""},
		{"kube-system may not be deleted", namespaces(admission.Delete, "kube-system"), `namespaces "kube-system" is forbidden: this namespace may not be deleted`},
		{"default may not be deleted", namespaces(admission.Delete, "default"), `namespaces "default" is forbidden: this namespace may not be deleted`},
		{"other namespaces may be deleted", namespaces(admission.Delete, "app"), ""},
		{"access reviews are answered in any namespace", admission.Attributes{Operation: admission.Create, Namespaced: true, Namespace: "nowhere",
			Resource: schema.GroupVersionResource{Group: "authorization.k8s.io", Version: "v1", Resource: "localsubjectaccessreviews"}}, ""},
	}
	p := New(objects, ImmortalNamespaces)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ""
			if err := p.Admit(context.Background(), &c.a); err != nil {
				got = err.Error()
			}
			if got != c.want {
				t.Errorf("got %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestTheTerminatingRefusalCarriesUpstreamsCause(t *testing.T) {
	objects := admissiontest.New().Add("namespaces", ns("leaving", corev1.NamespaceTerminating))
	a := &admission.Attributes{Operation: admission.Create, Resource: schema.GroupVersionResource{Version: "v1", Resource: "pods"},
		Namespaced: true, Namespace: "leaving", Object: &corev1.Pod{ObjectMeta: metav1.ObjectMeta{GenerateName: "web-"}}}
	err := New(objects, nil).Admit(context.Background(), a)
	if !apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
		t.Fatalf("err %v lacks the %s cause", err, corev1.NamespaceTerminatingCause)
	}
	if want := `pods "web-" is forbidden: unable to create new content in namespace leaving because it is being terminated`; err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
}

// latestOnly answers Get from a stale view and Latest from the real one.
type latestOnly struct {
	*admissiontest.Objects
	stale *admissiontest.Objects
}

func (l latestOnly) Get(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string) (runtime.Object, error) {
	return l.stale.Get(ctx, gvr, namespace, name)
}

func TestAfterANamespaceIsDeletedItIsReadPastTheCache(t *testing.T) {
	stale := admissiontest.New().Add("namespaces", ns("app", corev1.NamespaceActive))
	fresh := admissiontest.New().Add("namespaces", ns("app", corev1.NamespaceTerminating))
	p := New(latestOnly{Objects: fresh, stale: stale}, nil)
	now := time.Now()
	p.now = func() time.Time { return now }
	create := &admission.Attributes{Operation: admission.Create, Resource: schema.GroupVersionResource{Version: "v1", Resource: "pods"},
		Namespaced: true, Namespace: "app", Name: "web"}
	if err := p.Admit(context.Background(), create); err != nil {
		t.Fatalf("before the deletion the cached view decides: %v", err)
	}
	del := &admission.Attributes{Operation: admission.Delete, Resource: schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}, Name: "app"}
	if err := p.Admit(context.Background(), del); err != nil {
		t.Fatal(err)
	}
	if err := p.Admit(context.Background(), create); !apierrors.IsForbidden(err) {
		t.Fatalf("after the deletion the latest state should refuse the create, got %v", err)
	}
	now = now.Add(liveLookupTTL + time.Second)
	if err := p.Admit(context.Background(), create); err != nil {
		t.Fatalf("once the deletion is old news the cache decides again: %v", err)
	}
}
