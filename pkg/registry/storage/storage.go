// Package storage describes the storage.k8s.io/v1 resources: StorageClasses,
// VolumeAttributesClasses, CSIDrivers, CSINodes, CSIStorageCapacities and
// VolumeAttachments.
package storage

import (
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/podspec"
)

const group = "storage.k8s.io"

// Limits on class parameters.
const (
	maxParameterSize  = 256 * (1 << 10)
	maxParameterCount = 512
)

// Resources returns every storage.k8s.io/v1 resource.
func Resources() []*registry.Resource {
	return []*registry.Resource{StorageClasses(), VolumeAttributesClasses(), CSIDrivers(), CSINodes(),
		CSIStorageCapacities(), VolumeAttachments()}
}

// validateProvisioner checks a driver or provisioner name.
func validateProvisioner(name string, fld *field.Path) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(fld, name)}
	}
	return podspec.QualifiedName(strings.ToLower(name), fld)
}

// validateParameters bounds a class's opaque parameters.
func validateParameters(params map[string]string, allowEmpty bool, fld *field.Path) field.ErrorList {
	if len(params) > maxParameterCount {
		return field.ErrorList{field.TooLong(fld, "", maxParameterCount)}
	}
	var errs field.ErrorList
	size := 0
	for k, v := range params {
		if k == "" {
			errs = append(errs, field.Invalid(fld, k, "field can not be empty."))
		}
		size += len(k) + len(v)
	}
	if size > maxParameterSize {
		errs = append(errs, field.TooLong(fld, "", maxParameterSize))
	}
	if !allowEmpty && len(params) == 0 {
		errs = append(errs, field.Required(fld, "must contain at least one key/value pair"))
	}
	return errs
}

// validateCSIDriverName checks the name of a CSI driver as nodes register it.
func validateCSIDriverName(name string, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if name == "" {
		errs = append(errs, field.Required(fld, ""))
	}
	if len(name) > 63 {
		errs = append(errs, field.TooLong(fld, "", 63))
	}
	return append(errs, podspec.DNS1123Subdomain(strings.ToLower(name), fld)...)
}
