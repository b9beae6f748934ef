package storage

import (
	"math"

	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/badvalue"
)

// Bounds on what an attacher reports.
const (
	maxAttachmentMetadataSize = 256 * (1 << 10)
	maxVolumeErrorMessageSize = 1024
)

// VolumeAttachments is storage.k8s.io/v1 volumeattachments.
func VolumeAttachments() *registry.Resource {
	return &registry.Resource{
		Group: group, Version: "v1", Name: "volumeattachments", Kind: "VolumeAttachment", SingularName: "volumeattachment",
		New:       func() runtime.Object { return &storagev1.VolumeAttachment{} },
		NewList:   func() runtime.Object { return &storagev1.VolumeAttachmentList{} },
		KeyPrefix: "volumeattachments",
		Status:    true,
		Strategy: &registry.Generic{
			Validation: func(obj runtime.Object) field.ErrorList {
				return validateVolumeAttachment(obj.(*storagev1.VolumeAttachment))
			},
			UpdateValidation: func(obj, old runtime.Object) field.ErrorList {
				va, ova := obj.(*storagev1.VolumeAttachment), old.(*storagev1.VolumeAttachment)
				errs := validateVolumeAttachment(va)
				if !equality.Semantic.DeepEqual(ova.Spec, va.Spec) {
					errs = append(errs, field.Invalid(field.NewPath("spec"), badvalue.Internal(va.Spec), "field is immutable"))
				}
				return errs
			},
			StatusValidation: func(obj, _ runtime.Object) field.ErrorList {
				return validateAttachmentStatus(&obj.(*storagev1.VolumeAttachment).Status)
			},
			NoGeneration: true,
		},
		Table: &registry.Table{
			Cols: []metav1.TableColumnDefinition{registry.NameColumn,
				{Name: "Attacher", Type: "string", Format: "name", Description: storagev1.VolumeAttachmentSpec{}.SwaggerDoc()["attacher"]},
				registry.Col("PV", "string", storagev1.VolumeAttachmentSource{}.SwaggerDoc()["persistentVolumeName"], 0),
				registry.Col("Node", "string", storagev1.VolumeAttachmentSpec{}.SwaggerDoc()["nodeName"], 0),
				registry.Col("Attached", "boolean", storagev1.VolumeAttachmentStatus{}.SwaggerDoc()["attached"], 0),
				registry.AgeColumn,
			},
			Cells: func(obj runtime.Object) []interface{} {
				va := obj.(*storagev1.VolumeAttachment)
				pv := ""
				if va.Spec.Source.PersistentVolumeName != nil {
					pv = *va.Spec.Source.PersistentVolumeName
				}
				return []interface{}{va.Name, va.Spec.Attacher, pv, va.Spec.NodeName, va.Status.Attached, registry.Age(va.CreationTimestamp)}
			},
		},
	}
}

// validateVolumeAttachment checks a spec; an inline volume spec is accepted as
// it is.
func validateVolumeAttachment(va *storagev1.VolumeAttachment) field.ErrorList {
	fld := field.NewPath("spec")
	var errs field.ErrorList
	if va.Spec.Attacher == "" {
		errs = append(errs, field.Required(fld.Child("attacher"), ""))
	}
	src := va.Spec.Source
	sf := fld.Child("source")
	switch {
	case src.InlineVolumeSpec == nil && src.PersistentVolumeName == nil:
		errs = append(errs, field.Required(sf, "must specify exactly one of inlineVolumeSpec and persistentVolumeName"))
	case src.InlineVolumeSpec != nil && src.PersistentVolumeName != nil:
		errs = append(errs, field.Forbidden(sf, "must specify exactly one of inlineVolumeSpec and persistentVolumeName"))
	case src.PersistentVolumeName != nil && *src.PersistentVolumeName == "":
		errs = append(errs, field.Required(sf.Child("persistentVolumeName"), "must specify non empty persistentVolumeName"))
	}
	for _, msg := range apivalidation.NameIsDNSSubdomain(va.Spec.NodeName, false) {
		errs = append(errs, field.Invalid(fld.Child("nodeName"), va.Spec.NodeName, msg))
	}
	errs = append(errs, validateAttachmentStatus(&va.Status)...)
	errs = append(errs, validateCSIDriverName(va.Spec.Attacher, field.NewPath("spec.attacher"))...)
	if pv := src.PersistentVolumeName; pv != nil {
		for _, msg := range apivalidation.NameIsDNSSubdomain(*pv, false) {
			errs = append(errs, field.Invalid(field.NewPath("spec.source.persistentVolumeName"), *pv, msg))
		}
	}
	return errs
}

func validateAttachmentStatus(s *storagev1.VolumeAttachmentStatus) field.ErrorList {
	fld := field.NewPath("status")
	var errs field.ErrorList
	size := 0
	for k, v := range s.AttachmentMetadata {
		size += len(k) + len(v)
	}
	if size > maxAttachmentMetadataSize {
		errs = append(errs, field.TooLong(fld.Child("attachmentMetadata"), "", maxAttachmentMetadataSize))
	}
	for _, e := range []struct {
		name string
		err  *storagev1.VolumeError
	}{{"attachError", s.AttachError}, {"detachError", s.DetachError}} {
		if e.err == nil {
			continue
		}
		if len(e.err.Message) > maxVolumeErrorMessageSize {
			errs = append(errs, field.TooLong(fld.Child(e.name, "message"), "", maxAttachmentMetadataSize))
		}
		if c := e.err.ErrorCode; c != nil && *c < 0 {
			errs = append(errs, field.Invalid(fld.Child(e.name, "errorCode"), *c, validation.InclusiveRangeError(0, math.MaxInt32)))
		}
	}
	return errs
}
