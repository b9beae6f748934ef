package apiserver

import (
	"fmt"
	"slices"
	"sync"

	apiextac "k8s.io/apiextensions-apiserver/pkg/client/applyconfiguration"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	aggregatorac "k8s.io/kube-aggregator/pkg/client/applyconfiguration"
	"sigs.k8s.io/structured-merge-diff/v6/typed"
	"sigs.k8s.io/structured-merge-diff/v6/value"

	"github.com/minik8s/minik8s/pkg/apis"
	"github.com/minik8s/minik8s/pkg/registry"
)

// groupTypeConverter sends apiextensions.k8s.io objects to that group's schema
// and every other kind to the built-in one.
type groupTypeConverter struct {
	builtin, apiextensions, apiregistration managedfields.TypeConverter
	// types remembers, per kind, the schema the built-in converter resolved, for
	// the unvalidated fast path.
	types sync.Map // schema.GroupVersionKind -> typed.ParseableType
}

func newGroupTypeConverter(builtin managedfields.TypeConverter) managedfields.TypeConverter {
	return &groupTypeConverter{builtin: builtin, apiextensions: apiextac.NewTypeConverter(apis.Scheme),
		apiregistration: aggregatorac.NewTypeConverter(apis.Scheme)}
}

func (c *groupTypeConverter) ObjectToTyped(obj runtime.Object, opts ...typed.ValidationOptions) (*typed.TypedValue, error) {
	switch obj.GetObjectKind().GroupVersionKind().Group {
	case "apiextensions.k8s.io":
		return c.apiextensions.ObjectToTyped(obj, opts...)
	case "apiregistration.k8s.io":
		return c.apiregistration.ObjectToTyped(obj, opts...)
	}
	if slices.Contains(opts, typed.AllowDuplicates) {
		// Tracking an update compares typed Go objects, which cannot hold a value
		// of the wrong type; with duplicates allowed, validating them could only
		// succeed, and it costs as much as the comparison itself. Skip it once the
		// kind's schema is known.
		gvk := obj.GetObjectKind().GroupVersionKind()
		if t, ok := c.types.Load(gvk); ok {
			pt := t.(typed.ParseableType)
			v, err := value.NewValueReflect(obj)
			if err != nil {
				return nil, err
			}
			return typed.AsTypedUnvalidated(v, pt.Schema, pt.TypeRef), nil
		}
		tv, err := c.builtin.ObjectToTyped(obj, opts...)
		if err == nil {
			c.types.Store(gvk, typed.ParseableType{Schema: tv.Schema(), TypeRef: tv.TypeRef()})
		}
		return tv, err
	}
	return c.builtin.ObjectToTyped(obj, opts...)
}

func (c *groupTypeConverter) TypedToObject(v *typed.TypedValue) (runtime.Object, error) {
	return c.builtin.TypedToObject(v)
}

// newCustomFieldManager builds the field manager of a custom resource: fields
// deduced from the object (lists atomic), versions converted by rewriting apiVersion.
func newCustomFieldManager(res *registry.Resource, subresource string) (*managedfields.FieldManager, error) {
	gvk := res.GroupVersionKind()
	m, err := managedfields.NewDefaultCRDFieldManager(managedfields.NewDeducedTypeConverter(), unstructuredConverter{},
		unstructuredDefaulter{res}, unstructuredCreater{}, gvk, res.StorageGVK().GroupVersion(), subresource, resetFields(res, subresource))
	if err != nil {
		return nil, fmt.Errorf("field manager for %s: %w", gvk, err)
	}
	return m, nil
}

type unstructuredConverter struct{}

func (unstructuredConverter) Convert(in, out, _ interface{}) error {
	u, ok := in.(*unstructured.Unstructured)
	o, ok2 := out.(*unstructured.Unstructured)
	if !ok || !ok2 {
		return fmt.Errorf("convert %T to %T: only unstructured objects", in, out)
	}
	o.Object = u.DeepCopy().Object
	return nil
}

func (unstructuredConverter) ConvertToVersion(in runtime.Object, gv runtime.GroupVersioner) (runtime.Object, error) {
	u, ok := in.(*unstructured.Unstructured)
	if !ok {
		return nil, fmt.Errorf("convert %T: only unstructured objects", in)
	}
	target, ok := gv.KindForGroupVersionKinds([]schema.GroupVersionKind{u.GroupVersionKind()})
	if !ok {
		return nil, fmt.Errorf("convert %s: no target version", u.GroupVersionKind())
	}
	out := u.DeepCopy()
	out.SetGroupVersionKind(target)
	return out, nil
}

func (unstructuredConverter) ConvertFieldLabel(_ schema.GroupVersionKind, label, value string) (string, string, error) {
	return label, value, nil
}

type unstructuredDefaulter struct{ res *registry.Resource }

func (d unstructuredDefaulter) Default(obj runtime.Object) { d.res.Strategy.Default(obj) }

type unstructuredCreater struct{}

func (unstructuredCreater) New(gvk schema.GroupVersionKind) (runtime.Object, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	return u, nil
}
