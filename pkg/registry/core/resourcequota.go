package core

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/podspec"
)

// ResourceQuotas is core/v1 resourcequotas; the quota controller writes status.
func ResourceQuotas() *registry.Resource {
	return &registry.Resource{
		Version: "v1", Name: "resourcequotas", Kind: "ResourceQuota", SingularName: "resourcequota", ShortNames: []string{"quota"},
		Namespaced: true,
		New:        func() runtime.Object { return &corev1.ResourceQuota{} },
		NewList:    func() runtime.Object { return &corev1.ResourceQuotaList{} },
		KeyPrefix:  "resourcequotas",
		Status:     true,
		Strategy: &registry.Generic{
			Defaults:         func(obj runtime.Object) { defaultQuota(obj.(*corev1.ResourceQuota)) },
			Validation:       func(obj runtime.Object) field.ErrorList { return validateQuotaSpec(&obj.(*corev1.ResourceQuota).Spec) },
			UpdateValidation: validateQuotaUpdate,
			StatusValidation: validateQuotaStatus,
			NoGeneration:     true,
		},
		Table: &registry.Table{
			Cols: []metav1.TableColumnDefinition{registry.NameColumn,
				registry.Col("Request", "string", "Request represents a minimum amount of cpu/memory that a container may consume.", 0),
				registry.Col("Limit", "string", "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.", 0),
				registry.AgeColumn},
			Cells: func(obj runtime.Object) []interface{} {
				q := obj.(*corev1.ResourceQuota)
				req, lim := quotaColumns(q)
				return []interface{}{q.Name, req, lim, registry.Age(q.CreationTimestamp)}
			},
		},
	}
}

func defaultQuota(q *corev1.ResourceQuota) {
	roundList(q.Spec.Hard)
	roundList(q.Status.Hard)
	roundList(q.Status.Used)
}

// roundList rounds quantities up to milli precision, as upstream's defaulter does.
func roundList(list corev1.ResourceList) {
	for k, v := range list {
		v.RoundUp(-3)
		list[k] = v
	}
}

// quotaColumns prints "name: used/hard" pairs, limits.* in the second column.
func quotaColumns(q *corev1.ResourceQuota) (string, string) {
	names := make([]string, 0, len(q.Status.Hard))
	for n := range q.Status.Hard {
		names = append(names, string(n))
	}
	sort.Strings(names)
	var req, lim []string
	for _, n := range names {
		used := q.Status.Used[corev1.ResourceName(n)]
		hard := q.Status.Hard[corev1.ResourceName(n)]
		cell := fmt.Sprintf("%s: %s/%s", n, used.String(), hard.String())
		if strings.HasPrefix(n, "limits.") {
			lim = append(lim, cell)
		} else {
			req = append(req, cell)
		}
	}
	return strings.Join(req, ", "), strings.Join(lim, ", ")
}

var (
	quotaScopes = sets.New(corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating,
		corev1.ResourceQuotaScopeBestEffort, corev1.ResourceQuotaScopeNotBestEffort, corev1.ResourceQuotaScopePriorityClass,
		corev1.ResourceQuotaScopeVolumeAttributesClass, corev1.ResourceQuotaScopeCrossNamespacePodAffinity)
	podComputeResources = sets.New(corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory,
		corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory)
	conflictingScopes = [][2]corev1.ResourceQuotaScope{
		{corev1.ResourceQuotaScopeBestEffort, corev1.ResourceQuotaScopeNotBestEffort},
		{corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating},
	}
)

// scopeFits reports whether a scope may limit a resource.
func scopeFits(scope corev1.ResourceQuotaScope, name corev1.ResourceName) bool {
	switch scope {
	case corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating, corev1.ResourceQuotaScopeNotBestEffort,
		corev1.ResourceQuotaScopePriorityClass, corev1.ResourceQuotaScopeCrossNamespacePodAffinity:
		return name == corev1.ResourcePods || podComputeResources.Has(name)
	case corev1.ResourceQuotaScopeBestEffort:
		return name == corev1.ResourcePods
	case corev1.ResourceQuotaScopeVolumeAttributesClass:
		return name == corev1.ResourcePersistentVolumeClaims || name == corev1.ResourceRequestsStorage
	}
	return true
}

func validateQuotaResources(list corev1.ResourceList, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, n := range sortedResourceNames(list) {
		p := fld.Key(string(n))
		errs = append(errs, podspec.ValidateResourceName(n, p)...)
		if !strings.Contains(string(n), "/") && !podspec.IsStandardQuotaResource(n) {
			errs = append(errs, field.Invalid(p, n, "must be a standard resource for quota"))
		}
		errs = append(errs, podspec.ValidateQuantity(n, list[n], p)...)
	}
	return errs
}

func sortedResourceNames(list corev1.ResourceList) []corev1.ResourceName {
	names := sets.New[corev1.ResourceName]()
	for n := range list {
		names.Insert(n)
	}
	return sets.List(names)
}

func validateQuotaSpec(spec *corev1.ResourceQuotaSpec) field.ErrorList {
	fld := field.NewPath("spec")
	errs := validateQuotaResources(spec.Hard, fld.Child("hard"))
	hard := sortedResourceNames(spec.Hard)
	if len(spec.Scopes) > 0 {
		p := fld.Child("scopes")
		seen := sets.New[corev1.ResourceQuotaScope]()
		for _, s := range spec.Scopes {
			if !quotaScopes.Has(s) {
				errs = append(errs, field.Invalid(p, spec.Scopes, "unsupported scope"))
			}
			for _, n := range hard {
				if podspec.IsStandardQuotaResource(n) && !scopeFits(s, n) {
					errs = append(errs, field.Invalid(p, spec.Scopes, "unsupported scope applied to resource"))
				}
			}
			seen.Insert(s)
		}
		for _, pair := range conflictingScopes {
			if seen.HasAll(pair[0], pair[1]) {
				errs = append(errs, field.Invalid(p, spec.Scopes, "conflicting scopes"))
			}
		}
	}
	if sel := spec.ScopeSelector; sel != nil {
		p := fld.Child("scopeSelector", "matchExpressions")
		seen := sets.New[corev1.ResourceQuotaScope]()
		for _, req := range sel.MatchExpressions {
			if !quotaScopes.Has(req.ScopeName) {
				errs = append(errs, field.Invalid(p.Child("scopeName"), req.ScopeName, "unsupported scope"))
			}
			for _, n := range hard {
				if podspec.IsStandardQuotaResource(n) && !scopeFits(req.ScopeName, n) {
					errs = append(errs, field.Invalid(p, podspec.GoNamed(sel), "unsupported scope applied to resource"))
				}
			}
			switch req.ScopeName {
			case corev1.ResourceQuotaScopeBestEffort, corev1.ResourceQuotaScopeNotBestEffort, corev1.ResourceQuotaScopeTerminating,
				corev1.ResourceQuotaScopeNotTerminating, corev1.ResourceQuotaScopeCrossNamespacePodAffinity:
				if req.Operator != corev1.ScopeSelectorOpExists {
					errs = append(errs, field.Invalid(p.Child("operator"), req.Operator,
						"must be 'Exists' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity"))
				}
			}
			switch req.Operator {
			case corev1.ScopeSelectorOpIn, corev1.ScopeSelectorOpNotIn:
				if len(req.Values) == 0 {
					errs = append(errs, field.Required(p.Child("values"), "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"))
				}
			case corev1.ScopeSelectorOpExists, corev1.ScopeSelectorOpDoesNotExist:
				if len(req.Values) != 0 {
					errs = append(errs, field.Invalid(p.Child("values"), req.Values, "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"))
				}
			default:
				errs = append(errs, field.Invalid(p.Child("operator"), req.Operator, "not a valid selector operator"))
			}
			seen.Insert(req.ScopeName)
		}
		for _, pair := range conflictingScopes {
			if seen.HasAll(pair[0], pair[1]) {
				errs = append(errs, field.Invalid(p, spec.Scopes, "conflicting scopes"))
			}
		}
	}
	return errs
}

func validateQuotaUpdate(obj, old runtime.Object) field.ErrorList {
	q, oldQ := obj.(*corev1.ResourceQuota), old.(*corev1.ResourceQuota)
	errs := validateQuotaSpec(&q.Spec)
	newScopes, oldScopes := sets.New(q.Spec.Scopes...), sets.New(oldQ.Spec.Scopes...)
	if !newScopes.Equal(oldScopes) {
		errs = append(errs, field.Invalid(field.NewPath("spec", "scopes"), q.Spec.Scopes, apivalidation.FieldImmutableErrorMsg))
	}
	return errs
}

func validateQuotaStatus(obj, _ runtime.Object) field.ErrorList {
	q := obj.(*corev1.ResourceQuota)
	errs := validateQuotaResources(q.Status.Hard, field.NewPath("status", "hard"))
	return append(errs, validateQuotaResources(q.Status.Used, field.NewPath("status", "used"))...)
}
