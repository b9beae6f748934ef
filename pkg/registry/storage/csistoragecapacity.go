package storage

import (
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
)

// CSIStorageCapacities is storage.k8s.io/v1 csistoragecapacities. Upstream
// prints them with the default columns.
func CSIStorageCapacities() *registry.Resource {
	return &registry.Resource{
		Group: group, Version: "v1", Name: "csistoragecapacities", Kind: "CSIStorageCapacity", SingularName: "csistoragecapacity",
		Namespaced: true,
		New:        func() runtime.Object { return &storagev1.CSIStorageCapacity{} },
		NewList:    func() runtime.Object { return &storagev1.CSIStorageCapacityList{} },
		KeyPrefix:  "csistoragecapacities",
		Strategy: &registry.Generic{
			Validation: func(obj runtime.Object) field.ErrorList {
				return validateCapacity(obj.(*storagev1.CSIStorageCapacity), metavalidation.LabelSelectorValidationOptions{})
			},
			UpdateValidation: func(obj, old runtime.Object) field.ErrorList {
				c, oc := obj.(*storagev1.CSIStorageCapacity), old.(*storagev1.CSIStorageCapacity)
				errs := validateCapacity(c, metavalidation.LabelSelectorValidationOptions{
					AllowInvalidLabelValueInSelector: metavalidation.LabelSelectorHasInvalidLabelValue(oc.NodeTopology)})
				if !equality.Semantic.DeepEqual(c.NodeTopology, oc.NodeTopology) {
					errs = append(errs, field.Invalid(field.NewPath("nodeTopology"), c.NodeTopology, "field is immutable"))
				}
				if c.StorageClassName != oc.StorageClassName {
					errs = append(errs, field.Invalid(field.NewPath("storageClassName"), c.StorageClassName, "field is immutable"))
				}
				return errs
			},
			NoStatusSplit: true,
			NoGeneration:  true,
		},
	}
}

func validateCapacity(c *storagev1.CSIStorageCapacity, opts metavalidation.LabelSelectorValidationOptions) field.ErrorList {
	errs := metavalidation.ValidateLabelSelector(c.NodeTopology, opts, field.NewPath("nodeTopology"))
	for _, msg := range apivalidation.NameIsDNSSubdomain(c.StorageClassName, false) {
		errs = append(errs, field.Invalid(field.NewPath("storageClassName"), c.StorageClassName, msg))
	}
	if c.Capacity != nil && c.Capacity.Sign() < 0 {
		errs = append(errs, field.Invalid(field.NewPath("capacity"), c.Capacity.String(), "must be greater than or equal to 0"))
	}
	return errs
}
