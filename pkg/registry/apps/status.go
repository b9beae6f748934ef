package apps

import (
	"fmt"

	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// counter is one named count of a status, for the checks all apps statuses share.
type counter struct {
	name  string
	value int64
}

// nonNegative rejects negative counts.
func nonNegative(fld *field.Path, cs ...counter) field.ErrorList {
	var errs field.ErrorList
	for _, c := range cs {
		errs = append(errs, apivalidation.ValidateNonnegativeField(c.value, fld.Child(c.name))...)
	}
	return errs
}

// notAboveReplicas rejects counts of pods larger than status.replicas.
func notAboveReplicas(fld *field.Path, replicas int32, cs ...counter) field.ErrorList {
	var errs field.ErrorList
	for _, c := range cs {
		if c.value > int64(replicas) {
			errs = append(errs, field.Invalid(fld.Child(c.name), c.value, "cannot be greater than status.replicas"))
		}
	}
	return errs
}

// collisionCountNotDecremented: the hash-collision counter only grows.
func collisionCountNotDecremented(now, before *int32) field.ErrorList {
	if before == nil || (now != nil && *now >= *before) {
		return nil
	}
	var v int32
	if now != nil {
		v = *now
	}
	return field.ErrorList{field.Invalid(field.NewPath("status", "collisionCount"), v, "cannot be decremented")}
}

// scaleSelector is the selector string a /scale status reports.
func scaleSelector(sel *metav1.LabelSelector) (string, error) {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return "", fmt.Errorf("invalid selector: %w", err)
	}
	return s.String(), nil
}

// ratio prints "ready/desired" as the Ready columns do.
func ratio(a, b int32) string { return fmt.Sprintf("%d/%d", a, b) }

func deref(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

func derefIntOrString(p *intstr.IntOrString) intstr.IntOrString {
	if p == nil {
		return intstr.IntOrString{}
	}
	return *p
}
