package workload

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestRollingUpdateAmounts(t *testing.T) {
	tests := []struct {
		name       string
		v          intstr.IntOrString
		errs, over int
		value      int
	}{
		{"a count is its own value", intstr.FromInt32(3), 0, 0, 3},
		{"a percentage counts by its number", intstr.FromString("25%"), 0, 0, 25},
		{"a negative count is refused", intstr.FromInt32(-1), 1, 0, -1},
		{"a word is not a percentage", intstr.FromString("half"), 1, 0, 0},
		{"more than 100% is refused where it matters", intstr.FromString("150%"), 0, 1, 150},
	}
	fld := field.NewPath("x")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := len(ValidateIntOrPercent(tt.v, fld)); got != tt.errs {
				t.Errorf("%d errors, want %d", got, tt.errs)
			}
			if got := len(NotMoreThan100Percent(tt.v, fld)); got != tt.over {
				t.Errorf("%d errors above 100%%, want %d", got, tt.over)
			}
			if got := IntOrPercentValue(tt.v); got != tt.value {
				t.Errorf("value %d, want %d", got, tt.value)
			}
		})
	}
}

func TestSelectorChecks(t *testing.T) {
	fld := field.NewPath("spec", "selector")
	if errs := ValidateSelector(nil, fld, "deployment"); len(errs) != 1 || errs[0].Type != field.ErrorTypeRequired {
		t.Errorf("a missing selector: %v, want required", errs)
	}
	if errs := ValidateSelector(&metav1.LabelSelector{}, fld, "deployment"); len(errs) != 1 || errs[0].Detail != "empty selector is invalid for deployment" {
		t.Errorf("an empty selector: %v", errs)
	}
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "a"}}
	if errs := SelectorMatchesLabels(sel, map[string]string{"app": "b"}, field.NewPath("labels")); len(errs) != 1 ||
		errs[0].Detail != "`selector` does not match template `labels`" {
		t.Errorf("a mismatch: %v", errs)
	}
	if s := SelectorString(sel); s != "app=a" {
		t.Errorf("selector printed %q", s)
	}
}

func TestContainerCellsJoinNamesAndImages(t *testing.T) {
	names, images := ContainerCells([]corev1.Container{{Name: "a", Image: "x"}, {Name: "b", Image: "y"}})
	if names != "a,b" || images != "x,y" {
		t.Errorf("got %q %q", names, images)
	}
}
