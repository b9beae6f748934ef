package admissionregistration

import (
	"encoding/json"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
)

// ValidatingAdmissionPolicies is admissionregistration.k8s.io/v1
// validatingadmissionpolicies. Expressions are stored, not compiled.
func ValidatingAdmissionPolicies() *registry.Resource {
	return &registry.Resource{
		Group: group, Version: "v1", Name: "validatingadmissionpolicies", Kind: "ValidatingAdmissionPolicy",
		SingularName: "validatingadmissionpolicy", Categories: categories,
		New:       func() runtime.Object { return &admissionv1.ValidatingAdmissionPolicy{} },
		NewList:   func() runtime.Object { return &admissionv1.ValidatingAdmissionPolicyList{} },
		KeyPrefix: "validatingadmissionpolicies",
		Status:    true,
		Strategy: &registry.Generic{
			Defaults: func(obj runtime.Object) {
				s := &obj.(*admissionv1.ValidatingAdmissionPolicy).Spec
				if s.FailurePolicy == nil {
					p := admissionv1.Fail
					s.FailurePolicy = &p
				}
				defaultMatchResources(s.MatchConstraints)
			},
			Validation: func(obj runtime.Object) field.ErrorList {
				return validatePolicySpec(&obj.(*admissionv1.ValidatingAdmissionPolicy).Spec)
			},
		},
		Table: &registry.Table{
			Cols: []metav1.TableColumnDefinition{registry.NameColumn,
				registry.Col("Validations", "integer", "Validations indicates the number of validation rules defined in this configuration", 0),
				registry.Col("ParamKind", "string", "ParamKind specifies the kind of resources used to parameterize this policy", 0),
				registry.AgeColumn,
			},
			Cells: func(obj runtime.Object) []interface{} {
				p := obj.(*admissionv1.ValidatingAdmissionPolicy)
				paramKind := "<unset>"
				if k := p.Spec.ParamKind; k != nil {
					paramKind = k.APIVersion + "/" + k.Kind
				}
				return []interface{}{p.Name, int64(len(p.Spec.Validations)), paramKind, registry.Age(p.CreationTimestamp)}
			},
		},
	}
}

// ValidatingAdmissionPolicyBindings is admissionregistration.k8s.io/v1
// validatingadmissionpolicybindings.
func ValidatingAdmissionPolicyBindings() *registry.Resource {
	return &registry.Resource{
		Group: group, Version: "v1", Name: "validatingadmissionpolicybindings", Kind: "ValidatingAdmissionPolicyBinding",
		SingularName: "validatingadmissionpolicybinding", Categories: categories,
		New:       func() runtime.Object { return &admissionv1.ValidatingAdmissionPolicyBinding{} },
		NewList:   func() runtime.Object { return &admissionv1.ValidatingAdmissionPolicyBindingList{} },
		KeyPrefix: "validatingadmissionpolicybindings",
		Strategy: &registry.Generic{
			Defaults: func(obj runtime.Object) {
				defaultMatchResources(obj.(*admissionv1.ValidatingAdmissionPolicyBinding).Spec.MatchResources)
			},
			Validation: func(obj runtime.Object) field.ErrorList {
				return validateBindingSpec(&obj.(*admissionv1.ValidatingAdmissionPolicyBinding).Spec)
			},
			NoStatusSplit: true,
		},
		Table: &registry.Table{
			Cols: []metav1.TableColumnDefinition{registry.NameColumn,
				registry.Col("PolicyName", "string", "PolicyName indicates the name of the policy that the binding is bound to", 0),
				registry.Col("ParamRef", "string", "ParamRef indicates the param resource that the binding is bound to", 0),
				registry.AgeColumn,
			},
			Cells: func(obj runtime.Object) []interface{} {
				b := obj.(*admissionv1.ValidatingAdmissionPolicyBinding)
				param := "<unset>"
				if r := b.Spec.ParamRef; r != nil {
					switch {
					case r.Name != "" && r.Namespace != "":
						param = r.Namespace + "/" + r.Name
					case r.Name != "":
						param = "*/" + r.Name
					case r.Selector != nil:
						param = r.Selector.String()
					}
				}
				return []interface{}{b.Name, b.Spec.PolicyName, param, registry.Age(b.CreationTimestamp)}
			},
		},
	}
}

var failurePolicyTypes = []admissionv1.FailurePolicyType{admissionv1.Fail, admissionv1.Ignore}

// validatePolicySpec checks what a policy needs to make sense: what it
// matches, and at least one validation or audit annotation.
func validatePolicySpec(s *admissionv1.ValidatingAdmissionPolicySpec) field.ErrorList {
	fld := field.NewPath("spec")
	var errs field.ErrorList
	if p := s.FailurePolicy; p != nil && *p != admissionv1.Fail && *p != admissionv1.Ignore {
		errs = append(errs, field.NotSupported(fld.Child("failurePolicy"), *p, failurePolicyTypes))
	}
	if s.MatchConstraints == nil {
		errs = append(errs, field.Required(fld.Child("matchConstraints"), ""))
	} else {
		errs = append(errs, validateMatchResources(s.MatchConstraints, fld.Child("matchConstraints"))...)
	}
	if len(s.Validations) == 0 && len(s.AuditAnnotations) == 0 {
		const msg = "validations or auditAnnotations must contain at least one item"
		errs = append(errs, field.Required(fld.Child("validations"), msg), field.Required(fld.Child("auditAnnotations"), msg))
	}
	for i, v := range s.Validations {
		if v.Expression == "" {
			errs = append(errs, field.Required(fld.Child("validations").Index(i).Child("expression"), "expression is not specified"))
		}
	}
	return errs
}

var validationActions = []admissionv1.ValidationAction{admissionv1.Audit, admissionv1.Deny, admissionv1.Warn}

func validateBindingSpec(s *admissionv1.ValidatingAdmissionPolicyBindingSpec) field.ErrorList {
	fld := field.NewPath("spec")
	var errs field.ErrorList
	if s.PolicyName == "" {
		errs = append(errs, field.Required(fld.Child("policyName"), ""))
	}
	if s.MatchResources != nil {
		errs = append(errs, validateMatchResources(s.MatchResources, fld.Child("matchResources"))...)
	}
	af := fld.Child("validationActions")
	if len(s.ValidationActions) == 0 {
		errs = append(errs, field.Required(af, "at least one validation action is required"))
	}
	seen := map[admissionv1.ValidationAction]bool{}
	for i, a := range s.ValidationActions {
		if !contains(validationActions, a) {
			errs = append(errs, field.NotSupported(af.Index(i), a, validationActions))
		}
		if seen[a] {
			errs = append(errs, field.Duplicate(af.Index(i), a))
		}
		seen[a] = true
	}
	if seen[admissionv1.Deny] && seen[admissionv1.Warn] {
		errs = append(errs, field.Invalid(af, s.ValidationActions, "must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)"))
	}
	return errs
}

func validateMatchResources(m *admissionv1.MatchResources, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if p := m.MatchPolicy; p != nil && *p != admissionv1.Equivalent && *p != admissionv1.Exact {
		errs = append(errs, field.NotSupported(fld.Child("matchPolicy"), *p, matchPolicies))
	}
	for i := range m.ResourceRules {
		errs = append(errs, validateRuleWithOperations(&m.ResourceRules[i].RuleWithOperations, fld.Child("resourceRules").Index(i))...)
	}
	for i := range m.ExcludeResourceRules {
		errs = append(errs, validateRuleWithOperations(&m.ExcludeResourceRules[i].RuleWithOperations, fld.Child("excludeResourceRules").Index(i))...)
	}
	return errs
}

// equalJSON compares two values by their serialized form, which is what
// clients see.
func equalJSON(a, b interface{}) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}
