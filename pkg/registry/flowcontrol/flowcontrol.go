// Package flowcontrol describes flowcontrol.apiserver.k8s.io/v1 FlowSchemas
// and PriorityLevelConfigurations. They are stored and checked with upstream's
// defaults; the server does not apply priority and fairness yet.
package flowcontrol

import (
	"fmt"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/registry/badvalue"
)

const group = "flowcontrol.apiserver.k8s.io"

// Defaults and bounds upstream uses.
const (
	defaultMatchingPrecedence = 1000
	maxMatchingPrecedence     = 10000
	defaultHandSize           = 8
	defaultQueues             = 64
	defaultQueueLengthLimit   = 50
	defaultConcurrencyShares  = 30
	maxQueues                 = 512
)

// Resources returns every flowcontrol.apiserver.k8s.io/v1 resource.
func Resources() []*registry.Resource {
	return []*registry.Resource{FlowSchemas(), PriorityLevelConfigurations()}
}

// FlowSchemas is flowcontrol.apiserver.k8s.io/v1 flowschemas.
func FlowSchemas() *registry.Resource {
	return &registry.Resource{
		Group: group, Version: "v1", Name: "flowschemas", Kind: "FlowSchema", SingularName: "flowschema",
		New:       func() runtime.Object { return &flowcontrolv1.FlowSchema{} },
		NewList:   func() runtime.Object { return &flowcontrolv1.FlowSchemaList{} },
		KeyPrefix: "flowschemas",
		Status:    true,
		Strategy: &registry.Generic{
			Defaults: func(obj runtime.Object) {
				if s := &obj.(*flowcontrolv1.FlowSchema).Spec; s.MatchingPrecedence == 0 {
					s.MatchingPrecedence = defaultMatchingPrecedence
				}
			},
			Validation: func(obj runtime.Object) field.ErrorList {
				fs := obj.(*flowcontrolv1.FlowSchema)
				return validateFlowSchemaSpec(fs.Name, &fs.Spec)
			},
		},
		Table: &registry.Table{
			Cols: []metav1.TableColumnDefinition{registry.NameColumn,
				registry.Col("PriorityLevel", "string", flowcontrolv1.PriorityLevelConfigurationReference{}.SwaggerDoc()["name"], 0),
				registry.Col("MatchingPrecedence", "string", flowcontrolv1.FlowSchemaSpec{}.SwaggerDoc()["matchingPrecedence"], 0),
				registry.Col("DistinguisherMethod", "string", flowcontrolv1.FlowSchemaSpec{}.SwaggerDoc()["distinguisherMethod"], 0),
				registry.AgeColumn,
				registry.Col("MissingPL", "string", "references a broken or non-existent PriorityLevelConfiguration", 0),
			},
			Cells: func(obj runtime.Object) []interface{} {
				fs := obj.(*flowcontrolv1.FlowSchema)
				method := "<none>"
				if fs.Spec.DistinguisherMethod != nil {
					method = string(fs.Spec.DistinguisherMethod.Type)
				}
				missing := "?"
				for _, c := range fs.Status.Conditions {
					if c.Type == flowcontrolv1.FlowSchemaConditionDangling {
						missing = string(c.Status)
						break
					}
				}
				return []interface{}{fs.Name, fs.Spec.PriorityLevelConfiguration.Name, int64(fs.Spec.MatchingPrecedence), method,
					registry.Age(fs.CreationTimestamp), missing}
			},
		},
	}
}

var distinguisherMethods = []flowcontrolv1.FlowDistinguisherMethodType{flowcontrolv1.FlowDistinguisherMethodByNamespaceType,
	flowcontrolv1.FlowDistinguisherMethodByUserType}

func validateFlowSchemaSpec(name string, s *flowcontrolv1.FlowSchemaSpec) field.ErrorList {
	fld := field.NewPath("spec")
	mp := fld.Child("matchingPrecedence")
	var errs field.ErrorList
	if s.MatchingPrecedence <= 0 {
		errs = append(errs, field.Invalid(mp, s.MatchingPrecedence, "must be a positive value"))
	}
	if s.MatchingPrecedence > maxMatchingPrecedence {
		errs = append(errs, field.Invalid(mp, s.MatchingPrecedence, fmt.Sprintf("must not be greater than %v", maxMatchingPrecedence)))
	}
	if s.MatchingPrecedence == 1 && name != flowcontrolv1.FlowSchemaNameExempt {
		errs = append(errs, field.Invalid(mp, s.MatchingPrecedence, "only the schema named 'exempt' may have matchingPrecedence 1"))
	}
	if d := s.DistinguisherMethod; d != nil && d.Type != flowcontrolv1.FlowDistinguisherMethodByUserType && d.Type != flowcontrolv1.FlowDistinguisherMethodByNamespaceType {
		errs = append(errs, field.NotSupported(fld.Child("distinguisherMethod", "type"), badvalue.Internal(*d), distinguisherMethods))
	}
	if s.PriorityLevelConfiguration.Name == "" {
		errs = append(errs, field.Required(fld.Child("priorityLevelConfiguration", "name"), "must reference a priority level"))
	}
	for i, r := range s.Rules {
		rf := fld.Child("rules").Index(i)
		if len(r.Subjects) == 0 {
			errs = append(errs, field.Required(rf.Child("subjects"), "subjects must contain at least one value"))
		}
		if len(r.ResourceRules) == 0 && len(r.NonResourceRules) == 0 {
			errs = append(errs, field.Required(rf, "at least one of resourceRules and nonResourceRules has to be non-empty"))
		}
	}
	return errs
}
