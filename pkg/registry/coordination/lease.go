// Package coordination describes coordination.k8s.io/v1 Leases, which node
// heartbeats and leader election write.
package coordination

import (
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
)

// Resources returns every coordination.k8s.io/v1 resource.
func Resources() []*registry.Resource { return []*registry.Resource{Leases()} }

// Leases is coordination.k8s.io/v1 leases.
func Leases() *registry.Resource {
	return &registry.Resource{
		Group: "coordination.k8s.io", Version: "v1", Name: "leases", Kind: "Lease", SingularName: "lease",
		CreateOnUpdate: true,
		Namespaced:     true,
		New:            func() runtime.Object { return &coordinationv1.Lease{} },
		NewList:        func() runtime.Object { return &coordinationv1.LeaseList{} },
		KeyPrefix:      "leases",
		Strategy: &registry.Generic{
			Create: func(obj runtime.Object) { dropCoordinatedElection(obj.(*coordinationv1.Lease), nil) },
			Update: func(obj, old runtime.Object) {
				dropCoordinatedElection(obj.(*coordinationv1.Lease), old.(*coordinationv1.Lease))
			},
			Validation: func(obj runtime.Object) field.ErrorList { return validateLeaseSpec(&obj.(*coordinationv1.Lease).Spec) },
			// Leases are rewritten every few seconds; a generation would only churn.
			NoStatusSplit: true,
			NoGeneration:  true,
		},
		Table: &registry.Table{
			Cols: []metav1.TableColumnDefinition{registry.NameColumn,
				registry.Col("Holder", "string", coordinationv1.LeaseSpec{}.SwaggerDoc()["holderIdentity"], 0),
				registry.AgeColumn,
			},
			Cells: func(obj runtime.Object) []interface{} {
				l := obj.(*coordinationv1.Lease)
				holder := ""
				if l.Spec.HolderIdentity != nil {
					holder = *l.Spec.HolderIdentity
				}
				return []interface{}{l.Name, holder, registry.Age(l.CreationTimestamp)}
			},
		},
	}
}

// dropCoordinatedElection clears the fields of coordinated leader election, a
// feature upstream keeps off by default, unless the stored lease uses them.
func dropCoordinatedElection(l, old *coordinationv1.Lease) {
	if old != nil && (old.Spec.Strategy != nil || old.Spec.PreferredHolder != nil) {
		return
	}
	l.Spec.Strategy, l.Spec.PreferredHolder = nil, nil
}

func validateLeaseSpec(s *coordinationv1.LeaseSpec) field.ErrorList {
	fld := field.NewPath("spec")
	var errs field.ErrorList
	if s.LeaseDurationSeconds != nil && *s.LeaseDurationSeconds <= 0 {
		errs = append(errs, field.Invalid(fld.Child("leaseDurationSeconds"), s.LeaseDurationSeconds, "must be greater than 0"))
	}
	if s.LeaseTransitions != nil && *s.LeaseTransitions < 0 {
		errs = append(errs, field.Invalid(fld.Child("leaseTransitions"), s.LeaseTransitions, "must be greater than or equal to 0"))
	}
	if s.Strategy != nil && *s.Strategy != coordinationv1.OldestEmulationVersion {
		errs = append(errs, field.NotSupported(fld.Child("strategy"), *s.Strategy, []coordinationv1.CoordinatedLeaseStrategy{coordinationv1.OldestEmulationVersion}))
	}
	if s.PreferredHolder != nil && *s.PreferredHolder != "" && (s.Strategy == nil || *s.Strategy == "") {
		errs = append(errs, field.Forbidden(fld.Child("preferredHolder"), "may only be specified if `strategy` is defined"))
	}
	return errs
}
