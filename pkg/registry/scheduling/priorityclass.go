// Package scheduling describes scheduling.k8s.io/v1 PriorityClasses and the
// two system classes every cluster has.
package scheduling

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
)

// Priority ranges: values above a billion belong to the system.
const (
	HighestUserDefinablePriority = int32(1000000000)
	SystemCriticalPriority       = 2 * HighestUserDefinablePriority
	systemPrefix                 = "system-"
)

// Resources returns every scheduling.k8s.io/v1 resource.
func Resources() []*registry.Resource { return []*registry.Resource{PriorityClasses()} }

// SystemPriorityClasses are the classes the server creates at start:
// system-node-critical and system-cluster-critical.
func SystemPriorityClasses() []*schedulingv1.PriorityClass {
	return []*schedulingv1.PriorityClass{
		{
			ObjectMeta:  metav1.ObjectMeta{Name: "system-node-critical"},
			Value:       SystemCriticalPriority + 1000,
			Description: "Used for system critical pods that must not be moved from their current node.",
		},
		{
			ObjectMeta:  metav1.ObjectMeta{Name: "system-cluster-critical"},
			Value:       SystemCriticalPriority,
			Description: "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
		},
	}
}

// PriorityClasses is scheduling.k8s.io/v1 priorityclasses.
func PriorityClasses() *registry.Resource {
	return &registry.Resource{
		Group: "scheduling.k8s.io", Version: "v1", Name: "priorityclasses", Kind: "PriorityClass", SingularName: "priorityclass",
		CreateOnUpdate: true,
		ShortNames:     []string{"pc"},
		New:            func() runtime.Object { return &schedulingv1.PriorityClass{} },
		NewList:        func() runtime.Object { return &schedulingv1.PriorityClassList{} },
		KeyPrefix:      "priorityclasses",
		Strategy: &registry.Generic{
			Defaults: func(obj runtime.Object) {
				if pc := obj.(*schedulingv1.PriorityClass); pc.PreemptionPolicy == nil {
					p := corev1.PreemptLowerPriority
					pc.PreemptionPolicy = &p
				}
			},
			Create: func(obj runtime.Object) { obj.(*schedulingv1.PriorityClass).Generation = 1 },
			Validation: func(obj runtime.Object) field.ErrorList {
				return validatePriorityClass(obj.(*schedulingv1.PriorityClass))
			},
			UpdateValidation: func(obj, old runtime.Object) field.ErrorList {
				pc, opc := obj.(*schedulingv1.PriorityClass), old.(*schedulingv1.PriorityClass)
				var errs field.ErrorList
				if pc.Value != opc.Value {
					errs = append(errs, field.Forbidden(field.NewPath("value"), "may not be changed in an update."))
				}
				return append(errs, apivalidation.ValidateImmutableField(pc.PreemptionPolicy, opc.PreemptionPolicy, field.NewPath("preemptionPolicy"))...)
			},
			NoStatusSplit: true,
			NoGeneration:  true,
		},
		Table: &registry.Table{
			Cols: []metav1.TableColumnDefinition{registry.NameColumn,
				registry.Col("Value", "integer", schedulingv1.PriorityClass{}.SwaggerDoc()["value"], 0),
				registry.Col("Global-Default", "boolean", schedulingv1.PriorityClass{}.SwaggerDoc()["globalDefault"], 0),
				registry.AgeColumn,
				registry.Col("PreemptionPolicy", "string", schedulingv1.PriorityClass{}.SwaggerDoc()["preemptionPolicy"], 0),
			},
			Cells: func(obj runtime.Object) []interface{} {
				pc := obj.(*schedulingv1.PriorityClass)
				policy := ""
				if pc.PreemptionPolicy != nil {
					policy = string(*pc.PreemptionPolicy)
				}
				return []interface{}{pc.Name, int64(pc.Value), pc.GlobalDefault, registry.Age(pc.CreationTimestamp), policy}
			},
		},
	}
}

func validatePriorityClass(pc *schedulingv1.PriorityClass) field.ErrorList {
	var errs field.ErrorList
	if strings.HasPrefix(pc.Name, systemPrefix) {
		if err := knownSystemClass(pc); err != nil {
			errs = append(errs, field.Forbidden(field.NewPath("metadata", "name"),
				"priority class names with '"+systemPrefix+"' prefix are reserved for system use only. error: "+err.Error()))
		}
	} else if pc.Value > HighestUserDefinablePriority {
		errs = append(errs, field.Forbidden(field.NewPath("value"), fmt.Sprintf("maximum allowed value of a user defined priority is %v", HighestUserDefinablePriority)))
	}
	if p := pc.PreemptionPolicy; p != nil {
		switch *p {
		case corev1.PreemptLowerPriority, corev1.PreemptNever:
		case "":
			errs = append(errs, field.Required(field.NewPath("preemptionPolicy"), ""))
		default:
			errs = append(errs, field.NotSupported(field.NewPath("preemptionPolicy"), p, []corev1.PreemptionPolicy{corev1.PreemptLowerPriority, corev1.PreemptNever}))
		}
	}
	return errs
}

// knownSystemClass accepts a system- class only as the server defines it.
func knownSystemClass(pc *schedulingv1.PriorityClass) error {
	for _, s := range SystemPriorityClasses() {
		if s.Name != pc.Name {
			continue
		}
		if s.Value != pc.Value {
			return fmt.Errorf("value of %v PriorityClass must be %v", s.Name, s.Value)
		}
		if s.GlobalDefault != pc.GlobalDefault {
			return fmt.Errorf("globalDefault of %v PriorityClass must be %v", s.Name, s.GlobalDefault)
		}
		return nil
	}
	return fmt.Errorf("%v is not a known system priority class", pc.Name)
}
