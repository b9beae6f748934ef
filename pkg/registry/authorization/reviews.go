package authorization

import (
	"context"
	"fmt"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/auth"
	"github.com/minik8s/minik8s/pkg/registry"
)

// review describes one create-only review resource.
func review(name, kind string, namespaced bool, newObj func() runtime.Object, validate func(runtime.Object) field.ErrorList,
	create func(context.Context, runtime.Object) (runtime.Object, error)) *registry.Resource {
	return &registry.Resource{
		Group: group, Version: "v1", Name: name, Kind: kind, SingularName: singular(name), Namespaced: namespaced,
		New: newObj, NewList: newObj,
		Verbs:    []string{"create"},
		Strategy: &registry.Generic{Validation: validate, NoStatusSplit: true, NoGeneration: true},
		Create:   create,
	}
}

// singular drops the plural "s" of a review resource name.
func singular(plural string) string { return plural[:len(plural)-1] }

// SelfSubjectAccessReviews is authorization.k8s.io/v1 selfsubjectaccessreviews:
// may I do this?
func SelfSubjectAccessReviews(a Authorizer) *registry.Resource {
	a = orDefault(a)
	return review("selfsubjectaccessreviews", "SelfSubjectAccessReview", false,
		func() runtime.Object { return &authorizationv1.SelfSubjectAccessReview{} },
		func(obj runtime.Object) field.ErrorList {
			r := obj.(*authorizationv1.SelfSubjectAccessReview)
			errs := validateAttributes(r.Spec.ResourceAttributes, r.Spec.NonResourceAttributes)
			return append(errs, metadataEmpty(r.ObjectMeta, false)...)
		},
		func(ctx context.Context, obj runtime.Object) (runtime.Object, error) {
			r := obj.(*authorizationv1.SelfSubjectAccessReview)
			r.Status = decide(ctx, a, subjectOf(auth.UserFrom(ctx)), r.Spec.ResourceAttributes, r.Spec.NonResourceAttributes)
			return r, nil
		})
}

// SubjectAccessReviews is authorization.k8s.io/v1 subjectaccessreviews: may
// this subject do this?
func SubjectAccessReviews(a Authorizer) *registry.Resource {
	a = orDefault(a)
	return review("subjectaccessreviews", "SubjectAccessReview", false,
		func() runtime.Object { return &authorizationv1.SubjectAccessReview{} },
		func(obj runtime.Object) field.ErrorList {
			r := obj.(*authorizationv1.SubjectAccessReview)
			return append(validateSubjectSpec(&r.Spec), metadataEmpty(r.ObjectMeta, false)...)
		},
		func(ctx context.Context, obj runtime.Object) (runtime.Object, error) {
			r := obj.(*authorizationv1.SubjectAccessReview)
			r.Status = decide(ctx, a, specSubject(&r.Spec), r.Spec.ResourceAttributes, r.Spec.NonResourceAttributes)
			return r, nil
		})
}

// LocalSubjectAccessReviews is authorization.k8s.io/v1
// localsubjectaccessreviews: a SubjectAccessReview within one namespace.
func LocalSubjectAccessReviews(a Authorizer) *registry.Resource {
	a = orDefault(a)
	return review("localsubjectaccessreviews", "LocalSubjectAccessReview", true,
		func() runtime.Object { return &authorizationv1.LocalSubjectAccessReview{} },
		func(obj runtime.Object) field.ErrorList {
			r := obj.(*authorizationv1.LocalSubjectAccessReview)
			errs := append(validateSubjectSpec(&r.Spec), metadataEmpty(r.ObjectMeta, true)...)
			if ra := r.Spec.ResourceAttributes; ra != nil && ra.Namespace != r.Namespace {
				errs = append(errs, field.Invalid(field.NewPath("spec.resourceAttributes.namespace"), ra.Namespace, "must match metadata.namespace"))
			}
			if r.Spec.NonResourceAttributes != nil {
				errs = append(errs, field.Invalid(field.NewPath("spec.nonResourceAttributes"), r.Spec.NonResourceAttributes, "disallowed on this kind of request"))
			}
			return errs
		},
		func(ctx context.Context, obj runtime.Object) (runtime.Object, error) {
			r := obj.(*authorizationv1.LocalSubjectAccessReview)
			r.Status = decide(ctx, a, specSubject(&r.Spec), r.Spec.ResourceAttributes, r.Spec.NonResourceAttributes)
			return r, nil
		})
}

// SelfSubjectRulesReviews is authorization.k8s.io/v1 selfsubjectrulesreviews:
// what may I do in this namespace?
func SelfSubjectRulesReviews(a Authorizer) *registry.Resource {
	a = orDefault(a)
	return review("selfsubjectrulesreviews", "SelfSubjectRulesReview", false,
		func() runtime.Object { return &authorizationv1.SelfSubjectRulesReview{} },
		nil,
		func(ctx context.Context, obj runtime.Object) (runtime.Object, error) {
			r := obj.(*authorizationv1.SelfSubjectRulesReview)
			if r.Spec.Namespace == "" {
				return nil, apierrors.NewBadRequest("no namespace on request")
			}
			rules, err := a.Rules(ctx, subjectOf(auth.UserFrom(ctx)), r.Spec.Namespace)
			if err != nil {
				return nil, apierrors.NewInternalError(fmt.Errorf("list rules: %w", err))
			}
			// Upstream answers with the status alone.
			return &authorizationv1.SelfSubjectRulesReview{Status: authorizationv1.SubjectRulesReviewStatus{
				ResourceRules: rules.Resource, NonResourceRules: rules.NonResource, Incomplete: rules.Incomplete,
			}}, nil
		})
}

func specSubject(s *authorizationv1.SubjectAccessReviewSpec) Subject {
	sub := Subject{User: s.User, UID: s.UID, Groups: s.Groups}
	if len(s.Extra) > 0 {
		sub.Extra = map[string][]string{}
		for k, v := range s.Extra {
			sub.Extra[k] = v
		}
	}
	return sub
}

// decide asks the authorizer about a resource or a non-resource request; an
// authorizer's failure is reported in the answer, as upstream does.
func decide(ctx context.Context, a Authorizer, s Subject, ra *authorizationv1.ResourceAttributes,
	nra *authorizationv1.NonResourceAttributes) authorizationv1.SubjectAccessReviewStatus {
	var attrs Attributes
	if ra != nil {
		attrs = Attributes{Verb: ra.Verb, IsResource: true, Group: ra.Group, Version: ra.Version, Resource: ra.Resource,
			Subresource: ra.Subresource, Namespace: ra.Namespace, Name: ra.Name}
	} else if nra != nil {
		attrs = Attributes{Verb: nra.Verb, Path: nra.Path}
	}
	allowed, reason, err := a.Authorize(ctx, s, attrs)
	status := authorizationv1.SubjectAccessReviewStatus{Allowed: allowed, Reason: reason}
	if err != nil {
		status.EvaluationError = err.Error()
	}
	return status
}

func validateAttributes(ra *authorizationv1.ResourceAttributes, nra *authorizationv1.NonResourceAttributes) field.ErrorList {
	fld := field.NewPath("spec")
	var errs field.ErrorList
	if ra != nil && nra != nil {
		errs = append(errs, field.Invalid(fld.Child("nonResourceAttributes"), nra, "cannot be specified in combination with resourceAttributes"))
	}
	if ra == nil && nra == nil {
		errs = append(errs, field.Invalid(fld.Child("resourceAttributes"), nra, "exactly one of nonResourceAttributes or resourceAttributes must be specified"))
	}
	if ra != nil {
		errs = append(errs, validateSelectors(ra, field.NewPath("spec.resourceAttributes"))...)
	}
	return errs
}

func validateSubjectSpec(s *authorizationv1.SubjectAccessReviewSpec) field.ErrorList {
	fld := field.NewPath("spec")
	var errs field.ErrorList
	if s.ResourceAttributes != nil && s.NonResourceAttributes != nil {
		errs = append(errs, field.Invalid(fld.Child("nonResourceAttributes"), s.NonResourceAttributes, "cannot be specified in combination with resourceAttributes"))
	}
	if s.ResourceAttributes == nil && s.NonResourceAttributes == nil {
		errs = append(errs, field.Invalid(fld.Child("resourceAttributes"), s.NonResourceAttributes, "exactly one of nonResourceAttributes or resourceAttributes must be specified"))
	}
	if s.User == "" && len(s.Groups) == 0 {
		errs = append(errs, field.Invalid(fld.Child("user"), s.User, "at least one of user or group must be specified"))
	}
	if s.ResourceAttributes != nil {
		errs = append(errs, validateSelectors(s.ResourceAttributes, field.NewPath("spec.resourceAttributes"))...)
	}
	return errs
}

// validateSelectors checks the label and field selectors a list or watch
// review may carry.
func validateSelectors(ra *authorizationv1.ResourceAttributes, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s := ra.FieldSelector; s != nil {
		f := fld.Child("fieldSelector")
		errs = append(errs, rawOrRequirements(s.RawSelector, len(s.Requirements), f)...)
		for i, r := range s.Requirements {
			errs = append(errs, metavalidation.ValidateFieldSelectorRequirement(r,
				metavalidation.FieldSelectorValidationOptions{AllowUnknownOperatorInRequirement: true}, f.Child("requirements").Index(i))...)
		}
	}
	if s := ra.LabelSelector; s != nil {
		f := fld.Child("labelSelector")
		errs = append(errs, rawOrRequirements(s.RawSelector, len(s.Requirements), f)...)
		for i, r := range s.Requirements {
			errs = append(errs, metavalidation.ValidateLabelSelectorRequirement(r,
				metavalidation.LabelSelectorValidationOptions{AllowUnknownOperatorInRequirement: true}, f.Child("requirements").Index(i))...)
		}
	}
	return errs
}

func rawOrRequirements(raw string, n int, fld *field.Path) field.ErrorList {
	switch {
	case raw != "" && n > 0:
		return field.ErrorList{field.Invalid(fld.Child("rawSelector"), raw, "may not specified at the same time as requirements")}
	case raw == "" && n == 0:
		return field.ErrorList{field.Required(fld.Child("requirements"), fmt.Sprintf("when %s is specified, requirements or rawSelector is required", fld))}
	}
	return nil
}

// metadataEmpty: a review is a question, not an object; it has no metadata
// (but the namespace of a local review).
func metadataEmpty(m metav1.ObjectMeta, keepNamespace bool) field.ErrorList {
	c := m
	c.ManagedFields = nil
	if keepNamespace {
		c.Namespace = ""
	}
	if equality.Semantic.DeepEqual(metav1.ObjectMeta{}, c) {
		return nil
	}
	msg := "must be empty"
	if keepNamespace {
		msg = "must be empty except for namespace"
	}
	return field.ErrorList{field.Invalid(field.NewPath("metadata"), m, msg)}
}
