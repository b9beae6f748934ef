package workload

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ValidateSelector checks a workload's selector: it is required, well formed and
// selects something. kind names the workload in upstream's message
// ("empty selector is invalid for deployment").
func ValidateSelector(sel *metav1.LabelSelector, fld *field.Path, kind string) field.ErrorList {
	if sel == nil {
		return field.ErrorList{field.Required(fld, "")}
	}
	errs := metavalidation.ValidateLabelSelector(sel, metavalidation.LabelSelectorValidationOptions{}, fld)
	if len(sel.MatchLabels)+len(sel.MatchExpressions) == 0 {
		errs = append(errs, field.Invalid(fld, sel, "empty selector is invalid for "+kind))
	}
	return errs
}

// SelectorMatchesLabels checks that a selector selects the labels of the pods a
// template makes; an unparsable or empty selector is reported elsewhere.
func SelectorMatchesLabels(sel *metav1.LabelSelector, podLabels map[string]string, fld *field.Path) field.ErrorList {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil || s.Empty() {
		return nil
	}
	if !s.Matches(labels.Set(podLabels)) {
		return field.ErrorList{field.Invalid(fld, podLabels, "`selector` does not match template `labels`")}
	}
	return nil
}

// SelectorString prints a selector the way the Selector column and /scale show it.
func SelectorString(sel *metav1.LabelSelector) string {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return "<invalid>"
	}
	return s.String()
}
