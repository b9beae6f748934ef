package storage

import (
	"reflect"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
)

// Annotations that make a StorageClass the default one.
const (
	IsDefaultAnnotation     = "storageclass.kubernetes.io/is-default-class"
	betaIsDefaultAnnotation = "storageclass.beta.kubernetes.io/is-default-class"
)

// StorageClasses is storage.k8s.io/v1 storageclasses.
func StorageClasses() *registry.Resource {
	return &registry.Resource{
		Group: group, Version: "v1", Name: "storageclasses", Kind: "StorageClass", SingularName: "storageclass",
		DeleteReturnsObject: true,
		ShortNames:          []string{"sc"},
		New:                 func() runtime.Object { return &storagev1.StorageClass{} },
		NewList:             func() runtime.Object { return &storagev1.StorageClassList{} },
		KeyPrefix:           "storageclasses",
		Strategy: &registry.Generic{
			Defaults:         defaultStorageClass,
			Validation:       func(obj runtime.Object) field.ErrorList { return validateStorageClass(obj.(*storagev1.StorageClass)) },
			UpdateValidation: validateStorageClassUpdate,
			NoStatusSplit:    true,
			NoGeneration:     true,
		},
		Table: &registry.Table{
			Cols: []metav1.TableColumnDefinition{registry.NameColumn,
				registry.Col("Provisioner", "string", storagev1.StorageClass{}.SwaggerDoc()["provisioner"], 0),
				registry.Col("ReclaimPolicy", "string", storagev1.StorageClass{}.SwaggerDoc()["reclaimPolicy"], 0),
				registry.Col("VolumeBindingMode", "string", storagev1.StorageClass{}.SwaggerDoc()["volumeBindingMode"], 0),
				registry.Col("AllowVolumeExpansion", "string", storagev1.StorageClass{}.SwaggerDoc()["allowVolumeExpansion"], 0),
				registry.AgeColumn,
			},
			Cells: func(obj runtime.Object) []interface{} {
				sc := obj.(*storagev1.StorageClass)
				name := sc.Name
				if IsDefaultClass(sc) {
					name += " (default)"
				}
				reclaim := string(corev1.PersistentVolumeReclaimDelete)
				if sc.ReclaimPolicy != nil {
					reclaim = string(*sc.ReclaimPolicy)
				}
				mode := string(storagev1.VolumeBindingImmediate)
				if sc.VolumeBindingMode != nil {
					mode = string(*sc.VolumeBindingMode)
				}
				expand := sc.AllowVolumeExpansion != nil && *sc.AllowVolumeExpansion
				return []interface{}{name, sc.Provisioner, reclaim, mode, expand, registry.Age(sc.CreationTimestamp)}
			},
		},
	}
}

// IsDefaultClass reports whether a StorageClass is marked as the default.
func IsDefaultClass(sc *storagev1.StorageClass) bool {
	return sc.Annotations[IsDefaultAnnotation] == "true" || sc.Annotations[betaIsDefaultAnnotation] == "true"
}

func defaultStorageClass(obj runtime.Object) {
	sc := obj.(*storagev1.StorageClass)
	if sc.ReclaimPolicy == nil {
		p := corev1.PersistentVolumeReclaimDelete
		sc.ReclaimPolicy = &p
	}
	if sc.VolumeBindingMode == nil {
		m := storagev1.VolumeBindingImmediate
		sc.VolumeBindingMode = &m
	}
}

var (
	reclaimPolicies = []corev1.PersistentVolumeReclaimPolicy{corev1.PersistentVolumeReclaimDelete, corev1.PersistentVolumeReclaimRetain}
	bindingModes    = []storagev1.VolumeBindingMode{storagev1.VolumeBindingImmediate, storagev1.VolumeBindingWaitForFirstConsumer}
)

func validateStorageClass(sc *storagev1.StorageClass) field.ErrorList {
	errs := validateProvisioner(sc.Provisioner, field.NewPath("provisioner"))
	errs = append(errs, validateParameters(sc.Parameters, true, field.NewPath("parameters"))...)
	if p := sc.ReclaimPolicy; p != nil && *p != "" && *p != corev1.PersistentVolumeReclaimDelete && *p != corev1.PersistentVolumeReclaimRetain {
		errs = append(errs, field.NotSupported(field.NewPath("reclaimPolicy"), p, reclaimPolicies))
	}
	switch m := sc.VolumeBindingMode; {
	case m == nil:
		errs = append(errs, field.Required(field.NewPath("volumeBindingMode"), ""))
	case *m != storagev1.VolumeBindingImmediate && *m != storagev1.VolumeBindingWaitForFirstConsumer:
		errs = append(errs, field.NotSupported(field.NewPath("volumeBindingMode"), m, bindingModes))
	}
	return append(errs, validateAllowedTopologies(sc.AllowedTopologies, field.NewPath("allowedTopologies"))...)
}

// validateStorageClassUpdate: only metadata and volume expansion may change.
func validateStorageClassUpdate(obj, old runtime.Object) field.ErrorList {
	sc, osc := obj.(*storagev1.StorageClass), old.(*storagev1.StorageClass)
	var errs field.ErrorList
	if !reflect.DeepEqual(osc.Parameters, sc.Parameters) {
		errs = append(errs, field.Forbidden(field.NewPath("parameters"), "updates to parameters are forbidden."))
	}
	if sc.Provisioner != osc.Provisioner {
		errs = append(errs, field.Forbidden(field.NewPath("provisioner"), "updates to provisioner are forbidden."))
	}
	if sc.ReclaimPolicy != nil && osc.ReclaimPolicy != nil && *sc.ReclaimPolicy != *osc.ReclaimPolicy {
		errs = append(errs, field.Forbidden(field.NewPath("reclaimPolicy"), "updates to reclaimPolicy are forbidden."))
	}
	return append(errs, apivalidation.ValidateImmutableField(sc.VolumeBindingMode, osc.VolumeBindingMode, field.NewPath("volumeBindingMode"))...)
}

func validateAllowedTopologies(terms []corev1.TopologySelectorTerm, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	var seen []map[string][]string
	for i, term := range terms {
		ef := fld.Index(i).Child("matchLabelExpressions")
		raw := map[string][]string{}
		for j, req := range term.MatchLabelExpressions {
			rf := ef.Index(j)
			if len(req.Values) == 0 {
				errs = append(errs, field.Required(rf.Child("values"), ""))
			}
			values := map[string]bool{}
			for k, v := range req.Values {
				if values[v] {
					errs = append(errs, field.Duplicate(rf.Child("values").Index(k), v))
				}
				values[v] = true
			}
			errs = append(errs, metavalidation.ValidateLabelName(req.Key, rf.Child("key"))...)
			if _, dup := raw[req.Key]; dup {
				errs = append(errs, field.Duplicate(rf.Child("key"), req.Key))
			}
			raw[req.Key] = sortedKeys(values)
		}
		for _, s := range seen {
			if reflect.DeepEqual(s, raw) {
				errs = append(errs, field.Duplicate(ef, ""))
			}
		}
		seen = append(seen, raw)
	}
	return errs
}
