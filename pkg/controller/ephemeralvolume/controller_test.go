package ephemeralvolume

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/events"
)

func podWithScratch() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "web-uid"},
		Spec: corev1.PodSpec{Volumes: []corev1.Volume{
			{Name: "cache", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
			{Name: "scratch", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{
				VolumeClaimTemplate: &corev1.PersistentVolumeClaimTemplate{
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"type": "scratch"}},
					Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
						Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}},
				}}}},
		}},
	}
}

func newController(t *testing.T, objs ...runtime.Object) (*Controller, *fake.Clientset, *events.FakeRecorder) {
	t.Helper()
	client := fake.NewClientset(objs...)
	factory := informers.NewSharedInformerFactory(client, 0)
	rec := events.NewFakeRecorder(10)
	c, err := New(Config{Client: client, Pods: factory.Core().V1().Pods(), Claims: factory.Core().V1().PersistentVolumeClaims(), Recorder: rec, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		switch o.(type) {
		case *corev1.Pod:
			_ = factory.Core().V1().Pods().Informer().GetIndexer().Add(o)
		case *corev1.PersistentVolumeClaim:
			_ = factory.Core().V1().PersistentVolumeClaims().Informer().GetIndexer().Add(o)
		}
	}
	return c, client, rec
}

func TestAPodWithAnEphemeralVolumeGetsAClaimItOwns(t *testing.T) {
	c, client, _ := newController(t, podWithScratch())
	if err := c.Sync(context.Background(), "ns/web"); err != nil {
		t.Fatal(err)
	}
	claim, err := client.CoreV1().PersistentVolumeClaims("ns").Get(context.Background(), "web-scratch", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ref := metav1.GetControllerOf(claim)
	if ref == nil || ref.Kind != "Pod" || ref.UID != "web-uid" || ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion {
		t.Errorf("owner = %+v", claim.OwnerReferences)
	}
	if claim.Labels["type"] != "scratch" || claim.Spec.Resources.Requests.Storage().String() != "1Gi" {
		t.Errorf("claim = %+v", claim)
	}
	if a := client.Actions(); len(a) != 2 || a[0].GetVerb() != "create" {
		t.Errorf("actions = %v, want only the create (and the test's get)", a)
	}
}

func TestAClaimAlreadyMadeForThePodIsLeftAlone(t *testing.T) {
	pod := podWithScratch()
	c, client, _ := newController(t, pod, ClaimFor(pod, &pod.Spec.Volumes[1]))
	if err := c.Sync(context.Background(), "ns/web"); err != nil {
		t.Fatal(err)
	}
	if len(client.Actions()) != 0 {
		t.Errorf("actions = %v", client.Actions())
	}
}

func TestAClaimOfTheSameNameThatThePodDoesNotOwnIsReported(t *testing.T) {
	foreign := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "web-scratch", Namespace: "ns"}}
	c, client, rec := newController(t, podWithScratch(), foreign)
	err := c.Sync(context.Background(), "ns/web")
	if err == nil || !strings.Contains(err.Error(), "was not created for pod ns/web (pod is not owner)") {
		t.Fatalf("err = %v", err)
	}
	if len(client.Actions()) != 0 {
		t.Errorf("actions = %v", client.Actions())
	}
	if got := <-rec.Events; !strings.HasPrefix(got, "Warning FailedBinding ephemeral volume scratch: PVC ns/web-scratch was not created for pod ns/web") {
		t.Errorf("event = %q", got)
	}
}

func TestAPodBeingDeletedGetsNoClaim(t *testing.T) {
	pod := podWithScratch()
	now := metav1.Now()
	pod.DeletionTimestamp = &now
	c, client, _ := newController(t, pod)
	if err := c.Sync(context.Background(), "ns/web"); err != nil {
		t.Fatal(err)
	}
	if len(client.Actions()) != 0 {
		t.Errorf("actions = %v", client.Actions())
	}
}
