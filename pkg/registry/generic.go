package registry

import (
	"context"
	"reflect"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Generic is a Strategy built from functions, following upstream's generic rules for
// types with a spec and a status: status is the status subresource's to write, and
// metadata.generation counts spec changes.
type Generic struct {
	// Defaults sets a type's defaults; nil for none.
	Defaults func(obj runtime.Object)
	// Validation checks a new object; nil for none.
	Validation func(obj runtime.Object) field.ErrorList
	// UpdateValidation checks an update; nil means Validation on the new object.
	UpdateValidation func(obj, old runtime.Object) field.ErrorList
	// StatusValidation checks a status update; nil for none.
	StatusValidation func(obj, old runtime.Object) field.ErrorList
	// Create and Update adjust objects beyond the generic rules; nil for none.
	Create func(obj runtime.Object)
	Update func(obj, old runtime.Object)
	// StatusUpdate adjusts a status update beyond the generic rules.
	StatusUpdate func(obj, old runtime.Object)
	// NoStatusSplit keeps status writable through the main resource (no subresource).
	NoStatusSplit bool
	// NoGeneration leaves metadata.generation alone (types without a spec).
	NoGeneration bool
}

var (
	_ Strategy       = &Generic{}
	_ StatusStrategy = &Generic{}
)

// Default implements Strategy.
func (g *Generic) Default(obj runtime.Object) {
	if g.Defaults != nil {
		g.Defaults(obj)
	}
}

// PrepareForCreate implements Strategy.
func (g *Generic) PrepareForCreate(_ context.Context, obj runtime.Object) {
	if !g.NoStatusSplit {
		resetField(obj, "Status")
	}
	if !g.NoGeneration && hasField(obj, "Spec") {
		obj.(metav1.Object).SetGeneration(1)
	}
	if g.Create != nil {
		g.Create(obj)
	}
}

// PrepareForUpdate implements Strategy.
func (g *Generic) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	if !g.NoStatusSplit {
		copyField(obj, old, "Status")
	}
	if !g.NoGeneration && hasField(obj, "Spec") {
		m, om := obj.(metav1.Object), old.(metav1.Object)
		gen := om.GetGeneration()
		if !equality.Semantic.DeepEqual(fieldOf(obj, "Spec"), fieldOf(old, "Spec")) {
			gen++
		}
		m.SetGeneration(gen)
	}
	if g.Update != nil {
		g.Update(obj, old)
	}
}

// Validate implements Strategy.
func (g *Generic) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	if g.Validation == nil {
		return nil
	}
	return g.Validation(obj)
}

// ValidateUpdate implements Strategy.
func (g *Generic) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	if g.UpdateValidation != nil {
		return g.UpdateValidation(obj, old)
	}
	return g.Validate(context.Background(), obj)
}

// PrepareForStatusUpdate implements StatusStrategy: only status changes.
func (g *Generic) PrepareForStatusUpdate(_ context.Context, obj, old runtime.Object) {
	copyField(obj, old, "Spec")
	m, om := obj.(metav1.Object), old.(metav1.Object)
	m.SetGeneration(om.GetGeneration())
	m.SetDeletionTimestamp(om.GetDeletionTimestamp())
	m.SetOwnerReferences(om.GetOwnerReferences())
	if g.StatusUpdate != nil {
		g.StatusUpdate(obj, old)
	}
}

// ValidateStatusUpdate implements StatusStrategy.
func (g *Generic) ValidateStatusUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	if g.StatusValidation == nil {
		return nil
	}
	return g.StatusValidation(obj, old)
}

func fieldOf(obj runtime.Object, name string) interface{} {
	v := reflect.ValueOf(obj).Elem().FieldByName(name)
	if !v.IsValid() {
		return nil
	}
	return v.Interface()
}

func hasField(obj runtime.Object, name string) bool {
	return reflect.ValueOf(obj).Elem().FieldByName(name).IsValid()
}

func resetField(obj runtime.Object, name string) {
	v := reflect.ValueOf(obj).Elem().FieldByName(name)
	if v.IsValid() && v.CanSet() {
		v.Set(reflect.Zero(v.Type()))
	}
}

func copyField(dst, src runtime.Object, name string) {
	d := reflect.ValueOf(dst).Elem().FieldByName(name)
	s := reflect.ValueOf(src).Elem().FieldByName(name)
	if d.IsValid() && s.IsValid() && d.CanSet() {
		d.Set(s)
	}
}

// SpecOf and StatusOf expose a typed object's spec and status for generic code.
func SpecOf(obj runtime.Object) interface{} { return fieldOf(obj, "Spec") }

// HasStatus reports whether a type has a status field.
func HasStatus(obj runtime.Object) bool { return hasField(obj, "Status") }
