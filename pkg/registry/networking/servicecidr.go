package networking

import (
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	netutils "k8s.io/utils/net"

	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/badvalue"
)

// ServiceCIDRs is networking.k8s.io/v1 servicecidrs: the ranges Service IPs
// come from, at most one per IP family.
func ServiceCIDRs() *registry.Resource {
	return &registry.Resource{
		Group: group, Version: "v1", Name: "servicecidrs", Kind: "ServiceCIDR", SingularName: "servicecidr",
		New:       func() runtime.Object { return &networkingv1.ServiceCIDR{} },
		NewList:   func() runtime.Object { return &networkingv1.ServiceCIDRList{} },
		KeyPrefix: "servicecidrs",
		Status:    true,
		Strategy: &registry.Generic{
			Validation: func(obj runtime.Object) field.ErrorList {
				return validateCIDRs(obj.(*networkingv1.ServiceCIDR).Spec.CIDRs)
			},
			UpdateValidation: func(obj, old runtime.Object) field.ErrorList {
				return validateCIDRsUpdate(obj.(*networkingv1.ServiceCIDR).Spec.CIDRs, old.(*networkingv1.ServiceCIDR).Spec.CIDRs)
			},
			NoGeneration: true,
		},
		Table: &registry.Table{
			Cols: []metav1.TableColumnDefinition{registry.NameColumn,
				registry.Col("CIDRs", "string", networkingv1.ServiceCIDRSpec{}.SwaggerDoc()["cidrs"], 0),
				registry.AgeColumn,
			},
			Cells: func(obj runtime.Object) []interface{} {
				c := obj.(*networkingv1.ServiceCIDR)
				return []interface{}{c.Name, strings.Join(c.Spec.CIDRs, ","), registry.Age(c.CreationTimestamp)}
			},
		},
	}
}

func validateCIDRs(cidrs []string) field.ErrorList {
	fld := field.NewPath("spec", "cidrs")
	switch {
	case len(cidrs) == 0:
		return field.ErrorList{field.Required(fld, "at least one CIDR required")}
	case len(cidrs) > 2:
		return field.ErrorList{field.Invalid(fld, badvalue.Internal(networkingv1.ServiceCIDRSpec{CIDRs: cidrs}), "may only hold up to 2 values")}
	}
	var errs field.ErrorList
	for i, c := range cidrs {
		errs = append(errs, validation.IsValidCIDR(fld.Index(i), c)...)
	}
	if len(cidrs) == 2 {
		a, b := netutils.IPFamilyOfCIDRString(cidrs[0]), netutils.IPFamilyOfCIDRString(cidrs[1])
		if a == b && a != netutils.IPFamilyUnknown {
			errs = append(errs, field.Invalid(fld, cidrs, "may specify no more than one IP for each IP family, i.e 192.168.0.0/24 and 2001:db8::/64"))
		}
	}
	return errs
}

// validateCIDRsUpdate: ranges never change; a single-stack range may only gain
// a second family.
func validateCIDRsUpdate(cidrs, old []string) field.ErrorList {
	fld := field.NewPath("spec", "cidrs")
	var errs field.ErrorList
	switch {
	case len(old) == len(cidrs):
		for i := range old {
			if old[i] != cidrs[i] {
				errs = append(errs, field.Invalid(fld.Index(i), cidrs[i], apivalidation.FieldImmutableErrorMsg))
			}
		}
	case len(old) == 1 && len(cidrs) == 2:
		if cidrs[0] != old[0] {
			errs = append(errs, field.Invalid(fld.Index(0), cidrs[0], apivalidation.FieldImmutableErrorMsg))
		}
		errs = append(errs, validateCIDRs(cidrs)...)
	default:
		errs = append(errs, field.Invalid(fld, cidrs, apivalidation.FieldImmutableErrorMsg))
	}
	return errs
}
