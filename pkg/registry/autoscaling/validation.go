package autoscaling

import (
	"fmt"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	pathvalidation "k8s.io/apimachinery/pkg/api/validation/path"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry/podspec"
)

// Upper bounds of the scaling behavior.
const (
	maxPeriodSeconds              = 1800
	maxStabilizationWindowSeconds = 3600
)

// refRules say how strictly an object reference's apiVersion is checked.
type refRules struct {
	allowEmptyGroup, allowInvalidVersion bool
}

// validateHPA checks an HPA; old is the stored one on update, which relaxes the
// rules a stored object may already break.
func validateHPA(h, old *autoscalingv2.HorizontalPodAutoscaler) field.ErrorList {
	s := &h.Spec
	fld := field.NewPath("spec")
	minBound := int32(1)
	if old != nil && old.Spec.MinReplicas != nil && *old.Spec.MinReplicas == 0 {
		minBound = 0
	}
	target := refRules{}
	switch {
	case old != nil && old.Spec.ScaleTargetRef.APIVersion == s.ScaleTargetRef.APIVersion && old.Spec.ScaleTargetRef.Kind == s.ScaleTargetRef.Kind:
		target.allowInvalidVersion = true
	case s.ScaleTargetRef.Kind == "ReplicationController":
		target.allowEmptyGroup = true
	}
	objects := refRules{allowEmptyGroup: true}
	if old != nil {
		for _, m := range old.Spec.Metrics {
			if m.Type == autoscalingv2.ObjectMetricSourceType && m.Object != nil && checkAPIVersion(m.Object.DescribedObject, objects) != nil {
				objects.allowInvalidVersion = true
				break
			}
		}
	}

	var errs field.ErrorList
	if s.MinReplicas != nil && *s.MinReplicas < minBound {
		errs = append(errs, field.Invalid(fld.Child("minReplicas"), *s.MinReplicas, fmt.Sprintf("must be greater than or equal to %d", minBound)))
	}
	if s.MaxReplicas < 1 {
		errs = append(errs, field.Invalid(fld.Child("maxReplicas"), s.MaxReplicas, "must be greater than 0"))
	}
	if s.MinReplicas != nil && s.MaxReplicas < *s.MinReplicas {
		errs = append(errs, field.Invalid(fld.Child("maxReplicas"), s.MaxReplicas, "must be greater than or equal to `minReplicas`"))
	}
	errs = append(errs, validateReference(s.ScaleTargetRef, fld.Child("scaleTargetRef"), target)...)
	errs = append(errs, validateMetrics(s.Metrics, fld.Child("metrics"), s.MinReplicas, objects)...)
	if b := s.Behavior; b != nil {
		errs = append(errs, validateScalingRules(b.ScaleUp, fld.Child("behavior", "scaleUp"))...)
		errs = append(errs, validateScalingRules(b.ScaleDown, fld.Child("behavior", "scaleDown"))...)
	}
	return errs
}

func validateHPAStatus(s *autoscalingv2.HorizontalPodAutoscalerStatus) field.ErrorList {
	errs := apivalidation.ValidateNonnegativeField(int64(s.CurrentReplicas), field.NewPath("status", "currentReplicas"))
	return append(errs, apivalidation.ValidateNonnegativeField(int64(s.DesiredReplicas), field.NewPath("status", "desiredReplicas"))...)
}

func validateReference(ref autoscalingv2.CrossVersionObjectReference, fld *field.Path, rules refRules) field.ErrorList {
	var errs field.ErrorList
	if ref.Kind == "" {
		errs = append(errs, field.Required(fld.Child("kind"), ""))
	} else {
		for _, msg := range pathvalidation.IsValidPathSegmentName(ref.Kind) {
			errs = append(errs, field.Invalid(fld.Child("kind"), ref.Kind, msg))
		}
	}
	if ref.Name == "" {
		errs = append(errs, field.Required(fld.Child("name"), ""))
	} else {
		for _, msg := range pathvalidation.IsValidPathSegmentName(ref.Name) {
			errs = append(errs, field.Invalid(fld.Child("name"), ref.Name, msg))
		}
	}
	if err := checkAPIVersion(ref, rules); err != nil {
		errs = append(errs, field.Invalid(fld.Child("apiVersion"), ref.APIVersion, err.Error()))
	}
	return errs
}

func checkAPIVersion(ref autoscalingv2.CrossVersionObjectReference, rules refRules) error {
	if rules.allowInvalidVersion {
		return nil
	}
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return err
	}
	if !rules.allowEmptyGroup && gv.Group == "" {
		return fmt.Errorf("apiVersion must specify API group")
	}
	return nil
}

func validateMetrics(metrics []autoscalingv2.MetricSpec, fld *field.Path, minReplicas *int32, objects refRules) field.ErrorList {
	var errs field.ErrorList
	scalesFromZero := false
	for i := range metrics {
		errs = append(errs, validateMetricSpec(&metrics[i], fld.Index(i), objects)...)
		if t := metrics[i].Type; t == autoscalingv2.ObjectMetricSourceType || t == autoscalingv2.ExternalMetricSourceType {
			scalesFromZero = true
		}
	}
	if minReplicas != nil && *minReplicas == 0 && !scalesFromZero {
		errs = append(errs, field.Forbidden(fld, "must specify at least one Object or External metric to support scaling to zero replicas"))
	}
	return errs
}

var metricSourceTypes = []autoscalingv2.MetricSourceType{autoscalingv2.ContainerResourceMetricSourceType,
	autoscalingv2.ExternalMetricSourceType, autoscalingv2.ObjectMetricSourceType, autoscalingv2.PodsMetricSourceType,
	autoscalingv2.ResourceMetricSourceType}

// validateMetricSpec checks one metric: its type names exactly the source that
// is filled in.
func validateMetricSpec(m *autoscalingv2.MetricSpec, fld *field.Path, objects refRules) field.ErrorList {
	var errs field.ErrorList
	if m.Type == "" {
		errs = append(errs, field.Required(fld.Child("type"), "must specify a metric source type"))
	}
	known := false
	for _, t := range metricSourceTypes {
		known = known || t == m.Type
	}
	if !known {
		errs = append(errs, field.NotSupported(fld.Child("type"), m.Type, metricSourceTypes))
	}
	// Sources are checked in upstream's order; only the first present is looked into.
	var present []string
	check := func(name string, set bool, validate func() field.ErrorList) {
		if !set {
			return
		}
		present = append(present, name)
		if len(present) == 1 {
			errs = append(errs, validate()...)
		}
	}
	check("object", m.Object != nil, func() field.ErrorList { return validateObjectSource(m.Object, fld.Child("object"), objects) })
	check("external", m.External != nil, func() field.ErrorList { return validateExternalSource(m.External, fld.Child("external")) })
	check("pods", m.Pods != nil, func() field.ErrorList { return validatePodsSource(m.Pods, fld.Child("pods")) })
	check("resource", m.Resource != nil, func() field.ErrorList { return validateResourceSource(m.Resource, fld.Child("resource")) })
	check("containerResource", m.ContainerResource != nil, func() field.ErrorList {
		return validateContainerResourceSource(m.ContainerResource, fld.Child("containerResource"))
	})

	expected := ""
	missing := func(name string, set bool) {
		expected = name
		if !set {
			errs = append(errs, field.Required(fld.Child(name), "must populate information for the given metric source"))
		}
	}
	switch m.Type {
	case autoscalingv2.ObjectMetricSourceType:
		missing("object", m.Object != nil)
	case autoscalingv2.PodsMetricSourceType:
		missing("pods", m.Pods != nil)
	case autoscalingv2.ResourceMetricSourceType:
		missing("resource", m.Resource != nil)
	case autoscalingv2.ExternalMetricSourceType:
		missing("external", m.External != nil)
	case autoscalingv2.ContainerResourceMetricSourceType:
		missing("containerResource", m.ContainerResource != nil)
	default:
		errs = append(errs, field.NotSupported(fld.Child("type"), m.Type, metricSourceTypes))
	}
	if len(present) != 1 {
		for _, name := range present {
			if name != expected {
				errs = append(errs, field.Forbidden(fld.Child(name), "must populate the given metric source only"))
			}
		}
	}
	return errs
}

func validateObjectSource(src *autoscalingv2.ObjectMetricSource, fld *field.Path, objects refRules) field.ErrorList {
	errs := validateReference(src.DescribedObject, fld.Child("describedObject"), objects)
	errs = append(errs, validateMetricIdentifier(src.Metric, fld.Child("metric"))...)
	errs = append(errs, validateMetricTarget(src.Target, fld.Child("target"))...)
	if src.Target.Value == nil && src.Target.AverageValue == nil {
		errs = append(errs, field.Required(fld.Child("target", "averageValue"), "must set either a target value or averageValue"))
	}
	return errs
}

func validateExternalSource(src *autoscalingv2.ExternalMetricSource, fld *field.Path) field.ErrorList {
	errs := validateMetricIdentifier(src.Metric, fld.Child("metric"))
	errs = append(errs, validateMetricTarget(src.Target, fld.Child("target"))...)
	if src.Target.Value == nil && src.Target.AverageValue == nil {
		errs = append(errs, field.Required(fld.Child("target", "averageValue"), "must set either a target value for metric or a per-pod target"))
	}
	if src.Target.Value != nil && src.Target.AverageValue != nil {
		errs = append(errs, field.Forbidden(fld.Child("target", "value"), "may not set both a target value for metric and a per-pod target"))
	}
	return errs
}

func validatePodsSource(src *autoscalingv2.PodsMetricSource, fld *field.Path) field.ErrorList {
	errs := validateMetricIdentifier(src.Metric, fld.Child("metric"))
	errs = append(errs, validateMetricTarget(src.Target, fld.Child("target"))...)
	if src.Target.AverageValue == nil {
		errs = append(errs, field.Required(fld.Child("target", "averageValue"), "must specify a positive target averageValue"))
	}
	return errs
}

func validateResourceSource(src *autoscalingv2.ResourceMetricSource, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if src.Name == "" {
		errs = append(errs, field.Required(fld.Child("name"), "must specify a resource name"))
	}
	return append(errs, validateUtilizationOrValue(src.Target, fld.Child("target"))...)
}

func validateContainerResourceSource(src *autoscalingv2.ContainerResourceMetricSource, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if src.Name == "" {
		errs = append(errs, field.Required(fld.Child("name"), "must specify a resource name"))
	} else {
		errs = append(errs, podspec.ValidateResourceName(src.Name, fld.Child("name"))...)
	}
	if src.Container == "" {
		errs = append(errs, field.Required(fld.Child("container"), "must specify a container"))
	} else {
		errs = append(errs, podspec.DNS1123Label(src.Container, fld.Child("container"))...)
	}
	return append(errs, validateUtilizationOrValue(src.Target, fld.Child("target"))...)
}

// validateUtilizationOrValue: a resource target is a utilization or a raw
// average, never both.
func validateUtilizationOrValue(t autoscalingv2.MetricTarget, fld *field.Path) field.ErrorList {
	errs := validateMetricTarget(t, fld)
	if t.AverageUtilization == nil && t.AverageValue == nil {
		errs = append(errs, field.Required(fld.Child("averageUtilization"), "must set either a target raw value or a target utilization"))
	}
	if t.AverageUtilization != nil && t.AverageValue != nil {
		errs = append(errs, field.Forbidden(fld.Child("averageValue"), "may not set both a target raw value and a target utilization"))
	}
	return errs
}

func validateMetricTarget(t autoscalingv2.MetricTarget, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if t.Type == "" {
		errs = append(errs, field.Required(fld.Child("type"), "must specify a metric target type"))
	}
	if t.Type != autoscalingv2.UtilizationMetricType && t.Type != autoscalingv2.ValueMetricType && t.Type != autoscalingv2.AverageValueMetricType {
		errs = append(errs, field.Invalid(fld.Child("type"), t.Type, "must be either Utilization, Value, or AverageValue"))
	}
	if t.Value != nil && t.Value.Sign() != 1 {
		errs = append(errs, field.Invalid(fld.Child("value"), t.Value, "must be positive"))
	}
	if t.AverageValue != nil && t.AverageValue.Sign() != 1 {
		errs = append(errs, field.Invalid(fld.Child("averageValue"), t.AverageValue, "must be positive"))
	}
	if t.AverageUtilization != nil && *t.AverageUtilization < 1 {
		errs = append(errs, field.Invalid(fld.Child("averageUtilization"), t.AverageUtilization, "must be greater than 0"))
	}
	return errs
}

func validateMetricIdentifier(id autoscalingv2.MetricIdentifier, fld *field.Path) field.ErrorList {
	if id.Name == "" {
		return field.ErrorList{field.Required(fld.Child("name"), "must specify a metric name")}
	}
	var errs field.ErrorList
	for _, msg := range pathvalidation.IsValidPathSegmentName(id.Name) {
		errs = append(errs, field.Invalid(fld.Child("name"), id.Name, msg))
	}
	return errs
}

var (
	selectPolicies = []autoscalingv2.ScalingPolicySelect{autoscalingv2.DisabledPolicySelect,
		autoscalingv2.MaxChangePolicySelect, autoscalingv2.MinChangePolicySelect}
	policyTypes = []autoscalingv2.HPAScalingPolicyType{autoscalingv2.PercentScalingPolicy, autoscalingv2.PodsScalingPolicy}
)

func validateScalingRules(r *autoscalingv2.HPAScalingRules, fld *field.Path) field.ErrorList {
	if r == nil {
		return nil
	}
	var errs field.ErrorList
	if w := r.StabilizationWindowSeconds; w != nil && *w < 0 {
		errs = append(errs, field.Invalid(fld.Child("stabilizationWindowSeconds"), w, "must be greater than or equal to zero"))
	}
	if w := r.StabilizationWindowSeconds; w != nil && *w > maxStabilizationWindowSeconds {
		errs = append(errs, field.Invalid(fld.Child("stabilizationWindowSeconds"), w, fmt.Sprintf("must be less than or equal to %v", maxStabilizationWindowSeconds)))
	}
	if p := r.SelectPolicy; p != nil && *p != autoscalingv2.MaxChangePolicySelect && *p != autoscalingv2.MinChangePolicySelect && *p != autoscalingv2.DisabledPolicySelect {
		errs = append(errs, field.NotSupported(fld.Child("selectPolicy"), p, selectPolicies))
	}
	pf := fld.Child("policies")
	if len(r.Policies) == 0 {
		errs = append(errs, field.Required(pf, "must specify at least one Policy"))
	}
	for i, p := range r.Policies {
		f := pf.Index(i)
		if p.Type != autoscalingv2.PodsScalingPolicy && p.Type != autoscalingv2.PercentScalingPolicy {
			errs = append(errs, field.NotSupported(f.Child("type"), p.Type, policyTypes))
		}
		if p.Value <= 0 {
			errs = append(errs, field.Invalid(f.Child("value"), p.Value, "must be greater than zero"))
		}
		if p.PeriodSeconds <= 0 {
			errs = append(errs, field.Invalid(f.Child("periodSeconds"), p.PeriodSeconds, "must be greater than zero"))
		}
		if p.PeriodSeconds > maxPeriodSeconds {
			errs = append(errs, field.Invalid(f.Child("periodSeconds"), p.PeriodSeconds, fmt.Sprintf("must be less than or equal to %v", maxPeriodSeconds)))
		}
	}
	if r.Tolerance != nil && r.Tolerance.Sign() < 0 {
		errs = append(errs, field.Invalid(fld.Child("tolerance"), r.Tolerance.String(), "must be greater than or equal to 0"))
	}
	return errs
}
