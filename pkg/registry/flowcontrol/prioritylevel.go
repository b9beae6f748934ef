package flowcontrol

import (
	"fmt"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
)

// PriorityLevelConfigurations is flowcontrol.apiserver.k8s.io/v1
// prioritylevelconfigurations.
func PriorityLevelConfigurations() *registry.Resource {
	return &registry.Resource{
		Group: group, Version: "v1", Name: "prioritylevelconfigurations", Kind: "PriorityLevelConfiguration",
		SingularName: "prioritylevelconfiguration",
		New:          func() runtime.Object { return &flowcontrolv1.PriorityLevelConfiguration{} },
		NewList:      func() runtime.Object { return &flowcontrolv1.PriorityLevelConfigurationList{} },
		KeyPrefix:    "prioritylevelconfigurations",
		Status:       true,
		Strategy: &registry.Generic{
			Defaults: defaultPriorityLevel,
			Validation: func(obj runtime.Object) field.ErrorList {
				pl := obj.(*flowcontrolv1.PriorityLevelConfiguration)
				return validatePriorityLevelSpec(pl.Name, &pl.Spec)
			},
		},
		Table: &registry.Table{
			Cols: []metav1.TableColumnDefinition{registry.NameColumn,
				registry.Col("Type", "string", flowcontrolv1.PriorityLevelConfigurationSpec{}.SwaggerDoc()["type"], 0),
				registry.Col("NominalConcurrencyShares", "string", flowcontrolv1.LimitedPriorityLevelConfiguration{}.SwaggerDoc()["nominalConcurrencyShares"], 0),
				registry.Col("Queues", "string", flowcontrolv1.QueuingConfiguration{}.SwaggerDoc()["queues"], 0),
				registry.Col("HandSize", "string", flowcontrolv1.QueuingConfiguration{}.SwaggerDoc()["handSize"], 0),
				registry.Col("QueueLengthLimit", "string", flowcontrolv1.QueuingConfiguration{}.SwaggerDoc()["queueLengthLimit"], 0),
				registry.AgeColumn,
			},
			Cells: func(obj runtime.Object) []interface{} {
				pl := obj.(*flowcontrolv1.PriorityLevelConfiguration)
				var shares, queues, hand, limit interface{} = "<none>", "<none>", "<none>", "<none>"
				if l := pl.Spec.Limited; l != nil {
					if l.NominalConcurrencyShares != nil {
						shares = int64(*l.NominalConcurrencyShares)
					}
					if q := l.LimitResponse.Queuing; q != nil {
						queues, hand, limit = int64(q.Queues), int64(q.HandSize), int64(q.QueueLengthLimit)
					}
				}
				return []interface{}{pl.Name, string(pl.Spec.Type), shares, queues, hand, limit, registry.Age(pl.CreationTimestamp)}
			},
		},
	}
}

func defaultPriorityLevel(obj runtime.Object) {
	s := &obj.(*flowcontrolv1.PriorityLevelConfiguration).Spec
	zero := func(p **int32) {
		if *p == nil {
			v := int32(0)
			*p = &v
		}
	}
	if l := s.Limited; l != nil {
		if l.NominalConcurrencyShares == nil {
			v := int32(defaultConcurrencyShares)
			l.NominalConcurrencyShares = &v
		}
		zero(&l.LendablePercent)
		if q := l.LimitResponse.Queuing; q != nil {
			if q.HandSize == 0 {
				q.HandSize = defaultHandSize
			}
			if q.Queues == 0 {
				q.Queues = defaultQueues
			}
			if q.QueueLengthLimit == 0 {
				q.QueueLengthLimit = defaultQueueLengthLimit
			}
		}
	}
	if e := s.Exempt; e != nil {
		zero(&e.NominalConcurrencyShares)
		zero(&e.LendablePercent)
	}
}

var (
	enablements    = []flowcontrolv1.PriorityLevelEnablement{flowcontrolv1.PriorityLevelEnablementExempt, flowcontrolv1.PriorityLevelEnablementLimited}
	limitResponses = []flowcontrolv1.LimitResponseType{flowcontrolv1.LimitResponseTypeQueue, flowcontrolv1.LimitResponseTypeReject}
)

func validatePriorityLevelSpec(name string, s *flowcontrolv1.PriorityLevelConfigurationSpec) field.ErrorList {
	fld := field.NewPath("spec")
	var errs field.ErrorList
	if (name == flowcontrolv1.PriorityLevelConfigurationNameExempt) != (s.Type == flowcontrolv1.PriorityLevelEnablementExempt) {
		errs = append(errs, field.Invalid(fld.Child("type"), s.Type, "must be 'Exempt' if and only if `name` is 'exempt'"))
	}
	switch s.Type {
	case flowcontrolv1.PriorityLevelEnablementExempt:
		if s.Limited != nil {
			errs = append(errs, field.Forbidden(fld.Child("limited"), "must be nil if the type is not Limited"))
		}
		if e := s.Exempt; e != nil {
			errs = append(errs, nonNegativeShares(e.NominalConcurrencyShares, fld.Child("exempt", "nominalConcurrencyShares"))...)
			errs = append(errs, percent(e.LendablePercent, fld.Child("exempt", "lendablePercent"))...)
		}
	case flowcontrolv1.PriorityLevelEnablementLimited:
		if s.Exempt != nil {
			errs = append(errs, field.Forbidden(fld.Child("exempt"), "must be nil if the type is Limited"))
		}
		if s.Limited == nil {
			errs = append(errs, field.Required(fld.Child("limited"), "must not be empty when type is Limited"))
		} else {
			errs = append(errs, validateLimited(s.Limited, fld.Child("limited"))...)
		}
	default:
		errs = append(errs, field.NotSupported(fld.Child("type"), s.Type, enablements))
	}
	return errs
}

func validateLimited(l *flowcontrolv1.LimitedPriorityLevelConfiguration, fld *field.Path) field.ErrorList {
	errs := nonNegativeShares(l.NominalConcurrencyShares, fld.Child("nominalConcurrencyShares"))
	lr := l.LimitResponse
	lf := fld.Child("limitResponse")
	switch lr.Type {
	case flowcontrolv1.LimitResponseTypeReject:
		if lr.Queuing != nil {
			errs = append(errs, field.Forbidden(lf.Child("queuing"), "must be nil if limited.limitResponse.type is not Limited"))
		}
	case flowcontrolv1.LimitResponseTypeQueue:
		if lr.Queuing == nil {
			errs = append(errs, field.Required(lf.Child("queuing"), "must not be empty if limited.limitResponse.type is Limited"))
		} else {
			errs = append(errs, validateQueuing(lr.Queuing, lf.Child("queuing"))...)
		}
	default:
		errs = append(errs, field.NotSupported(lf.Child("type"), lr.Type, limitResponses))
	}
	errs = append(errs, percent(l.LendablePercent, fld.Child("lendablePercent"))...)
	if b := l.BorrowingLimitPercent; b != nil && *b < 0 {
		errs = append(errs, field.Invalid(fld.Child("borrowingLimitPercent"), *b, "if specified, must be a non-negative integer"))
	}
	return errs
}

func validateQueuing(q *flowcontrolv1.QueuingConfiguration, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if q.QueueLengthLimit <= 0 {
		errs = append(errs, field.Invalid(fld.Child("queueLengthLimit"), q.QueueLengthLimit, "must be positive"))
	}
	switch {
	case q.Queues <= 0:
		errs = append(errs, field.Invalid(fld.Child("queues"), q.Queues, "must be positive"))
	case q.Queues > maxQueues:
		errs = append(errs, field.Invalid(fld.Child("queues"), q.Queues, fmt.Sprintf("must not be greater than %d", maxQueues)))
	}
	if q.HandSize <= 0 {
		errs = append(errs, field.Invalid(fld.Child("handSize"), q.HandSize, "must be positive"))
	} else if q.HandSize > q.Queues {
		errs = append(errs, field.Invalid(fld.Child("handSize"), q.HandSize, fmt.Sprintf("should not be greater than queues (%d)", q.Queues)))
	}
	return errs
}

func nonNegativeShares(v *int32, fld *field.Path) field.ErrorList {
	if v != nil && *v < 0 {
		return field.ErrorList{field.Invalid(fld, *v, "must be a non-negative integer")}
	}
	return nil
}

func percent(v *int32, fld *field.Path) field.ErrorList {
	if v != nil && (*v < 0 || *v > 100) {
		return field.ErrorList{field.Invalid(fld, *v, "must be between 0 and 100, inclusive")}
	}
	return nil
}
