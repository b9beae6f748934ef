package podspec

import (
	"reflect"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// AccessModes and VolumeModes are the values PersistentVolumes and claims accept.
var (
	AccessModes = sets.New(corev1.ReadWriteOnce, corev1.ReadOnlyMany, corev1.ReadWriteMany, corev1.ReadWriteOncePod)
	VolumeModes = sets.New(corev1.PersistentVolumeBlock, corev1.PersistentVolumeFilesystem)
)

// ValidateClaimSpec checks a PersistentVolumeClaim spec, as embedded in claims,
// ephemeral volumes and StatefulSet claim templates.
func ValidateClaimSpec(spec *corev1.PersistentVolumeClaimSpec, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(spec.AccessModes) == 0 {
		errs = append(errs, field.Required(fld.Child("accessModes"), "at least 1 access mode is required"))
	}
	if spec.Selector != nil {
		errs = append(errs, metavalidation.ValidateLabelSelector(spec.Selector, metavalidation.LabelSelectorValidationOptions{}, fld.Child("selector"))...)
	}
	rwop, other := false, false
	for _, mode := range spec.AccessModes {
		if !AccessModes.Has(mode) {
			errs = append(errs, field.NotSupported(fld.Child("accessModes"), mode, sets.List(AccessModes)))
		}
		if mode == corev1.ReadWriteOncePod {
			rwop = true
		} else if AccessModes.Has(mode) {
			other = true
		}
	}
	if rwop && other {
		errs = append(errs, field.Forbidden(fld.Child("accessModes"), "may not use ReadWriteOncePod with other access modes"))
	}
	storagePath := fld.Child("resources").Key(string(corev1.ResourceStorage))
	if q, ok := spec.Resources.Requests[corev1.ResourceStorage]; !ok {
		errs = append(errs, field.Required(storagePath, ""))
	} else if q.Cmp(resource.Quantity{}) <= 0 {
		errs = append(errs, field.Invalid(storagePath, q.String(), "must be greater than zero"))
	}
	if c := spec.StorageClassName; c != nil && *c != "" {
		for _, msg := range apivalidation.NameIsDNSSubdomain(*c, false) {
			errs = append(errs, field.Invalid(fld.Child("storageClassName"), *c, msg))
		}
	}
	if m := spec.VolumeMode; m != nil && !VolumeModes.Has(*m) {
		errs = append(errs, field.NotSupported(fld.Child("volumeMode"), *m, sets.List(VolumeModes)))
	}
	if ds := spec.DataSource; ds != nil {
		errs = append(errs, validateDataSource(ds.Name, ds.Kind, ds.APIGroup, fld.Child("dataSource"))...)
	}
	if ref := spec.DataSourceRef; ref != nil {
		errs = append(errs, validateDataSource(ref.Name, ref.Kind, ref.APIGroup, fld.Child("dataSourceRef"))...)
		if ref.Namespace != nil && *ref.Namespace != "" {
			for _, msg := range apivalidation.ValidateNamespaceName(*ref.Namespace, false) {
				errs = append(errs, field.Invalid(fld.Child("dataSourceRef", "namespace"), *ref.Namespace, msg))
			}
		}
	}
	if ref := spec.DataSourceRef; ref != nil && ref.Namespace != nil && *ref.Namespace != "" {
		if spec.DataSource != nil {
			errs = append(errs, field.Invalid(fld, fld.Child("dataSource"), "may not be specified when dataSourceRef.namespace is specified"))
		}
	} else if ds := spec.DataSource; ds != nil && ref != nil {
		if !reflect.DeepEqual(ds.APIGroup, ref.APIGroup) || ds.Kind != ref.Kind || ds.Name != ref.Name {
			errs = append(errs, field.Invalid(fld, fld.Child("dataSource"), "must match dataSourceRef"))
		}
	}
	if c := spec.VolumeAttributesClassName; c != nil && *c != "" {
		for _, msg := range apivalidation.NameIsDNSSubdomain(*c, false) {
			errs = append(errs, field.Invalid(fld.Child("volumeAttributesClassName"), *c, msg))
		}
	}
	return errs
}

func validateDataSource(name, kind string, group *string, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if name == "" {
		errs = append(errs, field.Required(fld.Child("name"), ""))
	}
	if kind == "" {
		errs = append(errs, field.Required(fld.Child("kind"), ""))
	}
	g := ""
	if group != nil {
		g = *group
	}
	if g == "" && kind != "PersistentVolumeClaim" {
		errs = append(errs, field.Invalid(fld, kind, "must be 'PersistentVolumeClaim' when referencing the default apiGroup"))
	}
	if g != "" {
		for _, msg := range validation.IsDNS1123Subdomain(g) {
			errs = append(errs, field.Invalid(fld.Child("apiGroup"), g, msg))
		}
	}
	return errs
}

// validateTemplateMeta checks the metadata of an embedded template, where only
// labels and annotations may be set.
func validateTemplateMeta(m *metav1.ObjectMeta, fld *field.Path) field.ErrorList {
	errs := apivalidation.ValidateAnnotations(m.Annotations, fld.Child("annotations"))
	errs = append(errs, metavalidation.ValidateLabels(m.Labels, fld.Child("labels"))...)
	rest := *m
	rest.Labels, rest.Annotations = nil, nil
	v := reflect.ValueOf(rest)
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		if !v.Field(i).IsZero() {
			name := t.Field(i).Name
			errs = append(errs, field.Forbidden(fld.Child(lowerFirst(name)), "cannot be set"))
		}
	}
	return errs
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]|0x20) + s[1:]
}
