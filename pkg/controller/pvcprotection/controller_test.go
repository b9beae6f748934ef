package pvcprotection

import (
	"context"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"
)

func claim(name string, deleting bool, finalizers ...string) *corev1.PersistentVolumeClaim {
	c := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Finalizers: finalizers}}
	if deleting {
		now := metav1.Now()
		c.DeletionTimestamp = &now
	}
	return c
}

func pod(name, node string, volumes ...corev1.Volume) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name)},
		Spec: corev1.PodSpec{NodeName: node, Volumes: volumes}}
}

func claimVolume(claimName string) corev1.Volume {
	return corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claimName}}}
}

func ephemeralVolume() corev1.Volume {
	return corev1.Volume{Name: "scratch", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{VolumeClaimTemplate: &corev1.PersistentVolumeClaimTemplate{}}}}
}

func ownedBy(c *corev1.PersistentVolumeClaim, p *corev1.Pod) *corev1.PersistentVolumeClaim {
	c.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: p.Name, UID: p.UID, Controller: ptr.To(true)}}
	return c
}

func TestPodUsesClaim(t *testing.T) {
	web := pod("web", "n1", ephemeralVolume())
	shutDownWeb := pod("web", "n1", ephemeralVolume())
	shutDownWeb.DeletionTimestamp = &metav1.Time{}
	shutDownWeb.DeletionGracePeriodSeconds = ptr.To[int64](0)
	cases := []struct {
		name  string
		pod   *corev1.Pod
		claim *corev1.PersistentVolumeClaim
		want  bool
	}{
		{"a scheduled pod naming the claim uses it", pod("a", "n1", claimVolume("data")), claim("data", true), true},
		{"a pod not yet scheduled does not", pod("a", "", claimVolume("data")), claim("data", true), false},
		{"a pod naming another claim does not", pod("a", "n1", claimVolume("other")), claim("data", true), false},
		{"a pod uses the claim made for its ephemeral volume", web, ownedBy(claim("web-scratch", true), web), true},
		{"a claim of the ephemeral name the pod does not own is not its", web, claim("web-scratch", true), false},
		{"a shut-down pod lets its ephemeral claim go", shutDownWeb, ownedBy(claim("web-scratch", true), shutDownWeb), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := PodUsesClaim(c.pod, c.claim); got != c.want {
				t.Errorf("PodUsesClaim = %v, want %v", got, c.want)
			}
		})
	}
}

func newController(t *testing.T, cached []runtime.Object, live ...runtime.Object) (*Controller, *fake.Clientset) {
	t.Helper()
	client := fake.NewClientset(append(slices.Clone(cached), live...)...)
	factory := informers.NewSharedInformerFactory(client, 0)
	c, err := New(Config{Client: client, Claims: factory.Core().V1().PersistentVolumeClaims(), Pods: factory.Core().V1().Pods(), Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range cached {
		switch o.(type) {
		case *corev1.Pod:
			_ = factory.Core().V1().Pods().Informer().GetIndexer().Add(o)
		case *corev1.PersistentVolumeClaim:
			_ = factory.Core().V1().PersistentVolumeClaims().Informer().GetIndexer().Add(o)
		}
	}
	return c, client
}

func finalizers(t *testing.T, client *fake.Clientset, name string) []string {
	t.Helper()
	c, err := client.CoreV1().PersistentVolumeClaims("ns").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return c.Finalizers
}

func TestANewClaimGetsTheFinalizer(t *testing.T) {
	c, client := newController(t, []runtime.Object{claim("data", false)})
	if err := c.Sync(context.Background(), "ns/data"); err != nil {
		t.Fatal(err)
	}
	if got := finalizers(t, client, "data"); !slices.Equal(got, []string{Finalizer}) {
		t.Errorf("finalizers = %v", got)
	}
}

func TestADeletedClaimNoPodUsesLosesOnlyTheFinalizer(t *testing.T) {
	c, client := newController(t, []runtime.Object{claim("data", true, "example.com/keep", Finalizer), pod("done", "", claimVolume("data"))})
	if err := c.Sync(context.Background(), "ns/data"); err != nil {
		t.Fatal(err)
	}
	if got := finalizers(t, client, "data"); !slices.Equal(got, []string{"example.com/keep"}) {
		t.Errorf("finalizers = %v", got)
	}
}

func TestADeletedClaimAScheduledPodUsesKeepsTheFinalizer(t *testing.T) {
	c, client := newController(t, []runtime.Object{claim("data", true, Finalizer), pod("db", "n1", claimVolume("data"))})
	if err := c.Sync(context.Background(), "ns/data"); err != nil {
		t.Fatal(err)
	}
	for _, a := range client.Actions() {
		if a.GetVerb() == "update" || a.GetVerb() == "list" {
			t.Errorf("unexpected %s: the cache already knew a user", a.GetVerb())
		}
	}
}

func TestAUserTheCacheHasNotSeenYetIsFoundByTheLiveList(t *testing.T) {
	c, client := newController(t, []runtime.Object{claim("data", true, Finalizer)}, pod("new", "n1", claimVolume("data")))
	if err := c.Sync(context.Background(), "ns/data"); err != nil {
		t.Fatal(err)
	}
	if got := finalizers(t, client, "data"); !slices.Equal(got, []string{Finalizer}) {
		t.Errorf("finalizers = %v, the finalizer must stay", got)
	}
}
