package apps

import (
	"context"
	"reflect"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func statefulSet(mutate func(*appsv1.StatefulSet)) *appsv1.StatefulSet {
	s := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "default"},
		Spec: appsv1.StatefulSetSpec{
			ServiceName: "db",
			Selector:    &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
			Template:    template(map[string]string{"app": "db"}),
		},
	}
	if mutate != nil {
		mutate(s)
	}
	return s
}

func TestStatefulSetDefaultsAreUpstreams(t *testing.T) {
	s := statefulSet(func(s *appsv1.StatefulSet) {
		s.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"},
			Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}}
	})
	StatefulSets().Strategy.Default(s)
	if s.Spec.PodManagementPolicy != appsv1.OrderedReadyPodManagement || *s.Spec.Replicas != 1 || *s.Spec.RevisionHistoryLimit != 10 {
		t.Errorf("policy %q, replicas %d, history %d; want OrderedReady, 1, 10", s.Spec.PodManagementPolicy, *s.Spec.Replicas, *s.Spec.RevisionHistoryLimit)
	}
	if u := s.Spec.UpdateStrategy; u.Type != appsv1.RollingUpdateStatefulSetStrategyType || u.RollingUpdate == nil || *u.RollingUpdate.Partition != 0 {
		t.Errorf("update strategy %+v, want RollingUpdate with partition 0", u)
	}
	want := appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{WhenDeleted: appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
		WhenScaled: appsv1.RetainPersistentVolumeClaimRetentionPolicyType}
	if !reflect.DeepEqual(*s.Spec.PersistentVolumeClaimRetentionPolicy, want) {
		t.Errorf("retention %+v, want Retain/Retain", *s.Spec.PersistentVolumeClaimRetentionPolicy)
	}
	c := s.Spec.VolumeClaimTemplates[0]
	if c.Status.Phase != corev1.ClaimPending || *c.Spec.VolumeMode != corev1.PersistentVolumeFilesystem {
		t.Errorf("claim template phase %q mode %v; want Pending, Filesystem", c.Status.Phase, *c.Spec.VolumeMode)
	}
}

func TestStatefulSetValidation(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*appsv1.StatefulSet)
		want   []string
	}{
		{"a statefulset whose containers mount a claim template is valid", func(s *appsv1.StatefulSet) {
			s.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}}
			s.Spec.Template.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
		}, []string{}},
		{"an unknown pod management policy is refused",
			func(s *appsv1.StatefulSet) { s.Spec.PodManagementPolicy = "Sometimes" },
			[]string{"FieldValueInvalid spec.podManagementPolicy"}},
		{"OnDelete takes no rolling update",
			func(s *appsv1.StatefulSet) {
				s.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType,
					RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{}}
			},
			[]string{"FieldValueInvalid spec.updateStrategy.rollingUpdate"}},
		{"the service name must be a DNS label",
			func(s *appsv1.StatefulSet) { s.Spec.ServiceName = "Not_A_Label" },
			[]string{"FieldValueInvalid spec.serviceName"}},
		{"an empty selector is refused",
			func(s *appsv1.StatefulSet) { s.Spec.Selector = &metav1.LabelSelector{} },
			[]string{"FieldValueInvalid spec.selector"}},
		{"an unknown claim retention is not supported",
			func(s *appsv1.StatefulSet) {
				s.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{WhenDeleted: "Keep"}
			},
			[]string{"FieldValueNotSupported spec.persistentVolumeClaimRetentionPolicy.whenDeleted"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := problems(create(StatefulSets(), statefulSet(tt.mutate))); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestStatefulSetUpdatesOnlyTheMutableFields(t *testing.T) {
	old := statefulSet(nil)
	create(StatefulSets(), old)
	scaled := old.DeepCopy()
	scaled.Spec.Replicas = int32Ptr(3)
	scaled.Spec.Template.Spec.Containers[0].Image = "nginx:2"
	if errs := update(StatefulSets(), scaled, old); len(errs) != 0 {
		t.Errorf("changing replicas and template: %v, want allowed", errs)
	}
	renamed := old.DeepCopy()
	renamed.Spec.ServiceName = "other"
	if got := problems(update(StatefulSets(), renamed, old)); !reflect.DeepEqual(got, []string{"FieldValueForbidden spec"}) {
		t.Errorf("changing the service name: got %v, want spec forbidden", got)
	}
}

func TestDaemonSetDefaultsAndTemplateGeneration(t *testing.T) {
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "default"},
		Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
			Template: template(map[string]string{"app": "agent"})},
	}
	if errs := create(DaemonSets(), ds); len(errs) != 0 {
		t.Fatalf("valid daemonset refused: %v", errs)
	}
	one, zero := intstr.FromInt32(1), intstr.FromInt32(0)
	want := appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &one, MaxSurge: &zero}}
	if !reflect.DeepEqual(ds.Spec.UpdateStrategy, want) || *ds.Spec.RevisionHistoryLimit != 10 {
		t.Errorf("strategy %+v history %d, want rolling 1/0 and 10", ds.Spec.UpdateStrategy, *ds.Spec.RevisionHistoryLimit)
	}
	if g := ds.Annotations[appsv1.DeprecatedTemplateGeneration]; g != "1" {
		t.Errorf("template generation %q after create, want 1", g)
	}
	ds.Generation = 1
	relabelled := ds.DeepCopy()
	relabelled.Labels = map[string]string{"x": "y"}
	update(DaemonSets(), relabelled, ds)
	if g := relabelled.Annotations[appsv1.DeprecatedTemplateGeneration]; g != "1" {
		t.Errorf("template generation %q after a label change, want 1", g)
	}
	changed := ds.DeepCopy()
	changed.Spec.Template.Spec.Containers[0].Image = "nginx:2"
	update(DaemonSets(), changed, ds)
	if g := changed.Annotations[appsv1.DeprecatedTemplateGeneration]; g != "2" || changed.Generation != 2 {
		t.Errorf("template generation %q, generation %d after a template change, want 2 and 2", g, changed.Generation)
	}
}

func TestDaemonSetValidation(t *testing.T) {
	one := intstr.FromInt32(1)
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "default"},
		Spec: appsv1.DaemonSetSpec{Template: template(map[string]string{"app": "agent"}),
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &one, MaxSurge: &one}}},
	}
	got := problems(create(DaemonSets(), ds))
	want := []string{"FieldValueInvalid spec.template.metadata.labels", "FieldValueInvalid spec.updateStrategy.rollingUpdate.maxSurge"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("a daemonset without selector and with both surge and unavailability: got %v, want %v", got, want)
	}
}

func TestStatefulSetClaimTemplatesNamingTheirKindUpdateLikeStoredOnes(t *testing.T) {
	claim := corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data"},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}
	old := statefulSet(func(s *appsv1.StatefulSet) { s.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{claim} })
	create(StatefulSets(), old)
	old.Generation = 1
	obj := old.DeepCopy()
	obj.Spec.VolumeClaimTemplates[0].TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"}
	obj.Labels = map[string]string{"a": "b"}
	if errs := update(StatefulSets(), obj, old); len(errs) != 0 {
		t.Errorf("re-applying a manifest whose claim names its kind: %v", errs)
	}
	if obj.Generation != 1 {
		t.Errorf("generation %d after a label change, want 1", obj.Generation)
	}
}

func TestReplicaSetValidation(t *testing.T) {
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "rs", Namespace: "default"},
		Spec: appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "rs"}},
			Template: template(map[string]string{"app": "rs"})},
	}
	if errs := create(ReplicaSets(), rs); len(errs) != 0 {
		t.Fatalf("valid replicaset refused: %v", errs)
	}
	if *rs.Spec.Replicas != 1 {
		t.Errorf("replicas defaulted to %d, want 1", *rs.Spec.Replicas)
	}
	deadline := int64(30)
	rs.Spec.Template.Spec.ActiveDeadlineSeconds = &deadline
	if got := problems(ReplicaSets().Strategy.Validate(context.Background(), rs)); !reflect.DeepEqual(got, []string{"FieldValueForbidden spec.template.spec.activeDeadlineSeconds"}) {
		t.Errorf("a deadline on a replicaset template: got %v", got)
	}
}

func TestControllerRevisionData(t *testing.T) {
	tests := []struct {
		name string
		data string
		want []string
	}{
		{"a JSON object is accepted", `{"spec":{}}`, []string{}},
		{"missing data is required", ``, []string{"FieldValueRequired data"}},
		{"a JSON array is not an object", `[1]`, []string{"FieldValueRequired data"}},
		{"malformed JSON is invalid", `{`, []string{"FieldValueInvalid data"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: "r", Namespace: "default"}, Revision: 1}
			if tt.data != "" {
				r.Data = runtime.RawExtension{Raw: []byte(tt.data)}
			}
			if got := problems(create(ControllerRevisions(), r)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestControllerRevisionTableNamesTheOwner(t *testing.T) {
	yes := true
	r := &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: "db-1", OwnerReferences: []metav1.OwnerReference{
		{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "db", Controller: &yes}}}, Revision: 3}
	cells, _ := ControllerRevisions().Table.Row(r)
	if cells[1] != "statefulset.apps/db" || cells[2] != int64(3) {
		t.Errorf("cells %v, want controller statefulset.apps/db and revision 3", cells)
	}
}
