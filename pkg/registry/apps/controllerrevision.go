package apps

import (
	"encoding/json"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
)

// ControllerRevisions is apps/v1 controllerrevisions: immutable snapshots of a
// StatefulSet's or DaemonSet's template, written by their controllers.
func ControllerRevisions() *registry.Resource {
	return &registry.Resource{
		Group: "apps", Version: "v1", Name: "controllerrevisions", Kind: "ControllerRevision", SingularName: "controllerrevision",
		Namespaced: true,
		New:        func() runtime.Object { return &appsv1.ControllerRevision{} },
		NewList:    func() runtime.Object { return &appsv1.ControllerRevisionList{} },
		KeyPrefix:  "controllerrevisions",
		Strategy: &registry.Generic{
			Validation: func(obj runtime.Object) field.ErrorList {
				r := obj.(*appsv1.ControllerRevision)
				return append(apivalidation.ValidateNonnegativeField(r.Revision, field.NewPath("revision")), validateRevisionData(r.Data.Raw)...)
			},
			UpdateValidation: func(obj, old runtime.Object) field.ErrorList {
				r, or := obj.(*appsv1.ControllerRevision), old.(*appsv1.ControllerRevision)
				errs := apivalidation.ValidateNonnegativeField(r.Revision, field.NewPath("revision"))
				return append(errs, apivalidation.ValidateImmutableField(r.Data, or.Data, field.NewPath("data"))...)
			},
			NoStatusSplit: true,
			NoGeneration:  true,
		},
		Table: &registry.Table{
			Cols: []metav1.TableColumnDefinition{registry.NameColumn,
				registry.Col("Controller", "string", "Controller of the object", 0),
				registry.Col("Revision", "string", appsv1.ControllerRevision{}.SwaggerDoc()["revision"], 0),
				registry.AgeColumn,
			},
			Cells: func(obj runtime.Object) []interface{} {
				r := obj.(*appsv1.ControllerRevision)
				return []interface{}{r.Name, revisionController(r), r.Revision, registry.Age(r.CreationTimestamp)}
			},
		},
	}
}

// validateRevisionData: the data must be a JSON object.
func validateRevisionData(raw []byte) field.ErrorList {
	fld := field.NewPath("data")
	if raw == nil {
		return field.ErrorList{field.Required(fld, "data is mandatory")}
	}
	var v interface{}
	if err := json.Unmarshal(raw, &v); err != nil {
		return field.ErrorList{field.Invalid(fld, "<value omitted>", fmt.Sprintf("error parsing data: %v", err.Error()))}
	}
	if v == nil {
		return field.ErrorList{field.Required(fld, "data is mandatory")}
	}
	if _, ok := v.(map[string]interface{}); !ok {
		return field.ErrorList{field.Required(fld, "data must be a valid JSON object")}
	}
	return nil
}

// revisionController prints the owning controller as kind.group/name.
func revisionController(r *appsv1.ControllerRevision) string {
	ref := metav1.GetControllerOf(r)
	if ref == nil {
		return "<none>"
	}
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return "<none>"
	}
	gk := schema.GroupKind{Group: gv.Group, Kind: ref.Kind}
	return strings.ToLower(gk.String()) + "/" + ref.Name
}
