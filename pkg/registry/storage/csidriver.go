package storage

import (
	"strings"

	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
)

// Bounds on the service account tokens a CSI driver may ask for.
const (
	minTokenSeconds = 10 * 60
	maxTokenSeconds = 1 << 32
)

// CSIDrivers is storage.k8s.io/v1 csidrivers.
func CSIDrivers() *registry.Resource {
	return &registry.Resource{
		Group: group, Version: "v1", Name: "csidrivers", Kind: "CSIDriver", SingularName: "csidriver",
		New:       func() runtime.Object { return &storagev1.CSIDriver{} },
		NewList:   func() runtime.Object { return &storagev1.CSIDriverList{} },
		KeyPrefix: "csidrivers",
		Strategy: &registry.Generic{
			Defaults: defaultCSIDriver,
			Validation: func(obj runtime.Object) field.ErrorList {
				return validateCSIDriverSpec(&obj.(*storagev1.CSIDriver).Spec)
			},
			UpdateValidation: func(obj, old runtime.Object) field.ErrorList {
				d, od := obj.(*storagev1.CSIDriver), old.(*storagev1.CSIDriver)
				errs := validateCSIDriverSpec(&d.Spec)
				errs = append(errs, apivalidation.ValidateImmutableField(d.Spec.AttachRequired, od.Spec.AttachRequired, field.NewPath("spec", "attachedRequired"))...)
				return append(errs, apivalidation.ValidateImmutableField(d.Spec.VolumeLifecycleModes, od.Spec.VolumeLifecycleModes, field.NewPath("spec", "volumeLifecycleModes"))...)
			},
			// Upstream starts a driver at generation 0 and counts spec changes.
			Create: func(obj runtime.Object) { dropAllocatablePeriod(obj.(*storagev1.CSIDriver), nil) },
			Update: func(obj, old runtime.Object) {
				d, od := obj.(*storagev1.CSIDriver), old.(*storagev1.CSIDriver)
				dropAllocatablePeriod(d, od)
				d.Generation = od.Generation
				if !equality.Semantic.DeepEqual(d.Spec, od.Spec) {
					d.Generation++
				}
			},
			NoStatusSplit: true,
			NoGeneration:  true,
		},
		Table: csiDriverTable(),
	}
}

// dropAllocatablePeriod clears a field of a feature upstream keeps off by
// default, unless the stored driver uses it.
func dropAllocatablePeriod(d, old *storagev1.CSIDriver) {
	if old == nil || old.Spec.NodeAllocatableUpdatePeriodSeconds == nil {
		d.Spec.NodeAllocatableUpdatePeriodSeconds = nil
	}
}

func defaultCSIDriver(obj runtime.Object) {
	s := &obj.(*storagev1.CSIDriver).Spec
	for _, b := range []struct {
		p   **bool
		def bool
	}{{&s.AttachRequired, true}, {&s.PodInfoOnMount, false}, {&s.StorageCapacity, false}, {&s.RequiresRepublish, false}, {&s.SELinuxMount, false}} {
		if *b.p == nil {
			v := b.def
			*b.p = &v
		}
	}
	if s.FSGroupPolicy == nil {
		p := storagev1.ReadWriteOnceWithFSTypeFSGroupPolicy
		s.FSGroupPolicy = &p
	}
	if len(s.VolumeLifecycleModes) == 0 {
		s.VolumeLifecycleModes = []storagev1.VolumeLifecycleMode{storagev1.VolumeLifecyclePersistent}
	}
}

var fsGroupPolicies = []storagev1.FSGroupPolicy{storagev1.FileFSGroupPolicy, storagev1.NoneFSGroupPolicy, storagev1.ReadWriteOnceWithFSTypeFSGroupPolicy}

func validateCSIDriverSpec(s *storagev1.CSIDriverSpec) field.ErrorList {
	fld := field.NewPath("spec")
	var errs field.ErrorList
	for _, r := range []struct {
		name string
		set  bool
	}{{"attachedRequired", s.AttachRequired != nil}, {"podInfoOnMount", s.PodInfoOnMount != nil}, {"storageCapacity", s.StorageCapacity != nil}} {
		if !r.set {
			errs = append(errs, field.Required(fld.Child(r.name), ""))
		}
	}
	if p := s.FSGroupPolicy; p != nil && *p != storagev1.ReadWriteOnceWithFSTypeFSGroupPolicy && *p != storagev1.FileFSGroupPolicy && *p != storagev1.NoneFSGroupPolicy {
		errs = append(errs, field.NotSupported(fld.Child("fsGroupPolicy"), p, fsGroupPolicies))
	}
	audiences := map[string]bool{}
	for i, t := range s.TokenRequests {
		f := fld.Child("tokenRequests").Index(i)
		if audiences[t.Audience] {
			errs = append(errs, field.Duplicate(f.Child("audience"), t.Audience))
			continue
		}
		audiences[t.Audience] = true
		if t.ExpirationSeconds == nil {
			continue
		}
		if *t.ExpirationSeconds < minTokenSeconds {
			errs = append(errs, field.Invalid(f.Child("expirationSeconds"), *t.ExpirationSeconds, "may not specify a duration less than 10 minutes"))
		}
		if *t.ExpirationSeconds > maxTokenSeconds {
			errs = append(errs, field.Invalid(f.Child("expirationSeconds"), *t.ExpirationSeconds, "may not specify a duration larger than 2^32 seconds"))
		}
	}
	for _, m := range s.VolumeLifecycleModes {
		if m != storagev1.VolumeLifecyclePersistent && m != storagev1.VolumeLifecycleEphemeral {
			errs = append(errs, field.NotSupported(fld.Child("volumeLifecycleModes"), m,
				[]storagev1.VolumeLifecycleMode{storagev1.VolumeLifecyclePersistent, storagev1.VolumeLifecycleEphemeral}))
		}
	}
	if s.SELinuxMount == nil {
		errs = append(errs, field.Required(fld.Child("seLinuxMount"), ""))
	}
	if p := s.NodeAllocatableUpdatePeriodSeconds; p != nil && *p < 10 {
		errs = append(errs, field.Invalid(fld.Child("nodeAllocatableUpdatePeriodSeconds"), *p, "must be greater than or equal to 10 seconds"))
	}
	return errs
}

func csiDriverTable() *registry.Table {
	doc := storagev1.CSIDriverSpec{}.SwaggerDoc()
	return &registry.Table{
		Cols: []metav1.TableColumnDefinition{registry.NameColumn,
			registry.Col("AttachRequired", "boolean", doc["attachRequired"], 0),
			registry.Col("PodInfoOnMount", "boolean", doc["podInfoOnMount"], 0),
			registry.Col("StorageCapacity", "boolean", doc["storageCapacity"], 0),
			registry.Col("TokenRequests", "string", doc["tokenRequests"], 0),
			registry.Col("RequiresRepublish", "boolean", doc["requiresRepublish"], 0),
			registry.Col("Modes", "string", doc["volumeLifecycleModes"], 0),
			registry.AgeColumn,
		},
		Cells: func(obj runtime.Object) []interface{} {
			d := obj.(*storagev1.CSIDriver)
			s := d.Spec
			deref := func(p *bool, def bool) bool {
				if p == nil {
					return def
				}
				return *p
			}
			var modes []string
			for _, m := range s.VolumeLifecycleModes {
				modes = append(modes, string(m))
			}
			modeCell := strings.Join(modes, ",")
			if modeCell == "" {
				modeCell = "<none>"
			}
			tokens := "<unset>"
			if s.TokenRequests != nil {
				var audiences []string
				for _, t := range s.TokenRequests {
					audiences = append(audiences, t.Audience)
				}
				tokens = strings.Join(audiences, ",")
			}
			return []interface{}{d.Name, deref(s.AttachRequired, true), deref(s.PodInfoOnMount, false), deref(s.StorageCapacity, false),
				tokens, deref(s.RequiresRepublish, false), modeCell, registry.Age(d.CreationTimestamp)}
		},
	}
}
