package storage

import (
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

// Predicate is a label and a field selector; nil selectors match everything.
type Predicate struct {
	Label labels.Selector
	Field fields.Selector
	Attrs AttrFunc
}

// Empty reports whether the predicate selects everything.
func (p Predicate) Empty() bool {
	return (p.Label == nil || p.Label.Empty()) && (p.Field == nil || p.Field.Empty())
}

// Matches reports whether obj is selected.
func (p Predicate) Matches(obj runtime.Object) bool {
	if p.Empty() {
		return true
	}
	attrs := p.Attrs
	if attrs == nil {
		attrs = DefaultAttrs
	}
	ls, fs, err := attrs(obj)
	if err != nil {
		return false
	}
	if p.Label != nil && !p.Label.Empty() && !p.Label.Matches(ls) {
		return false
	}
	if p.Field != nil && !p.Field.Empty() && !p.Field.Matches(fs) {
		return false
	}
	return true
}
