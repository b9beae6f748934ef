package networking

import (
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	pathvalidation "k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
)

// IPAddresses is networking.k8s.io/v1 ipaddresses: one object per allocated
// Service IP, named by the address itself.
func IPAddresses() *registry.Resource {
	return &registry.Resource{
		Group: group, Version: "v1", Name: "ipaddresses", Kind: "IPAddress", SingularName: "ipaddress",
		ShortNames: []string{"ip"},
		New:        func() runtime.Object { return &networkingv1.IPAddress{} },
		NewList:    func() runtime.Object { return &networkingv1.IPAddressList{} },
		KeyPrefix:  "ipaddresses",
		ValidName: func(name string, _ bool) []string {
			var msgs []string
			for _, e := range validation.IsValidIP(&field.Path{}, name) {
				msgs = append(msgs, e.Detail)
			}
			return msgs
		},
		Strategy: &registry.Generic{
			Validation: func(obj runtime.Object) field.ErrorList {
				return validateParentRef(obj.(*networkingv1.IPAddress).Spec.ParentRef)
			},
			UpdateValidation: func(obj, old runtime.Object) field.ErrorList {
				return apivalidation.ValidateImmutableField(obj.(*networkingv1.IPAddress).Spec.ParentRef,
					old.(*networkingv1.IPAddress).Spec.ParentRef, field.NewPath("spec", "parentRef"))
			},
			NoStatusSplit: true,
			NoGeneration:  true,
		},
		// Upstream prints an age cell but declares no Age column.
		Table: &registry.Table{
			Cols: []metav1.TableColumnDefinition{registry.NameColumn,
				registry.Col("ParentRef", "string", networkingv1.IPAddressSpec{}.SwaggerDoc()["parentRef"], 0),
			},
			Cells: func(obj runtime.Object) []interface{} {
				ip := obj.(*networkingv1.IPAddress)
				parent := "<none>"
				if p := ip.Spec.ParentRef; p != nil {
					parent = strings.ToLower(schema.GroupResource{Group: p.Group, Resource: p.Resource}.String())
					if p.Namespace != "" {
						parent += "/" + p.Namespace
					}
					parent += "/" + p.Name
				}
				return []interface{}{ip.Name, parent, registry.Age(ip.CreationTimestamp)}
			},
		},
	}
}

func validateParentRef(p *networkingv1.ParentReference) field.ErrorList {
	fld := field.NewPath("spec", "parentRef")
	if p == nil {
		return field.ErrorList{field.Required(fld, "")}
	}
	var errs field.ErrorList
	if p.Group != "" {
		for _, msg := range validation.IsDNS1123Subdomain(p.Group) {
			errs = append(errs, field.Invalid(fld.Child("group"), p.Group, msg))
		}
	}
	errs = append(errs, requiredPathSegment(p.Resource, fld.Child("resource"))...)
	errs = append(errs, requiredPathSegment(p.Name, fld.Child("name"))...)
	if p.Namespace != "" {
		for _, msg := range pathvalidation.IsValidPathSegmentName(p.Namespace) {
			errs = append(errs, field.Invalid(fld.Child("namespace"), p.Namespace, msg))
		}
	}
	return errs
}
