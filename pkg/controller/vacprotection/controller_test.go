package vacprotection

import (
	"context"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"
)

func TestClaimClassesCountsSpecCurrentAndTarget(t *testing.T) {
	pvc := &corev1.PersistentVolumeClaim{Spec: corev1.PersistentVolumeClaimSpec{VolumeAttributesClassName: ptr.To("gold")},
		Status: corev1.PersistentVolumeClaimStatus{CurrentVolumeAttributesClassName: ptr.To("silver"),
			ModifyVolumeStatus: &corev1.ModifyVolumeStatus{TargetVolumeAttributesClassName: "gold"}}}
	if got := ClaimClasses(pvc); !slices.Equal(got, []string{"gold", "silver"}) {
		t.Errorf("ClaimClasses = %v", got)
	}
}

func run(t *testing.T, vac *storagev1.VolumeAttributesClass, others ...runtime.Object) []string {
	t.Helper()
	client := fake.NewClientset(append([]runtime.Object{vac}, others...)...)
	f := informers.NewSharedInformerFactory(client, 0)
	c, err := New(Config{Client: client, Classes: f.Storage().V1().VolumeAttributesClasses(), Volumes: f.Core().V1().PersistentVolumes(),
		Claims: f.Core().V1().PersistentVolumeClaims(), Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	_ = f.Storage().V1().VolumeAttributesClasses().Informer().GetIndexer().Add(vac)
	for _, o := range others {
		switch o.(type) {
		case *corev1.PersistentVolume:
			_ = f.Core().V1().PersistentVolumes().Informer().GetIndexer().Add(o)
		case *corev1.PersistentVolumeClaim:
			_ = f.Core().V1().PersistentVolumeClaims().Informer().GetIndexer().Add(o)
		}
	}
	if err := c.Sync(context.Background(), vac.Name); err != nil {
		t.Fatal(err)
	}
	got, err := client.StorageV1().VolumeAttributesClasses().Get(context.Background(), vac.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return got.Finalizers
}

func class(deleting bool, finalizers ...string) *storagev1.VolumeAttributesClass {
	v := &storagev1.VolumeAttributesClass{ObjectMeta: metav1.ObjectMeta{Name: "gold", Finalizers: finalizers}, DriverName: "csi.example.com"}
	if deleting {
		now := metav1.Now()
		v.DeletionTimestamp = &now
	}
	return v
}

func TestANewClassGetsTheFinalizer(t *testing.T) {
	if got := run(t, class(false)); !slices.Equal(got, []string{Finalizer}) {
		t.Errorf("finalizers = %v", got)
	}
}

func TestADeletedClassAVolumeNamesKeepsTheFinalizer(t *testing.T) {
	pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pv1"}, Spec: corev1.PersistentVolumeSpec{VolumeAttributesClassName: ptr.To("gold")}}
	if got := run(t, class(true, Finalizer), pv); !slices.Equal(got, []string{Finalizer}) {
		t.Errorf("finalizers = %v", got)
	}
}

func TestADeletedClassNothingNamesLosesTheFinalizer(t *testing.T) {
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data", Namespace: "ns"}, Spec: corev1.PersistentVolumeClaimSpec{VolumeAttributesClassName: ptr.To("silver")}}
	if got := run(t, class(true, Finalizer, "example.com/x"), pvc); !slices.Equal(got, []string{"example.com/x"}) {
		t.Errorf("finalizers = %v", got)
	}
}
