package storage

import (
	"reflect"
	"sort"

	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
)

// VolumeAttributesClasses is storage.k8s.io/v1 volumeattributesclasses:
// mutable volume settings a claim can switch between.
func VolumeAttributesClasses() *registry.Resource {
	return &registry.Resource{
		Group: group, Version: "v1", Name: "volumeattributesclasses", Kind: "VolumeAttributesClass",
		SingularName: "volumeattributesclass", ShortNames: []string{"vac"},
		New:       func() runtime.Object { return &storagev1.VolumeAttributesClass{} },
		NewList:   func() runtime.Object { return &storagev1.VolumeAttributesClassList{} },
		KeyPrefix: "volumeattributesclasses",
		// Upstream still stores v1beta1 and advertises that version's hash.
		StorageVersionHash: "Bl3MtjZ/n/s=",
		Strategy: &registry.Generic{
			Validation: func(obj runtime.Object) field.ErrorList {
				return validateVolumeAttributesClass(obj.(*storagev1.VolumeAttributesClass))
			},
			UpdateValidation: func(obj, old runtime.Object) field.ErrorList {
				c, oc := obj.(*storagev1.VolumeAttributesClass), old.(*storagev1.VolumeAttributesClass)
				var errs field.ErrorList
				if c.DriverName != oc.DriverName {
					errs = append(errs, field.Forbidden(field.NewPath("driverName"), "updates to driverName are forbidden."))
				}
				if !reflect.DeepEqual(oc.Parameters, c.Parameters) {
					errs = append(errs, field.Forbidden(field.NewPath("parameters"), "updates to parameters are forbidden."))
				}
				return append(errs, validateVolumeAttributesClass(c)...)
			},
			NoStatusSplit: true,
			NoGeneration:  true,
		},
		Table: &registry.Table{
			Cols: []metav1.TableColumnDefinition{registry.NameColumn,
				registry.Col("DriverName", "string", storagev1.VolumeAttributesClass{}.SwaggerDoc()["driverName"], 0),
				registry.AgeColumn,
			},
			Cells: func(obj runtime.Object) []interface{} {
				c := obj.(*storagev1.VolumeAttributesClass)
				return []interface{}{c.Name, c.DriverName, registry.Age(c.CreationTimestamp)}
			},
		},
	}
}

func validateVolumeAttributesClass(c *storagev1.VolumeAttributesClass) field.ErrorList {
	errs := validateProvisioner(c.DriverName, field.NewPath("driverName"))
	return append(errs, validateParameters(c.Parameters, false, field.NewPath("parameters"))...)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
