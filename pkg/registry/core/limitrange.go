package core

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/podspec"
)

// LimitRanges is core/v1 limitranges. Upstream prints them with the default
// name-and-creation table.
func LimitRanges() *registry.Resource {
	return &registry.Resource{
		Version: "v1", Name: "limitranges", Kind: "LimitRange", SingularName: "limitrange", ShortNames: []string{"limits"},
		CreateOnUpdate: true,
		Namespaced:     true,
		New:            func() runtime.Object { return &corev1.LimitRange{} },
		NewList:        func() runtime.Object { return &corev1.LimitRangeList{} },
		KeyPrefix:      "limitranges",
		Strategy: &registry.Generic{
			Defaults:     func(obj runtime.Object) { defaultLimitRange(obj.(*corev1.LimitRange)) },
			Validation:   func(obj runtime.Object) field.ErrorList { return validateLimitRange(obj.(*corev1.LimitRange)) },
			NoGeneration: true,
		},
	}
}

// defaultLimitRange: for containers, the default limit falls back to max and the
// default request to the default limit, then to min.
func defaultLimitRange(lr *corev1.LimitRange) {
	for i := range lr.Spec.Limits {
		l := &lr.Spec.Limits[i]
		for _, list := range []corev1.ResourceList{l.Max, l.Min, l.Default, l.DefaultRequest, l.MaxLimitRequestRatio} {
			roundList(list)
		}
		if l.Type != corev1.LimitTypeContainer {
			continue
		}
		if l.Default == nil {
			l.Default = corev1.ResourceList{}
		}
		if l.DefaultRequest == nil {
			l.DefaultRequest = corev1.ResourceList{}
		}
		fill := func(dst, src corev1.ResourceList) {
			for k, v := range src {
				if _, ok := dst[k]; !ok {
					dst[k] = v.DeepCopy()
				}
			}
		}
		fill(l.Default, l.Max)
		fill(l.DefaultRequest, l.Default)
		fill(l.DefaultRequest, l.Min)
	}
}

var limitTypes = sets.New(corev1.LimitTypePod, corev1.LimitTypeContainer, corev1.LimitTypePersistentVolumeClaim)

func validateLimitRange(lr *corev1.LimitRange) field.ErrorList {
	var errs field.ErrorList
	fld := field.NewPath("spec", "limits")
	seenTypes := map[corev1.LimitType]bool{}
	for i := range lr.Spec.Limits {
		l := &lr.Spec.Limits[i]
		p := fld.Index(i)
		errs = append(errs, validateLimitType(l.Type, p.Child("type"))...)
		if seenTypes[l.Type] {
			errs = append(errs, field.Duplicate(p.Child("type"), l.Type))
		}
		seenTypes[l.Type] = true
		nameFn := podspec.ValidateResourceName
		if l.Type == corev1.LimitTypePod || l.Type == corev1.LimitTypeContainer {
			nameFn = podspec.ValidateContainerResourceName
		}
		keys := sets.New[corev1.ResourceName]()
		check := func(list corev1.ResourceList, name string) {
			for _, k := range sortedResourceNames(list) {
				errs = append(errs, nameFn(k, p.Child(name).Key(string(k)))...)
				keys.Insert(k)
			}
		}
		check(l.Max, "max")
		check(l.Min, "min")
		if l.Type == corev1.LimitTypePod {
			if len(l.Default) > 0 {
				errs = append(errs, field.Forbidden(p.Child("default"), "may not be specified when `type` is 'Pod'"))
			}
			if len(l.DefaultRequest) > 0 {
				errs = append(errs, field.Forbidden(p.Child("defaultRequest"), "may not be specified when `type` is 'Pod'"))
			}
		} else {
			check(l.Default, "default")
			check(l.DefaultRequest, "defaultRequest")
		}
		if l.Type == corev1.LimitTypePersistentVolumeClaim {
			_, hasMin := l.Min[corev1.ResourceStorage]
			_, hasMax := l.Max[corev1.ResourceStorage]
			if !hasMin && !hasMax {
				errs = append(errs, field.Required(p.Child("limits"), "either minimum or maximum storage value is required, but neither was provided"))
			}
		}
		check(l.MaxLimitRequestRatio, "maxLimitRequestRatio")
		for _, k := range sets.List(keys) {
			errs = append(errs, validateLimitOrder(l, k, p)...)
		}
	}
	return errs
}

func validateLimitType(t corev1.LimitType, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(string(t)) {
		errs = append(errs, field.Invalid(fld, t, msg))
	}
	if len(errs) == 0 && !strings.Contains(string(t), "/") && !limitTypes.Has(t) {
		errs = append(errs, field.Invalid(fld, t, "must be a standard limit type or fully qualified"))
	}
	return errs
}

// validateLimitOrder checks min ≤ defaultRequest ≤ default ≤ max for one resource.
func validateLimitOrder(l *corev1.LimitRangeItem, k corev1.ResourceName, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	min, hasMin := l.Min[k]
	max, hasMax := l.Max[k]
	def, hasDef := l.Default[k]
	req, hasReq := l.DefaultRequest[k]
	if l.Type == corev1.LimitTypePod { // already refused, not compared
		hasDef, hasReq = false, false
	}
	ratio, hasRatio := l.MaxLimitRequestRatio[k]
	key := string(k)
	if hasMin && hasMax && min.Cmp(max) > 0 {
		errs = append(errs, field.Invalid(p.Child("min").Key(key), min, fmt.Sprintf("min value %s is greater than max value %s", min.String(), max.String())))
	}
	if hasReq && hasMin && min.Cmp(req) > 0 {
		errs = append(errs, field.Invalid(p.Child("defaultRequest").Key(key), req, fmt.Sprintf("min value %s is greater than default request value %s", min.String(), req.String())))
	}
	if hasReq && hasMax && req.Cmp(max) > 0 {
		errs = append(errs, field.Invalid(p.Child("defaultRequest").Key(key), req, fmt.Sprintf("default request value %s is greater than max value %s", req.String(), max.String())))
	}
	if hasReq && hasDef && req.Cmp(def) > 0 {
		errs = append(errs, field.Invalid(p.Child("defaultRequest").Key(key), req, fmt.Sprintf("default request value %s is greater than default limit value %s", req.String(), def.String())))
	}
	if hasDef && hasMin && min.Cmp(def) > 0 {
		errs = append(errs, field.Invalid(p.Child("default").Key(key), min, fmt.Sprintf("min value %s is greater than default value %s", min.String(), def.String())))
	}
	if hasDef && hasMax && def.Cmp(max) > 0 {
		errs = append(errs, field.Invalid(p.Child("default").Key(key), max, fmt.Sprintf("default value %s is greater than max value %s", def.String(), max.String())))
	}
	if hasRatio && ratio.Cmp(*resource.NewQuantity(1, resource.DecimalSI)) < 0 {
		errs = append(errs, field.Invalid(p.Child("maxLimitRequestRatio").Key(key), ratio, fmt.Sprintf("ratio %s is less than 1", ratio.String())))
	}
	if hasRatio && hasMin && hasMax {
		r, lo, hi := float64(ratio.MilliValue())/1000, min.MilliValue(), max.MilliValue()
		if limit := float64(hi) / float64(lo); r > limit {
			errs = append(errs, field.Invalid(p.Child("maxLimitRequestRatio").Key(key), ratio, fmt.Sprintf("ratio %s is greater than max/min = %f", ratio.String(), limit)))
		}
	}
	if !podspec.IsOvercommitAllowed(k) && hasDef && hasReq && def.Cmp(req) != 0 {
		errs = append(errs, field.Invalid(p.Child("defaultRequest").Key(key), req, fmt.Sprintf("default value %s must equal to defaultRequest value %s in %s", def.String(), req.String(), key)))
	}
	return errs
}
