package scheduling

import (
	"context"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPriorityClasses(t *testing.T) {
	tests := []struct {
		name  string
		class *schedulingv1.PriorityClass
		want  []string
	}{
		{"a user class up to a billion is valid", &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "high"}, Value: 1000000000}, nil},
		{"a user class above a billion is refused", &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "high"}, Value: 1000000001},
			[]string{"value"}},
		{"the system prefix is reserved", &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "system-mine"}, Value: 1},
			[]string{"metadata.name"}},
		{"a system class is accepted exactly as defined", SystemPriorityClasses()[0], nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := PriorityClasses()
			c := tt.class.DeepCopy()
			r.Strategy.Default(c)
			r.Strategy.PrepareForCreate(context.Background(), c)
			var got []string
			for _, e := range r.Strategy.Validate(context.Background(), c) {
				got = append(got, e.Field)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors at %v, want %v", got, tt.want)
			}
			if *c.PreemptionPolicy != corev1.PreemptLowerPriority || c.Generation != 1 {
				t.Errorf("policy %v generation %d, want PreemptLowerPriority and 1", *c.PreemptionPolicy, c.Generation)
			}
		})
	}
}

func TestPriorityClassValueIsFixed(t *testing.T) {
	r := PriorityClasses()
	old := &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "high"}, Value: 10}
	r.Strategy.Default(old)
	obj := old.DeepCopy()
	obj.Value = 11
	never := corev1.PreemptNever
	obj.PreemptionPolicy = &never
	var got []string
	for _, e := range r.Strategy.ValidateUpdate(context.Background(), obj, old) {
		got = append(got, string(e.Type)+" "+e.Field)
	}
	if !reflect.DeepEqual(got, []string{"FieldValueForbidden value", "FieldValueInvalid preemptionPolicy"}) {
		t.Errorf("got %v", got)
	}
}

func TestSystemClassesAreUpstreams(t *testing.T) {
	got := map[string]int32{}
	for _, c := range SystemPriorityClasses() {
		got[c.Name] = c.Value
	}
	if !reflect.DeepEqual(got, map[string]int32{"system-node-critical": 2000001000, "system-cluster-critical": 2000000000}) {
		t.Errorf("system classes %v", got)
	}
}
