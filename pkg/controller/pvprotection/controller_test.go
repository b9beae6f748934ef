package pvprotection

import (
	"context"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
)

func volume(deleting bool, phase corev1.PersistentVolumePhase, finalizers ...string) *corev1.PersistentVolume {
	pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pv1", Finalizers: finalizers}, Status: corev1.PersistentVolumeStatus{Phase: phase}}
	if deleting {
		now := metav1.Now()
		pv.DeletionTimestamp = &now
	}
	return pv
}

func TestDecide(t *testing.T) {
	cases := []struct {
		name string
		pv   *corev1.PersistentVolume
		want Action
	}{
		{"a new volume gets the finalizer", volume(false, corev1.VolumePending), AddFinalizer},
		{"a protected live volume is left alone", volume(false, corev1.VolumeBound, Finalizer), Nothing},
		{"a deleted bound volume keeps the finalizer", volume(true, corev1.VolumeBound, Finalizer), Nothing},
		{"a deleted released volume loses it", volume(true, corev1.VolumeReleased, Finalizer), RemoveFinalizer},
		{"a deleted available volume loses it", volume(true, corev1.VolumeAvailable, Finalizer), RemoveFinalizer},
		{"a deleted volume without the finalizer is not ours", volume(true, corev1.VolumeAvailable), Nothing},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Decide(c.pv); got != c.want {
				t.Errorf("Decide = %v, want %v", got, c.want)
			}
		})
	}
}

func TestSyncRemovesOnlyTheProtectionFinalizer(t *testing.T) {
	pv := volume(true, corev1.VolumeReleased, "example.com/other", Finalizer)
	client := fake.NewClientset(pv)
	factory := informers.NewSharedInformerFactory(client, 0)
	c, err := New(Config{Client: client, Volumes: factory.Core().V1().PersistentVolumes(), Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	_ = factory.Core().V1().PersistentVolumes().Informer().GetIndexer().Add(pv)
	if err := c.Sync(context.Background(), "pv1"); err != nil {
		t.Fatal(err)
	}
	got, err := client.CoreV1().PersistentVolumes().Get(context.Background(), "pv1", metav1.GetOptions{})
	if err != nil || !slices.Equal(got.Finalizers, []string{"example.com/other"}) {
		t.Errorf("finalizers = %v, %v", got.Finalizers, err)
	}
}
