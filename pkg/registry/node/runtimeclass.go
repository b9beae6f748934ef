// Package node describes node.k8s.io/v1 RuntimeClasses: named container
// runtime configurations pods select with runtimeClassName.
package node

import (
	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/podspec"
)

// Resources returns every node.k8s.io/v1 resource.
func Resources() []*registry.Resource { return []*registry.Resource{RuntimeClasses()} }

// RuntimeClasses is node.k8s.io/v1 runtimeclasses.
func RuntimeClasses() *registry.Resource {
	return &registry.Resource{
		Group: "node.k8s.io", Version: "v1", Name: "runtimeclasses", Kind: "RuntimeClass", SingularName: "runtimeclass",
		New:       func() runtime.Object { return &nodev1.RuntimeClass{} },
		NewList:   func() runtime.Object { return &nodev1.RuntimeClassList{} },
		KeyPrefix: "runtimeclasses",
		Strategy: &registry.Generic{
			Validation: func(obj runtime.Object) field.ErrorList { return validateRuntimeClass(obj.(*nodev1.RuntimeClass)) },
			UpdateValidation: func(obj, old runtime.Object) field.ErrorList {
				return apivalidation.ValidateImmutableField(obj.(*nodev1.RuntimeClass).Handler, old.(*nodev1.RuntimeClass).Handler, field.NewPath("handler"))
			},
			NoStatusSplit: true,
			NoGeneration:  true,
		},
		Table: &registry.Table{
			Cols: []metav1.TableColumnDefinition{registry.NameColumn,
				registry.Col("Handler", "string", nodev1.RuntimeClass{}.SwaggerDoc()["handler"], 0),
				registry.AgeColumn,
			},
			Cells: func(obj runtime.Object) []interface{} {
				rc := obj.(*nodev1.RuntimeClass)
				return []interface{}{rc.Name, rc.Handler, registry.Age(rc.CreationTimestamp)}
			},
		},
	}
}

func validateRuntimeClass(rc *nodev1.RuntimeClass) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range apivalidation.NameIsDNSLabel(rc.Handler, false) {
		errs = append(errs, field.Invalid(field.NewPath("handler"), rc.Handler, msg))
	}
	if rc.Overhead != nil {
		f := field.NewPath("overhead")
		for name, q := range rc.Overhead.PodFixed {
			rf := f.Child("limits").Key(string(name))
			errs = append(errs, podspec.ValidateResourceName(name, rf)...)
			errs = append(errs, podspec.ValidateQuantity(name, q, rf)...)
		}
	}
	if s := rc.Scheduling; s != nil {
		f := field.NewPath("scheduling")
		if s.NodeSelector != nil {
			errs = append(errs, metavalidation.ValidateLabels(s.NodeSelector, f.Child("nodeSelector"))...)
		}
		tf := f.Child("tolerations")
		// Upstream checks the tolerations one level deeper than where it
		// reports duplicates; kept for identical messages.
		errs = append(errs, podspec.ValidateTolerations(s.Tolerations, tf.Child("tolerations"))...)
		seen := map[corev1.Toleration]bool{}
		for i, t := range s.Tolerations {
			key := corev1.Toleration{Key: t.Key, Operator: t.Operator, Value: t.Value, Effect: t.Effect}
			if seen[key] {
				errs = append(errs, field.Duplicate(tf.Index(i), t))
			}
			seen[key] = true
		}
	}
	return errs
}
