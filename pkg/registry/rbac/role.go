package rbac

import (
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
)

// Roles is rbac.authorization.k8s.io/v1 roles.
func Roles() *registry.Resource {
	return &registry.Resource{
		Group: group, Version: "v1", Name: "roles", Kind: "Role", SingularName: "role", Namespaced: true,
		CreateOnUpdate: true,
		New:            func() runtime.Object { return &rbacv1.Role{} },
		NewList:        func() runtime.Object { return &rbacv1.RoleList{} },
		KeyPrefix:      "roles",
		ValidName:      validName,
		Strategy: &registry.Generic{
			Validation:    func(obj runtime.Object) field.ErrorList { return validateRules(obj.(*rbacv1.Role).Rules, true) },
			NoStatusSplit: true,
			NoGeneration:  true,
		},
	}
}

// ClusterRoles is rbac.authorization.k8s.io/v1 clusterroles.
func ClusterRoles() *registry.Resource {
	return &registry.Resource{
		Group: group, Version: "v1", Name: "clusterroles", Kind: "ClusterRole", SingularName: "clusterrole",
		CreateOnUpdate: true,
		New:            func() runtime.Object { return &rbacv1.ClusterRole{} },
		NewList:        func() runtime.Object { return &rbacv1.ClusterRoleList{} },
		KeyPrefix:      "clusterroles",
		ValidName:      validName,
		Strategy: &registry.Generic{
			Validation: func(obj runtime.Object) field.ErrorList {
				return validateClusterRole(obj.(*rbacv1.ClusterRole), metavalidation.LabelSelectorValidationOptions{})
			},
			UpdateValidation: func(obj, old runtime.Object) field.ErrorList {
				opts := metavalidation.LabelSelectorValidationOptions{}
				if ar := old.(*rbacv1.ClusterRole).AggregationRule; ar != nil {
					for i := range ar.ClusterRoleSelectors {
						if metavalidation.LabelSelectorHasInvalidLabelValue(&ar.ClusterRoleSelectors[i]) {
							opts.AllowInvalidLabelValueInSelector = true
						}
					}
				}
				return validateClusterRole(obj.(*rbacv1.ClusterRole), opts)
			},
			NoStatusSplit: true,
			NoGeneration:  true,
		},
	}
}

func validateClusterRole(r *rbacv1.ClusterRole, opts metavalidation.LabelSelectorValidationOptions) field.ErrorList {
	errs := validateRules(r.Rules, false)
	if r.AggregationRule == nil {
		return errs
	}
	fld := field.NewPath("aggregationRule", "clusterRoleSelectors")
	if len(r.AggregationRule.ClusterRoleSelectors) == 0 {
		errs = append(errs, field.Required(fld, "at least one clusterRoleSelector required if aggregationRule is non-nil"))
	}
	for i := range r.AggregationRule.ClusterRoleSelectors {
		sel := &r.AggregationRule.ClusterRoleSelectors[i]
		errs = append(errs, metavalidation.ValidateLabelSelector(sel, opts, fld.Index(i))...)
		if _, err := metav1.LabelSelectorAsSelector(sel); err != nil {
			errs = append(errs, field.Invalid(fld.Index(i), sel, "invalid label selector."))
		}
	}
	return errs
}

// validateRules checks policy rules: verbs always; then either non-resource
// URLs (cluster roles only) or API groups with resources.
func validateRules(rules []rbacv1.PolicyRule, namespaced bool) field.ErrorList {
	var errs field.ErrorList
	for i, r := range rules {
		fld := field.NewPath("rules").Index(i)
		if len(r.Verbs) == 0 {
			errs = append(errs, field.Required(fld.Child("verbs"), "verbs must contain at least one value"))
		}
		if len(r.NonResourceURLs) > 0 {
			if namespaced {
				errs = append(errs, field.Invalid(fld.Child("nonResourceURLs"), r.NonResourceURLs, "namespaced rules cannot apply to non-resource URLs"))
			}
			if len(r.APIGroups) > 0 || len(r.Resources) > 0 || len(r.ResourceNames) > 0 {
				errs = append(errs, field.Invalid(fld.Child("nonResourceURLs"), r.NonResourceURLs, "rules cannot apply to both regular resources and non-resource URLs"))
			}
			continue
		}
		if len(r.APIGroups) == 0 {
			errs = append(errs, field.Required(fld.Child("apiGroups"), "resource rules must supply at least one api group"))
		}
		if len(r.Resources) == 0 {
			errs = append(errs, field.Required(fld.Child("resources"), "resource rules must supply at least one resource"))
		}
	}
	return errs
}
