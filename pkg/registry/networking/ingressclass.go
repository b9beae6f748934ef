package networking

import (
	networkingv1 "k8s.io/api/networking/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
)

// maxControllerLength bounds an IngressClass's controller name.
const maxControllerLength = 250

// IngressClasses is networking.k8s.io/v1 ingressclasses.
func IngressClasses() *registry.Resource {
	return &registry.Resource{
		Group: group, Version: "v1", Name: "ingressclasses", Kind: "IngressClass", SingularName: "ingressclass",
		New:       func() runtime.Object { return &networkingv1.IngressClass{} },
		NewList:   func() runtime.Object { return &networkingv1.IngressClassList{} },
		KeyPrefix: "ingressclasses",
		Strategy: &registry.Generic{
			Defaults: func(obj runtime.Object) {
				if p := obj.(*networkingv1.IngressClass).Spec.Parameters; p != nil && p.Scope == nil {
					scope := networkingv1.IngressClassParametersReferenceScopeCluster
					p.Scope = &scope
				}
			},
			Validation: func(obj runtime.Object) field.ErrorList {
				return validateIngressClassSpec(&obj.(*networkingv1.IngressClass).Spec)
			},
			UpdateValidation: func(obj, old runtime.Object) field.ErrorList {
				c, oc := obj.(*networkingv1.IngressClass), old.(*networkingv1.IngressClass)
				errs := apivalidation.ValidateImmutableField(c.Spec.Controller, oc.Spec.Controller, field.NewPath("spec", "controller"))
				return append(errs, validateIngressClassSpec(&c.Spec)...)
			},
		},
		Table: &registry.Table{
			Cols: []metav1.TableColumnDefinition{registry.NameColumn,
				registry.Col("Controller", "string", "Controller that is responsible for handling this class", 0),
				registry.Col("Parameters", "string", "A reference to a resource with additional parameters", 0),
				registry.AgeColumn,
			},
			Cells: func(obj runtime.Object) []interface{} {
				c := obj.(*networkingv1.IngressClass)
				params := "<none>"
				if p := c.Spec.Parameters; p != nil {
					params = p.Kind
					if p.APIGroup != nil {
						params += "." + *p.APIGroup
					}
					params += "/" + p.Name
				}
				return []interface{}{c.Name, c.Spec.Controller, params, registry.Age(c.CreationTimestamp)}
			},
		},
	}
}

func validateIngressClassSpec(spec *networkingv1.IngressClassSpec) field.ErrorList {
	fld := field.NewPath("spec")
	var errs field.ErrorList
	if len(spec.Controller) > maxControllerLength {
		errs = append(errs, field.TooLong(fld.Child("controller"), "", maxControllerLength))
	}
	errs = append(errs, validation.IsDomainPrefixedPath(fld.Child("controller"), spec.Controller)...)
	p := spec.Parameters
	if p == nil {
		return errs
	}
	pf := fld.Child("parameters")
	errs = append(errs, validateTypedReference(p.APIGroup, p.Kind, p.Name, pf)...)
	if p.Scope == nil {
		return append(errs, field.Required(pf.Child("scope"), ""))
	}
	switch *p.Scope {
	case networkingv1.IngressClassParametersReferenceScopeNamespace:
		if p.Namespace == nil {
			errs = append(errs, field.Required(pf.Child("namespace"), "`parameters.scope` is set to 'Namespace'"))
		} else {
			for _, msg := range apivalidation.ValidateNamespaceName(*p.Namespace, false) {
				errs = append(errs, field.Invalid(pf.Child("namespace"), *p.Namespace, msg))
			}
		}
	case networkingv1.IngressClassParametersReferenceScopeCluster:
		if p.Namespace != nil {
			errs = append(errs, field.Forbidden(pf.Child("namespace"), "`parameters.scope` is set to 'Cluster'"))
		}
	default:
		errs = append(errs, field.NotSupported(pf.Child("scope"), *p.Scope, []string{
			networkingv1.IngressClassParametersReferenceScopeCluster, networkingv1.IngressClassParametersReferenceScopeNamespace}))
	}
	return errs
}
