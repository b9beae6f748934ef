package storage

import (
	"context"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func problems(errs field.ErrorList) []string {
	out := []string{}
	for _, e := range errs {
		out = append(out, string(e.Type)+" "+e.Field)
	}
	return out
}

func TestStorageClasses(t *testing.T) {
	r := StorageClasses()
	sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "standard",
		Annotations: map[string]string{IsDefaultAnnotation: "true"}}, Provisioner: "example.com/disk"}
	r.Strategy.Default(sc)
	if errs := r.Strategy.Validate(context.Background(), sc); len(errs) != 0 {
		t.Fatalf("refused: %v", errs)
	}
	if *sc.ReclaimPolicy != corev1.PersistentVolumeReclaimDelete || *sc.VolumeBindingMode != storagev1.VolumeBindingImmediate {
		t.Errorf("defaults %v %v", *sc.ReclaimPolicy, *sc.VolumeBindingMode)
	}
	cells, _ := r.Table.Row(sc)
	want := []interface{}{"standard (default)", "example.com/disk", "Delete", "Immediate", false, "<unknown>"}
	if !reflect.DeepEqual(cells, want) {
		t.Errorf("cells %#v, want %#v", cells, want)
	}
	changed := sc.DeepCopy()
	changed.Provisioner = "other.com/disk"
	changed.Parameters = map[string]string{"a": "b"}
	if got := problems(r.Strategy.ValidateUpdate(context.Background(), changed, sc)); !reflect.DeepEqual(got,
		[]string{"FieldValueForbidden parameters", "FieldValueForbidden provisioner"}) {
		t.Errorf("changing parameters and provisioner: %v", got)
	}
	if got := problems(r.Strategy.Validate(context.Background(), &storagev1.StorageClass{})); !reflect.DeepEqual(got,
		[]string{"FieldValueRequired provisioner", "FieldValueRequired volumeBindingMode"}) {
		t.Errorf("an empty class: %v", got)
	}
}

func TestCSIDriverDefaultsAndGeneration(t *testing.T) {
	r := CSIDrivers()
	d := &storagev1.CSIDriver{ObjectMeta: metav1.ObjectMeta{Name: "csi.example.com"}}
	r.Strategy.Default(d)
	r.Strategy.PrepareForCreate(context.Background(), d)
	if errs := r.Strategy.Validate(context.Background(), d); len(errs) != 0 {
		t.Fatalf("refused: %v", errs)
	}
	s := d.Spec
	if !*s.AttachRequired || *s.PodInfoOnMount || *s.StorageCapacity || *s.RequiresRepublish || *s.SELinuxMount ||
		*s.FSGroupPolicy != storagev1.ReadWriteOnceWithFSTypeFSGroupPolicy || !reflect.DeepEqual(s.VolumeLifecycleModes, []storagev1.VolumeLifecycleMode{"Persistent"}) {
		t.Errorf("defaults %+v", s)
	}
	if d.Generation != 0 {
		t.Errorf("generation %d on create, want none as upstream", d.Generation)
	}
	changed := d.DeepCopy()
	yes := true
	changed.Spec.PodInfoOnMount = &yes
	r.Strategy.PrepareForUpdate(context.Background(), changed, d)
	if changed.Generation != 1 {
		t.Errorf("generation %d after a spec change, want 1", changed.Generation)
	}
}

func TestVolumeAttachments(t *testing.T) {
	pv := "pv1"
	va := &storagev1.VolumeAttachment{ObjectMeta: metav1.ObjectMeta{Name: "va"}, Spec: storagev1.VolumeAttachmentSpec{
		Attacher: "csi.example.com", NodeName: "node1", Source: storagev1.VolumeAttachmentSource{PersistentVolumeName: &pv}}}
	r := VolumeAttachments()
	if errs := r.Strategy.Validate(context.Background(), va); len(errs) != 0 {
		t.Fatalf("refused: %v", errs)
	}
	va.Spec.Source.PersistentVolumeName = nil
	if got := problems(r.Strategy.Validate(context.Background(), va)); !reflect.DeepEqual(got, []string{"FieldValueRequired spec.source"}) {
		t.Errorf("no source: %v", got)
	}
}

func TestCSINodesRefuseDuplicateDrivers(t *testing.T) {
	n := &storagev1.CSINode{ObjectMeta: metav1.ObjectMeta{Name: "node1"}, Spec: storagev1.CSINodeSpec{Drivers: []storagev1.CSINodeDriver{
		{Name: "csi.example.com", NodeID: "n1"}, {Name: "csi.example.com", NodeID: "n1"}}}}
	if got := problems(CSINodes().Strategy.Validate(context.Background(), n)); !reflect.DeepEqual(got, []string{"FieldValueDuplicate spec.drivers[1].name"}) {
		t.Errorf("got %v", got)
	}
}

func TestVolumeAttributesClassesNeedParameters(t *testing.T) {
	c := &storagev1.VolumeAttributesClass{ObjectMeta: metav1.ObjectMeta{Name: "fast"}, DriverName: "csi.example.com"}
	if got := problems(VolumeAttributesClasses().Strategy.Validate(context.Background(), c)); !reflect.DeepEqual(got, []string{"FieldValueRequired parameters"}) {
		t.Errorf("got %v", got)
	}
}
