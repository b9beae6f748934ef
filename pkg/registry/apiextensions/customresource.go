package apiextensions

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	apiext "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	structuralobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
)

// CustomResources returns one resource per served version of crd, sharing the
// storage of the CRD's storage version. The objects are unstructured.
func CustomResources(crd *apiextv1.CustomResourceDefinition) ([]*registry.Resource, error) {
	internal, err := toInternal(crd)
	if err != nil {
		return nil, err
	}
	storageVersion := ""
	for _, v := range crd.Spec.Versions {
		if v.Storage {
			storageVersion = v.Name
		}
	}
	if storageVersion == "" {
		return nil, fmt.Errorf("CustomResourceDefinition %q has no storage version", crd.Name)
	}
	names := crd.Status.AcceptedNames
	if names.Plural == "" {
		names = crd.Spec.Names
	}
	var out []*registry.Resource
	for _, v := range crd.Spec.Versions {
		if !v.Served {
			continue
		}
		gvk := schema.GroupVersionKind{Group: crd.Spec.Group, Version: v.Name, Kind: names.Kind}
		listGVK := gvk.GroupVersion().WithKind(names.ListKind)
		if listGVK.Kind == "" {
			listGVK.Kind = names.Kind + "List"
		}
		cr := &customResource{gvk: gvk}
		sv, err := apiext.GetSchemaForVersion(internal, v.Name)
		if err != nil {
			return nil, fmt.Errorf("schema of %s: %w", gvk, err)
		}
		if sv != nil && sv.OpenAPIV3Schema != nil {
			s, err := structuralschema.NewStructural(sv.OpenAPIV3Schema)
			if err != nil {
				return nil, fmt.Errorf("structural schema of %s: %w", gvk, err)
			}
			cr.structural = s
			validator, _, err := apiservervalidation.NewSchemaValidator(sv.OpenAPIV3Schema)
			if err != nil {
				return nil, fmt.Errorf("schema validator of %s: %w", gvk, err)
			}
			cr.validator = validator
		}
		if v.Subresources != nil && v.Subresources.Status != nil {
			cr.status = true
		}
		res := &registry.Resource{
			Group: crd.Spec.Group, Version: v.Name, Name: names.Plural, Kind: names.Kind,
			SingularName: names.Singular, ShortNames: names.ShortNames, Categories: names.Categories,
			Namespaced: crd.Spec.Scope == apiextv1.NamespaceScoped,
			New: func() runtime.Object {
				u := &unstructured.Unstructured{}
				u.SetGroupVersionKind(gvk)
				return u
			},
			NewList: func() runtime.Object {
				l := &unstructured.UnstructuredList{}
				l.SetGroupVersionKind(listGVK)
				return l
			},
			KeyPrefix:   crd.Spec.Group + "/" + names.Plural,
			StorageKind: gvk.GroupVersion().WithKind(names.Kind),
			Strategy:    cr,
			Custom:      true,
			Status:      cr.status,
			Prune:       cr.prune,
			Table:       printerColumns(v.AdditionalPrinterColumns),
		}
		if v.Deprecated {
			res.DeprecationWarning = deprecationWarning(crd, v, names.Kind)
		}
		res.StorageKind.Version = storageVersion
		if v.Subresources != nil && v.Subresources.Scale != nil {
			res.Scale = scaleSubresource(v.Subresources.Scale)
		}
		if res.OpenAPI, err = customOpenAPI(crd, v.Name); err != nil {
			return nil, err
		}
		if len(v.SelectableFields) > 0 {
			res.Fields = selectableFields(v.SelectableFields)
		}
		out = append(out, res)
	}
	return out, nil
}

// customResource is the strategy of one version of a custom resource.
type customResource struct {
	gvk        schema.GroupVersionKind
	structural *structuralschema.Structural
	validator  apiservervalidation.SchemaValidator
	status     bool
}

var (
	_ registry.Strategy       = &customResource{}
	_ registry.StatusStrategy = &customResource{}
)

// prune drops the fields the schema does not know and returns their paths.
func (c *customResource) prune(obj runtime.Object) []string {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return nil
	}
	var unknown []string
	if c.structural != nil {
		unknown = structuralpruning.PruneWithOptions(u.Object, c.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
	}
	// Unknown fields of metadata (at the root and in embedded resources) go too.
	if _, meta := structuralobjectmeta.CoerceWithOptions(nil, u.Object, c.structural, true,
		structuralobjectmeta.CoerceOptions{DropInvalidFields: true, ReturnUnknownFieldPaths: true}); len(meta) > 0 {
		unknown = append(unknown, meta...)
	}
	return unknown
}

// Default implements registry.Strategy: the schema's defaults.
func (c *customResource) Default(obj runtime.Object) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok || c.structural == nil {
		return
	}
	structuraldefaulting.Default(u.Object, c.structural)
}

// PrepareForCreate implements registry.Strategy.
func (c *customResource) PrepareForCreate(_ context.Context, obj runtime.Object) {
	u := obj.(*unstructured.Unstructured)
	if c.status {
		delete(u.Object, "status")
	}
	u.SetGeneration(1)
}

// PrepareForUpdate implements registry.Strategy.
func (c *customResource) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	u, o := obj.(*unstructured.Unstructured), old.(*unstructured.Unstructured)
	if c.status {
		if st, ok := o.Object["status"]; ok {
			u.Object["status"] = runtime.DeepCopyJSONValue(st)
		} else {
			delete(u.Object, "status")
		}
	}
	gen := o.GetGeneration()
	if !equality.Semantic.DeepEqual(withoutMetaAndStatus(u.Object, c.status), withoutMetaAndStatus(o.Object, c.status)) {
		gen++
	}
	u.SetGeneration(gen)
}

func withoutMetaAndStatus(obj map[string]interface{}, status bool) map[string]interface{} {
	out := make(map[string]interface{}, len(obj))
	for k, v := range obj {
		if k == "metadata" || (status && k == "status") {
			continue
		}
		out[k] = v
	}
	return out
}

// PrepareForStatusUpdate implements registry.StatusStrategy: only status changes.
func (c *customResource) PrepareForStatusUpdate(_ context.Context, obj, old runtime.Object) {
	u, o := obj.(*unstructured.Unstructured), old.(*unstructured.Unstructured)
	st, hasStatus := u.Object["status"]
	fresh := o.DeepCopy()
	if hasStatus {
		fresh.Object["status"] = st
	} else {
		delete(fresh.Object, "status")
	}
	md := u.Object["metadata"]
	u.Object = fresh.Object
	// Keep the request's resourceVersion and managed fields.
	if m, ok := md.(map[string]interface{}); ok {
		if rv, ok := m["resourceVersion"]; ok {
			unstructured.SetNestedField(u.Object, rv, "metadata", "resourceVersion") //nolint:errcheck
		}
		if mf, ok := m["managedFields"]; ok {
			unstructured.SetNestedField(u.Object, mf, "metadata", "managedFields") //nolint:errcheck
		}
	}
}

// Validate implements registry.Strategy.
func (c *customResource) Validate(ctx context.Context, obj runtime.Object) field.ErrorList {
	return c.validate(ctx, obj, nil)
}

// ValidateUpdate implements registry.Strategy.
func (c *customResource) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	return c.validate(ctx, obj, old)
}

// ValidateStatusUpdate implements registry.StatusStrategy.
func (c *customResource) ValidateStatusUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	return c.validate(ctx, obj, old)
}

func (c *customResource) validate(ctx context.Context, obj, _ runtime.Object) field.ErrorList {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return field.ErrorList{field.InternalError(nil, fmt.Errorf("expected an unstructured object, got %T", obj))}
	}
	var errs field.ErrorList
	if u.GetKind() != c.gvk.Kind {
		errs = append(errs, field.Invalid(field.NewPath("kind"), u.GetKind(), fmt.Sprintf("must be %v", c.gvk.Kind)))
	}
	if c.validator != nil {
		errs = append(errs, apiservervalidation.ValidateCustomResource(nil, u.UnstructuredContent(), c.validator)...)
	}
	if c.structural != nil {
		errs = append(errs, structuralobjectmeta.Validate(ctx, nil, u.Object, c.structural, true)...)
	}
	return errs
}

// printerColumns builds the table of a version: its additionalPrinterColumns, or
// NAME and AGE.
func printerColumns(cols []apiextv1.CustomResourceColumnDefinition) registry.TableConvertor {
	t := &crTable{}
	if len(cols) == 0 {
		cols = []apiextv1.CustomResourceColumnDefinition{{Name: "Age", Type: "date", JSONPath: ".metadata.creationTimestamp",
			Description: registry.CreationTimestampDescription}}
	}
	t.cols = append(t.cols, registry.NameColumn)
	for _, c := range cols {
		t.cols = append(t.cols, metav1.TableColumnDefinition{Name: c.Name, Type: c.Type, Format: c.Format, Description: c.Description, Priority: c.Priority})
		t.paths = append(t.paths, c.JSONPath)
	}
	return t
}

// scaleSubresource maps the CRD's scale paths onto the unstructured object.
func scaleSubresource(s *apiextv1.CustomResourceSubresourceScale) *registry.ScaleSubresource {
	specPath := strings.Split(strings.TrimPrefix(s.SpecReplicasPath, "."), ".")
	statusPath := strings.Split(strings.TrimPrefix(s.StatusReplicasPath, "."), ".")
	var selectorPath []string
	if s.LabelSelectorPath != nil {
		selectorPath = strings.Split(strings.TrimPrefix(*s.LabelSelectorPath, "."), ".")
	}
	return &registry.ScaleSubresource{
		SpecReplicasPath:   s.SpecReplicasPath,
		StatusReplicasPath: s.StatusReplicasPath,
		Selector: func(obj runtime.Object) (string, error) {
			u, ok := obj.(*unstructured.Unstructured)
			if !ok || selectorPath == nil {
				return "", nil
			}
			sel, _, err := unstructured.NestedString(u.Object, selectorPath...)
			return sel, err
		},
		GetReplicas: func(obj runtime.Object) (spec, status int32) {
			u, ok := obj.(*unstructured.Unstructured)
			if !ok {
				return 0, 0
			}
			return nestedInt32(u.Object, specPath), nestedInt32(u.Object, statusPath)
		},
		SetReplicas: func(obj runtime.Object, replicas int32) {
			if u, ok := obj.(*unstructured.Unstructured); ok {
				_ = unstructured.SetNestedField(u.Object, int64(replicas), specPath...)
			}
		},
	}
}

func nestedInt32(obj map[string]interface{}, path []string) int32 {
	v, found, err := unstructured.NestedFieldNoCopy(obj, path...)
	if !found || err != nil {
		return 0
	}
	switch n := v.(type) {
	case int64:
		return int32(n)
	case float64:
		return int32(n)
	case int:
		return int32(n)
	}
	return 0
}

// selectableFields returns the field-selector fields a CRD version declares,
// named by their JSON paths without the leading dot.
func selectableFields(sfs []apiextv1.SelectableField) func(obj runtime.Object) map[string]string {
	paths := make([][]string, 0, len(sfs))
	for _, sf := range sfs {
		paths = append(paths, strings.Split(strings.TrimPrefix(sf.JSONPath, "."), "."))
	}
	return func(obj runtime.Object) map[string]string {
		out := make(map[string]string, len(paths))
		u, _ := obj.(*unstructured.Unstructured)
		for _, p := range paths {
			name := strings.Join(p, ".")
			out[name] = ""
			if u == nil {
				continue
			}
			v, found, err := unstructured.NestedFieldNoCopy(u.Object, p...)
			if !found || err != nil || v == nil {
				continue
			}
			switch x := v.(type) {
			case string:
				out[name] = x
			case bool:
				out[name] = strconv.FormatBool(x)
			case int64:
				out[name] = strconv.FormatInt(x, 10)
			default:
				out[name] = fmt.Sprint(x)
			}
		}
		return out
	}
}
