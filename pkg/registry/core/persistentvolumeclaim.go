package core

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/podspec"
)

// PersistentVolumeClaims is core/v1 persistentvolumeclaims.
func PersistentVolumeClaims() *registry.Resource {
	return &registry.Resource{
		Version: "v1", Name: "persistentvolumeclaims", Kind: "PersistentVolumeClaim", SingularName: "persistentvolumeclaim",
		ShortNames: []string{"pvc"}, Namespaced: true,
		New:       func() runtime.Object { return &corev1.PersistentVolumeClaim{} },
		NewList:   func() runtime.Object { return &corev1.PersistentVolumeClaimList{} },
		KeyPrefix: "persistentvolumeclaims",
		Status:    true,
		Strategy: &registry.Generic{
			Defaults: func(obj runtime.Object) {
				pvc := obj.(*corev1.PersistentVolumeClaim)
				podspec.DefaultClaimSpec(&pvc.Spec)
				if pvc.Status.Phase == "" {
					pvc.Status.Phase = corev1.ClaimPending
				}
			},
			Validation: func(obj runtime.Object) field.ErrorList {
				return podspec.ValidateClaimSpec(&obj.(*corev1.PersistentVolumeClaim).Spec, field.NewPath("spec"))
			},
			UpdateValidation: validatePVCUpdate,
			Create:           func(obj runtime.Object) { obj.(*corev1.PersistentVolumeClaim).Status.Phase = corev1.ClaimPending },
			NoGeneration:     true,
		},
		Table: &registry.Table{
			Cols: []metav1.TableColumnDefinition{registry.NameColumn,
				registry.Col("Status", "string", corev1.PersistentVolumeClaimStatus{}.SwaggerDoc()["phase"], 0),
				registry.Col("Volume", "string", corev1.PersistentVolumeClaimSpec{}.SwaggerDoc()["volumeName"], 0),
				registry.Col("Capacity", "string", corev1.PersistentVolumeClaimStatus{}.SwaggerDoc()["capacity"], 0),
				registry.Col("Access Modes", "string", corev1.PersistentVolumeClaimStatus{}.SwaggerDoc()["accessModes"], 0),
				registry.Col("StorageClass", "string", "StorageClass of the pvc", 0),
				registry.Col("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc", 0),
				registry.AgeColumn,
				registry.Col("VolumeMode", "string", corev1.PersistentVolumeClaimSpec{}.SwaggerDoc()["volumeMode"], 1)},
			Cells: func(obj runtime.Object) []interface{} {
				pvc := obj.(*corev1.PersistentVolumeClaim)
				phase := string(pvc.Status.Phase)
				if pvc.DeletionTimestamp != nil {
					phase = "Terminating"
				}
				capacity, modes := "", ""
				if pvc.Spec.VolumeName != "" {
					modes = accessModesString(pvc.Status.AccessModes)
					q := pvc.Status.Capacity[corev1.ResourceStorage]
					capacity = q.String()
				}
				class := ""
				if pvc.Spec.StorageClassName != nil {
					class = *pvc.Spec.StorageClassName
				} else {
					class = pvc.Annotations[corev1.BetaStorageClassAnnotation]
				}
				return []interface{}{pvc.Name, phase, pvc.Spec.VolumeName, capacity, modes, class,
					unsetOr(pvc.Spec.VolumeAttributesClassName), registry.Age(pvc.CreationTimestamp), volumeModeString(pvc.Spec.VolumeMode)}
			},
		},
	}
}

// validatePVCUpdate: a claim's spec is fixed, except binding a volume name once,
// growing a bound claim's storage request, and its attributes class.
func validatePVCUpdate(obj, old runtime.Object) field.ErrorList {
	pvc, oldPVC := obj.(*corev1.PersistentVolumeClaim), old.(*corev1.PersistentVolumeClaim)
	errs := podspec.ValidateClaimSpec(&pvc.Spec, field.NewPath("spec"))
	n, o := pvc.Spec.DeepCopy(), oldPVC.Spec.DeepCopy()
	if o.VolumeName == "" {
		o.VolumeName = n.VolumeName
	}
	if n.StorageClassName == nil && o.StorageClassName != nil && oldPVC.Annotations[corev1.BetaStorageClassAnnotation] == "" {
		n.StorageClassName = o.StorageClassName
	}
	if o.StorageClassName == nil && n.StorageClassName != nil && oldPVC.Annotations[corev1.BetaStorageClassAnnotation] == "" && oldPVC.Spec.VolumeName == "" {
		o.StorageClassName = n.StorageClassName // a claim may get a class set once, while unbound
	}
	bound := pvc.Status.Phase == corev1.ClaimBound
	if bound && n.Resources.Requests != nil {
		n.Resources.Requests[corev1.ResourceStorage] = oldPVC.Spec.Resources.Requests[corev1.ResourceStorage]
	}
	if bound {
		n.VolumeAttributesClassName = o.VolumeAttributesClassName
	}
	if !equality.Semantic.DeepEqual(*n, *o) {
		errs = append(errs, field.Forbidden(field.NewPath("spec"),
			fmt.Sprintf("spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n%v", podspec.SpecDiff(*o, *n))))
	}
	oldSize := oldPVC.Spec.Resources.Requests[corev1.ResourceStorage]
	newSize := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	if statusSize := oldPVC.Status.Capacity[corev1.ResourceStorage]; newSize.Cmp(oldSize) < 0 && newSize.Cmp(statusSize) <= 0 {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "resources", "requests", "storage"), "field can not be less than status.capacity"))
	}
	return append(errs, apivalidation.ValidateImmutableField(pvc.Spec.VolumeMode, oldPVC.Spec.VolumeMode, field.NewPath("volumeMode"))...)
}
