package policy

import (
	"context"
	"reflect"
	"testing"

	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestPodDisruptionBudgets(t *testing.T) {
	half, one := intstr.FromString("50%"), intstr.FromInt32(1)
	over := intstr.FromString("150%")
	tests := []struct {
		name string
		spec policyv1.PodDisruptionBudgetSpec
		want []string
	}{
		{"a percentage of pods kept available is valid", policyv1.PodDisruptionBudgetSpec{MinAvailable: &half}, nil},
		{"both bounds at once are refused", policyv1.PodDisruptionBudgetSpec{MinAvailable: &half, MaxUnavailable: &one}, []string{"spec"}},
		{"more than all pods is refused", policyv1.PodDisruptionBudgetSpec{MaxUnavailable: &over}, []string{"spec.maxUnavailable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default"}, Spec: tt.spec}
			var got []string
			for _, e := range PodDisruptionBudgets().Strategy.Validate(context.Background(), p) {
				got = append(got, e.Field)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors at %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPodDisruptionBudgetTable(t *testing.T) {
	one := intstr.FromInt32(1)
	p := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: &one},
		Status: policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: 2}}
	cells, _ := PodDisruptionBudgets().Table.Row(p)
	want := []interface{}{"p", "1", "N/A", int64(2), "<unknown>"}
	if !reflect.DeepEqual(cells, want) {
		t.Errorf("cells %#v, want %#v", cells, want)
	}
}
