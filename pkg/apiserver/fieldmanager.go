package apiserver

import (
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/applyconfigurations"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/minik8s/minik8s/pkg/apis"
	"github.com/minik8s/minik8s/pkg/registry"
)

// fieldManagers builds one server-side-apply field manager per kind and subresource,
// on first use: the schema they share takes a noticeable moment and memory to parse.
type fieldManagers struct {
	reg *registry.Registry

	once      sync.Once
	converter managedfields.TypeConverter

	mu       sync.Mutex
	managers map[string]*managedfields.FieldManager
}

func newFieldManagers(reg *registry.Registry) *fieldManagers {
	return &fieldManagers{reg: reg, managers: map[string]*managedfields.FieldManager{}}
}

// get returns the manager for a resource's served kind and subresource.
func (f *fieldManagers) get(res *registry.Resource, subresource string) (*managedfields.FieldManager, error) {
	f.once.Do(func() { f.converter = newGroupTypeConverter(applyconfigurations.NewTypeConverter(apis.Scheme)) })
	gvk := res.GroupVersionKind()
	key := gvk.String() + "/" + subresource
	f.mu.Lock()
	defer f.mu.Unlock()
	if m := f.managers[key]; m != nil {
		return m, nil
	}
	if isCustom(res) {
		m, err := newCustomFieldManager(res, subresource)
		if err != nil {
			return nil, err
		}
		f.managers[key] = m
		return m, nil
	}
	m, err := managedfields.NewDefaultFieldManager(f.converter, apis.Scheme, f.reg, apis.Scheme, gvk, gvk.GroupVersion(), subresource, resetFields(res, subresource))
	if err != nil {
		return nil, fmt.Errorf("field manager for %s: %w", gvk, err)
	}
	f.managers[key] = m
	return m, nil
}

// resetFields are the fields a write through the main resource or a subresource
// does not own: status on the main resource, everything else on status.
func resetFields(res *registry.Resource, subresource string) map[fieldpath.APIVersion]fieldpath.Filter {
	if !res.Status {
		return nil
	}
	gv := fieldpath.APIVersion(res.GroupVersion().String())
	switch subresource {
	case "":
		return map[fieldpath.APIVersion]fieldpath.Filter{gv: fieldpath.NewExcludeSetFilter(fieldpath.NewSet(fieldpath.MakePathOrDie("status")))}
	case "status":
		return map[fieldpath.APIVersion]fieldpath.Filter{gv: fieldpath.NewExcludeSetFilter(fieldpath.NewSet(
			fieldpath.MakePathOrDie("spec"), fieldpath.MakePathOrDie("metadata", "labels"), fieldpath.MakePathOrDie("metadata", "annotations")))}
	}
	return nil
}

// update records manager's changes from live to obj in obj's managedFields.
func (f *fieldManagers) update(res *registry.Resource, subresource string, live, obj runtime.Object, manager string) (runtime.Object, error) {
	m, err := f.get(res, subresource)
	if err != nil {
		return nil, err
	}
	if live == nil {
		live = res.New()
	}
	setKind(live, res.GroupVersionKind())
	setKind(obj, res.GroupVersionKind())
	return m.UpdateNoErrors(live, obj, manager), nil
}

// apply merges an applied configuration into live.
func (f *fieldManagers) apply(res *registry.Resource, subresource string, live, applied runtime.Object, manager string, force bool) (runtime.Object, error) {
	m, err := f.get(res, subresource)
	if err != nil {
		return nil, err
	}
	setKind(live, res.GroupVersionKind())
	return m.Apply(live, applied, manager, force)
}

func setKind(obj runtime.Object, gvk schema.GroupVersionKind) {
	if obj != nil {
		obj.GetObjectKind().SetGroupVersionKind(gvk)
	}
}
