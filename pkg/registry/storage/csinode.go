package storage

import (
	"fmt"

	storagev1 "k8s.io/api/storage/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/podspec"
)

// Node IDs are usually 192 characters at most; stored objects may have 256.
const (
	maxNodeIDLength     = 192
	maxLongNodeIDLength = 256
)

// CSINodes is storage.k8s.io/v1 csinodes: the CSI drivers on each node, named
// after the node.
func CSINodes() *registry.Resource {
	return &registry.Resource{
		Group: group, Version: "v1", Name: "csinodes", Kind: "CSINode", SingularName: "csinode",
		New:       func() runtime.Object { return &storagev1.CSINode{} },
		NewList:   func() runtime.Object { return &storagev1.CSINodeList{} },
		KeyPrefix: "csinodes",
		Strategy: &registry.Generic{
			Validation: func(obj runtime.Object) field.ErrorList {
				return validateCSINodeDrivers(obj.(*storagev1.CSINode).Spec.Drivers, maxNodeIDLength)
			},
			UpdateValidation: func(obj, old runtime.Object) field.ErrorList {
				n, on := obj.(*storagev1.CSINode), old.(*storagev1.CSINode)
				limit := maxNodeIDLength
				for _, d := range on.Spec.Drivers {
					if len(d.NodeID) > maxNodeIDLength {
						limit = maxLongNodeIDLength
					}
				}
				errs := validateCSINodeDrivers(n.Spec.Drivers, limit)
				for _, od := range on.Spec.Drivers {
					for _, d := range n.Spec.Drivers {
						if d.Name == od.Name {
							errs = append(errs, apivalidation.ValidateImmutableField(d, od, field.NewPath("spec", "drivers"))...)
						}
					}
				}
				return errs
			},
			NoStatusSplit: true,
			NoGeneration:  true,
		},
		Table: &registry.Table{
			Cols: []metav1.TableColumnDefinition{registry.NameColumn,
				registry.Col("Drivers", "integer", "Drivers indicates the number of CSI drivers registered on the node", 0),
				registry.AgeColumn,
			},
			Cells: func(obj runtime.Object) []interface{} {
				n := obj.(*storagev1.CSINode)
				return []interface{}{n.Name, int64(len(n.Spec.Drivers)), registry.Age(n.CreationTimestamp)}
			},
		},
	}
}

func validateCSINodeDrivers(drivers []storagev1.CSINodeDriver, maxNodeID int) field.ErrorList {
	var errs field.ErrorList
	names := map[string]bool{}
	for i, d := range drivers {
		f := field.NewPath("spec", "drivers").Index(i)
		errs = append(errs, validateCSIDriverName(d.Name, f.Child("name"))...)
		if d.NodeID == "" {
			errs = append(errs, field.Required(f.Child("nodeID"), d.NodeID))
		}
		if len(d.NodeID) > maxNodeID {
			errs = append(errs, field.Invalid(f.Child("nodeID"), d.NodeID, fmt.Sprintf("must be %d characters or less", maxNodeID)))
		}
		if d.Allocatable != nil && d.Allocatable.Count != nil {
			errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*d.Allocatable.Count), f.Child("allocatable", "count"))...)
		}
		if names[d.Name] {
			errs = append(errs, field.Duplicate(f.Child("name"), d.Name))
		}
		names[d.Name] = true
		keys := map[string]bool{}
		for _, k := range d.TopologyKeys {
			if k == "" {
				errs = append(errs, field.Required(f, k))
			}
			if keys[k] {
				errs = append(errs, field.Duplicate(f, k))
			}
			keys[k] = true
			errs = append(errs, podspec.QualifiedName(k, f)...)
		}
	}
	return errs
}
