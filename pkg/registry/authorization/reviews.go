package authorization

import (
	"context"
	"fmt"
	"strings"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/auth"
	"github.com/minik8s/minik8s/pkg/auth/authorizer"
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
func SelfSubjectAccessReviews(a authorizer.Interface) *registry.Resource {
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
			r.Status = decide(ctx, a, callerOf(auth.UserFrom(ctx)), r.Spec.ResourceAttributes, r.Spec.NonResourceAttributes)
			return r, nil
		})
}

// SubjectAccessReviews is authorization.k8s.io/v1 subjectaccessreviews: may
// this subject do this?
func SubjectAccessReviews(a authorizer.Interface) *registry.Resource {
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
func LocalSubjectAccessReviews(a authorizer.Interface) *registry.Resource {
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
func SelfSubjectRulesReviews(a authorizer.Interface) *registry.Resource {
	a = orDefault(a)
	return review("selfsubjectrulesreviews", "SelfSubjectRulesReview", false,
		func() runtime.Object { return &authorizationv1.SelfSubjectRulesReview{} },
		nil,
		func(ctx context.Context, obj runtime.Object) (runtime.Object, error) {
			r := obj.(*authorizationv1.SelfSubjectRulesReview)
			if r.Spec.Namespace == "" {
				return nil, apierrors.NewBadRequest("no namespace on request")
			}
			rules, incomplete, err := a.RulesFor(ctx, callerOf(auth.UserFrom(ctx)), r.Spec.Namespace)
			// Upstream answers with the status alone.
			out := &authorizationv1.SelfSubjectRulesReview{Status: authorizationv1.SubjectRulesReviewStatus{
				ResourceRules: resourceRules(rules), NonResourceRules: nonResourceRules(rules), Incomplete: incomplete,
			}}
			if err != nil {
				out.Status.EvaluationError = err.Error()
			}
			return out, nil
		})
}

// resourceRules and nonResourceRules split policy rules as a rules review
// reports them: a rule with both parts appears in both lists.
func resourceRules(rules []rbacv1.PolicyRule) []authorizationv1.ResourceRule {
	out := []authorizationv1.ResourceRule{}
	for _, r := range rules {
		if len(r.Resources) > 0 {
			out = append(out, authorizationv1.ResourceRule{Verbs: r.Verbs, APIGroups: r.APIGroups, Resources: r.Resources, ResourceNames: r.ResourceNames})
		}
	}
	return out
}

func nonResourceRules(rules []rbacv1.PolicyRule) []authorizationv1.NonResourceRule {
	out := []authorizationv1.NonResourceRule{}
	for _, r := range rules {
		if len(r.NonResourceURLs) > 0 {
			out = append(out, authorizationv1.NonResourceRule{Verbs: r.Verbs, NonResourceURLs: r.NonResourceURLs})
		}
	}
	return out
}

// specSubject is the user a review asks about.
func specSubject(s *authorizationv1.SubjectAccessReviewSpec) *auth.User {
	u := &auth.User{Name: s.User, UID: s.UID, Groups: s.Groups}
	if len(s.Extra) > 0 {
		u.Extra = map[string][]string{}
		for k, v := range s.Extra {
			u.Extra[k] = v
		}
	}
	return u
}

// decide asks the authorizer about a resource or a non-resource request; an
// authorizer's failure is reported in the answer, as upstream does.
func decide(ctx context.Context, a authorizer.Authorizer, u *auth.User, ra *authorizationv1.ResourceAttributes,
	nra *authorizationv1.NonResourceAttributes) authorizationv1.SubjectAccessReviewStatus {
	attrs := authorizer.Attributes{User: u, Explain: true}
	var selectorErr string
	if ra != nil {
		attrs.IsResource = true
		attrs.Verb, attrs.Group, attrs.Version, attrs.Resource = ra.Verb, ra.Group, ra.Version, ra.Resource
		attrs.Subresource, attrs.Namespace, attrs.Name = ra.Subresource, ra.Namespace, ra.Name
		if attrs.Version == "" {
			attrs.Version = "*"
		}
		attrs.FieldRequirements, selectorErr = fieldRequirements(ra.FieldSelector)
	} else if nra != nil {
		attrs.Verb, attrs.Path = nra.Verb, nra.Path
	}
	d, reason, err := a.Authorize(ctx, attrs)
	status := authorizationv1.SubjectAccessReviewStatus{Allowed: d == authorizer.Allow, Denied: d == authorizer.Deny, Reason: reason}
	var errs []string
	if err != nil {
		errs = append(errs, err.Error())
	}
	if selectorErr != "" {
		errs = append(errs, selectorErr)
	}
	status.EvaluationError = strings.Join(errs, "; ")
	return status
}

// fieldRequirements turns a review's field selector into what authorizers
// read; what cannot be understood is ignored, and said so.
func fieldRequirements(s *authorizationv1.FieldSelectorAttributes) (fields.Requirements, string) {
	if s == nil {
		return nil, ""
	}
	if s.RawSelector != "" {
		sel, err := fields.ParseSelector(s.RawSelector)
		if err != nil {
			return nil, "spec.resourceAttributes.fieldSelector ignored due to parse error"
		}
		return sel.Requirements(), ""
	}
	var out fields.Requirements
	partial := false
	for _, r := range s.Requirements {
		switch {
		case r.Operator == metav1.FieldSelectorOpIn && len(r.Values) == 1:
			out = append(out, fields.Requirement{Field: r.Key, Operator: selection.Equals, Value: r.Values[0]})
		case r.Operator == metav1.FieldSelectorOpNotIn && len(r.Values) == 1:
			out = append(out, fields.Requirement{Field: r.Key, Operator: selection.NotEquals, Value: r.Values[0]})
		default:
			partial = true
		}
	}
	if partial {
		if len(out) > 0 {
			return out, "spec.resourceAttributes.fieldSelector partially ignored due to parse error"
		}
		return out, "spec.resourceAttributes.fieldSelector ignored due to parse error"
	}
	return out, ""
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
