// Package policy describes policy/v1 PodDisruptionBudgets.
package policy

import (
	policyv1 "k8s.io/api/policy/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	pathvalidation "k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/badvalue"
	"github.com/minik8s/minik8s/pkg/registry/workload"
)

// Resources returns every policy/v1 resource.
func Resources() []*registry.Resource { return []*registry.Resource{PodDisruptionBudgets()} }

// PodDisruptionBudgets is policy/v1 poddisruptionbudgets.
func PodDisruptionBudgets() *registry.Resource {
	return &registry.Resource{
		Group: "policy", Version: "v1", Name: "poddisruptionbudgets", Kind: "PodDisruptionBudget", SingularName: "poddisruptionbudget",
		ShortNames: []string{"pdb"}, Namespaced: true,
		New:       func() runtime.Object { return &policyv1.PodDisruptionBudget{} },
		NewList:   func() runtime.Object { return &policyv1.PodDisruptionBudgetList{} },
		KeyPrefix: "poddisruptionbudgets",
		// Upstream validates only the spec, so any path segment is a name.
		ValidName: func(name string, _ bool) []string { return pathvalidation.IsValidPathSegmentName(name) },
		Status:    true,
		Strategy: &registry.Generic{
			Validation: func(obj runtime.Object) field.ErrorList {
				return validatePDBSpec(&obj.(*policyv1.PodDisruptionBudget).Spec, metavalidation.LabelSelectorValidationOptions{})
			},
			UpdateValidation: func(obj, old runtime.Object) field.ErrorList {
				opts := metavalidation.LabelSelectorValidationOptions{
					AllowInvalidLabelValueInSelector: metavalidation.LabelSelectorHasInvalidLabelValue(old.(*policyv1.PodDisruptionBudget).Spec.Selector),
				}
				return validatePDBSpec(&obj.(*policyv1.PodDisruptionBudget).Spec, opts)
			},
			StatusValidation: func(obj, _ runtime.Object) field.ErrorList {
				return validatePDBStatus(&obj.(*policyv1.PodDisruptionBudget).Status)
			},
		},
		Table: &registry.Table{
			Cols: []metav1.TableColumnDefinition{registry.NameColumn,
				registry.Col("Min Available", "string", "The minimum number of pods that must be available.", 0),
				registry.Col("Max Unavailable", "string", "The maximum number of pods that may be unavailable.", 0),
				registry.Col("Allowed Disruptions", "integer", "Calculated number of pods that may be disrupted at this time.", 0),
				registry.AgeColumn,
			},
			Cells: func(obj runtime.Object) []interface{} {
				p := obj.(*policyv1.PodDisruptionBudget)
				minAvailable, maxUnavailable := "N/A", "N/A"
				if p.Spec.MinAvailable != nil {
					minAvailable = p.Spec.MinAvailable.String()
				}
				if p.Spec.MaxUnavailable != nil {
					maxUnavailable = p.Spec.MaxUnavailable.String()
				}
				return []interface{}{p.Name, minAvailable, maxUnavailable, int64(p.Status.DisruptionsAllowed), registry.Age(p.CreationTimestamp)}
			},
		},
	}
}

var evictionPolicies = []policyv1.UnhealthyPodEvictionPolicyType{policyv1.AlwaysAllow, policyv1.IfHealthyBudget}

func validatePDBSpec(s *policyv1.PodDisruptionBudgetSpec, selector metavalidation.LabelSelectorValidationOptions) field.ErrorList {
	fld := field.NewPath("spec")
	var errs field.ErrorList
	if s.MinAvailable != nil && s.MaxUnavailable != nil {
		errs = append(errs, field.Invalid(fld, badvalue.Internal(*s), "minAvailable and maxUnavailable cannot be both set"))
	}
	if s.MinAvailable != nil {
		errs = append(errs, workload.ValidateIntOrPercent(*s.MinAvailable, fld.Child("minAvailable"))...)
		errs = append(errs, workload.NotMoreThan100Percent(*s.MinAvailable, fld.Child("minAvailable"))...)
	}
	if s.MaxUnavailable != nil {
		errs = append(errs, workload.ValidateIntOrPercent(*s.MaxUnavailable, fld.Child("maxUnavailable"))...)
		errs = append(errs, workload.NotMoreThan100Percent(*s.MaxUnavailable, fld.Child("maxUnavailable"))...)
	}
	errs = append(errs, metavalidation.ValidateLabelSelector(s.Selector, selector, fld.Child("selector"))...)
	if p := s.UnhealthyPodEvictionPolicy; p != nil && *p != policyv1.AlwaysAllow && *p != policyv1.IfHealthyBudget {
		errs = append(errs, field.NotSupported(fld.Child("unhealthyPodEvictionPolicy"), *p, evictionPolicies))
	}
	return errs
}

func validatePDBStatus(s *policyv1.PodDisruptionBudgetStatus) field.ErrorList {
	fld := field.NewPath("status")
	errs := metavalidation.ValidateConditions(s.Conditions, fld.Child("conditions"))
	for _, c := range []struct {
		name  string
		value int32
	}{{"disruptionsAllowed", s.DisruptionsAllowed}, {"currentHealthy", s.CurrentHealthy},
		{"desiredHealthy", s.DesiredHealthy}, {"expectedPods", s.ExpectedPods}} {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(c.value), fld.Child(c.name))...)
	}
	return errs
}
