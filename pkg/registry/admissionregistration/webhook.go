package admissionregistration

import (
	"fmt"
	"net/url"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/admission/validatingadmissionpolicy"
	"github.com/minik8s/minik8s/pkg/registry"
)

// ValidatingWebhookConfigurations is admissionregistration.k8s.io/v1
// validatingwebhookconfigurations.
func ValidatingWebhookConfigurations() *registry.Resource {
	return &registry.Resource{
		Group: group, Version: "v1", Name: "validatingwebhookconfigurations", Kind: "ValidatingWebhookConfiguration",
		SingularName: "validatingwebhookconfiguration", Categories: categories,
		New:       func() runtime.Object { return &admissionv1.ValidatingWebhookConfiguration{} },
		NewList:   func() runtime.Object { return &admissionv1.ValidatingWebhookConfigurationList{} },
		KeyPrefix: "validatingwebhookconfigurations",
		Strategy: &registry.Generic{
			Defaults: func(obj runtime.Object) {
				for _, h := range validatingHooks(obj) {
					defaultHook(h)
				}
			},
			Create:        func(obj runtime.Object) { obj.(*admissionv1.ValidatingWebhookConfiguration).Generation = 1 },
			Update:        bumpOnWebhookChange,
			Validation:    func(obj runtime.Object) field.ErrorList { return validateHooks(validatingHooks(obj)) },
			NoStatusSplit: true,
			NoGeneration:  true,
		},
		Table: webhookTable(func(obj runtime.Object) (string, int, metav1.Time) {
			c := obj.(*admissionv1.ValidatingWebhookConfiguration)
			return c.Name, len(c.Webhooks), c.CreationTimestamp
		}),
	}
}

// MutatingWebhookConfigurations is admissionregistration.k8s.io/v1
// mutatingwebhookconfigurations.
func MutatingWebhookConfigurations() *registry.Resource {
	return &registry.Resource{
		Group: group, Version: "v1", Name: "mutatingwebhookconfigurations", Kind: "MutatingWebhookConfiguration",
		SingularName: "mutatingwebhookconfiguration", Categories: categories,
		New:       func() runtime.Object { return &admissionv1.MutatingWebhookConfiguration{} },
		NewList:   func() runtime.Object { return &admissionv1.MutatingWebhookConfigurationList{} },
		KeyPrefix: "mutatingwebhookconfigurations",
		Strategy: &registry.Generic{
			Defaults: func(obj runtime.Object) {
				for _, h := range mutatingHooks(obj) {
					defaultHook(h)
				}
			},
			Create:        func(obj runtime.Object) { obj.(*admissionv1.MutatingWebhookConfiguration).Generation = 1 },
			Update:        bumpOnWebhookChange,
			Validation:    func(obj runtime.Object) field.ErrorList { return validateHooks(mutatingHooks(obj)) },
			NoStatusSplit: true,
			NoGeneration:  true,
		},
		Table: webhookTable(func(obj runtime.Object) (string, int, metav1.Time) {
			c := obj.(*admissionv1.MutatingWebhookConfiguration)
			return c.Name, len(c.Webhooks), c.CreationTimestamp
		}),
	}
}

// hook points into the fields validating and mutating webhooks share;
// reinvocation is the mutating one's own.
type hook struct {
	name                    string
	clientConfig            *admissionv1.WebhookClientConfig
	rules                   []admissionv1.RuleWithOperations
	failurePolicy           **admissionv1.FailurePolicyType
	matchPolicy             **admissionv1.MatchPolicyType
	namespaceSel, objectSel **metav1.LabelSelector
	sideEffects             *admissionv1.SideEffectClass
	timeoutSeconds          **int32
	admissionReviewVersions []string
	reinvocation            **admissionv1.ReinvocationPolicyType
	matchConditions         []admissionv1.MatchCondition
}

func validatingHooks(obj runtime.Object) []hook {
	c := obj.(*admissionv1.ValidatingWebhookConfiguration)
	out := make([]hook, len(c.Webhooks))
	for i := range c.Webhooks {
		w := &c.Webhooks[i]
		out[i] = hook{name: w.Name, clientConfig: &w.ClientConfig, rules: w.Rules, failurePolicy: &w.FailurePolicy,
			matchPolicy: &w.MatchPolicy, namespaceSel: &w.NamespaceSelector, objectSel: &w.ObjectSelector,
			sideEffects: w.SideEffects, timeoutSeconds: &w.TimeoutSeconds, admissionReviewVersions: w.AdmissionReviewVersions,
			matchConditions: w.MatchConditions}
	}
	return out
}

func mutatingHooks(obj runtime.Object) []hook {
	c := obj.(*admissionv1.MutatingWebhookConfiguration)
	out := make([]hook, len(c.Webhooks))
	for i := range c.Webhooks {
		w := &c.Webhooks[i]
		out[i] = hook{name: w.Name, clientConfig: &w.ClientConfig, rules: w.Rules, failurePolicy: &w.FailurePolicy,
			matchPolicy: &w.MatchPolicy, namespaceSel: &w.NamespaceSelector, objectSel: &w.ObjectSelector,
			sideEffects: w.SideEffects, timeoutSeconds: &w.TimeoutSeconds, admissionReviewVersions: w.AdmissionReviewVersions,
			reinvocation: &w.ReinvocationPolicy, matchConditions: w.MatchConditions}
	}
	return out
}

func defaultHook(h hook) {
	if *h.failurePolicy == nil {
		p := admissionv1.Fail
		*h.failurePolicy = &p
	}
	if *h.matchPolicy == nil {
		p := admissionv1.Equivalent
		*h.matchPolicy = &p
	}
	if *h.namespaceSel == nil {
		*h.namespaceSel = &metav1.LabelSelector{}
	}
	if *h.objectSel == nil {
		*h.objectSel = &metav1.LabelSelector{}
	}
	if *h.timeoutSeconds == nil {
		t := int32(10)
		*h.timeoutSeconds = &t
	}
	if h.reinvocation != nil && *h.reinvocation == nil {
		p := admissionv1.NeverReinvocationPolicy
		*h.reinvocation = &p
	}
	for i := range h.rules {
		defaultRule(&h.rules[i].Rule)
	}
	if s := h.clientConfig.Service; s != nil && s.Port == nil {
		port := int32(443)
		s.Port = &port
	}
}

// bumpOnWebhookChange: a configuration's generation counts changes to its
// webhooks, its only content.
func bumpOnWebhookChange(obj, old runtime.Object) {
	m, om := obj.(metav1.Object), old.(metav1.Object)
	m.SetGeneration(om.GetGeneration())
	var same bool
	switch c := obj.(type) {
	case *admissionv1.ValidatingWebhookConfiguration:
		same = equalJSON(c.Webhooks, old.(*admissionv1.ValidatingWebhookConfiguration).Webhooks)
	case *admissionv1.MutatingWebhookConfiguration:
		same = equalJSON(c.Webhooks, old.(*admissionv1.MutatingWebhookConfiguration).Webhooks)
	}
	if !same {
		m.SetGeneration(om.GetGeneration() + 1)
	}
}

var (
	failurePolicies    = []admissionv1.FailurePolicyType{admissionv1.Fail, admissionv1.Ignore}
	matchPolicies      = []admissionv1.MatchPolicyType{admissionv1.Equivalent, admissionv1.Exact}
	sideEffectClasses  = []admissionv1.SideEffectClass{admissionv1.SideEffectClassNone, admissionv1.SideEffectClassNoneOnDryRun}
	reinvocations      = []admissionv1.ReinvocationPolicyType{admissionv1.IfNeededReinvocationPolicy, admissionv1.NeverReinvocationPolicy}
	operations         = []admissionv1.OperationType{admissionv1.OperationAll, admissionv1.Connect, admissionv1.Create, admissionv1.Delete, admissionv1.Update}
	scopes             = []admissionv1.ScopeType{admissionv1.AllScopes, admissionv1.ClusterScope, admissionv1.NamespacedScope}
	reviewVersions     = []string{"v1", "v1beta1"}
	selectorValidation = metavalidation.LabelSelectorValidationOptions{}
)

func validateHooks(hooks []hook) field.ErrorList {
	var errs field.ErrorList
	names := map[string]bool{}
	for i, h := range hooks {
		f := field.NewPath("webhooks").Index(i)
		errs = append(errs, validateHook(h, f)...)
		errs = append(errs, validateReviewVersions(h.admissionReviewVersions, f.Child("admissionReviewVersions"))...)
		if h.name != "" {
			if names[h.name] {
				errs = append(errs, field.Duplicate(f.Child("name"), h.name))
			}
			names[h.name] = true
		}
	}
	return errs
}

func validateHook(h hook, fld *field.Path) field.ErrorList {
	errs := validation.IsFullyQualifiedName(fld.Child("name"), h.name)
	errs = append(errs, validateMatchConditions(h.matchConditions, fld.Child("matchConditions"))...)
	for i := range h.rules {
		errs = append(errs, validateRuleWithOperations(&h.rules[i], fld.Child("rules").Index(i))...)
	}
	if p := *h.failurePolicy; p != nil && *p != admissionv1.Fail && *p != admissionv1.Ignore {
		errs = append(errs, field.NotSupported(fld.Child("failurePolicy"), *p, failurePolicies))
	}
	if p := *h.matchPolicy; p != nil && *p != admissionv1.Equivalent && *p != admissionv1.Exact {
		errs = append(errs, field.NotSupported(fld.Child("matchPolicy"), *p, matchPolicies))
	}
	switch {
	case h.sideEffects == nil:
		errs = append(errs, field.Required(fld.Child("sideEffects"), "must specify one of None, NoneOnDryRun"))
	case *h.sideEffects != admissionv1.SideEffectClassNone && *h.sideEffects != admissionv1.SideEffectClassNoneOnDryRun:
		errs = append(errs, field.NotSupported(fld.Child("sideEffects"), *h.sideEffects, sideEffectClasses))
	}
	if t := *h.timeoutSeconds; t != nil && (*t > 30 || *t < 1) {
		errs = append(errs, field.Invalid(fld.Child("timeoutSeconds"), *t, "the timeout value must be between 1 and 30 seconds"))
	}
	if s := *h.namespaceSel; s != nil {
		errs = append(errs, metavalidation.ValidateLabelSelector(s, selectorValidation, fld.Child("namespaceSelector"))...)
	}
	if s := *h.objectSel; s != nil {
		errs = append(errs, metavalidation.ValidateLabelSelector(s, selectorValidation, fld.Child("objectSelector"))...)
	}
	if h.reinvocation != nil {
		if p := *h.reinvocation; p != nil && *p != admissionv1.NeverReinvocationPolicy && *p != admissionv1.IfNeededReinvocationPolicy {
			errs = append(errs, field.NotSupported(fld.Child("reinvocationPolicy"), *p, reinvocations))
		}
	}
	cc := h.clientConfig
	cf := fld.Child("clientConfig")
	switch {
	case (cc.URL == nil) == (cc.Service == nil):
		errs = append(errs, field.Required(cf, "exactly one of url or service is required"))
	case cc.URL != nil:
		errs = append(errs, validateURL(cf.Child("url"), *cc.URL)...)
	default:
		var port int32
		if cc.Service.Port != nil {
			port = *cc.Service.Port
		}
		errs = append(errs, validateService(cf.Child("service"), cc.Service.Namespace, cc.Service.Name, cc.Service.Path, port)...)
	}
	return errs
}

func validateRuleWithOperations(r *admissionv1.RuleWithOperations, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	of := fld.Child("operations")
	if len(r.Operations) == 0 {
		errs = append(errs, field.Required(of, ""))
	}
	hasAll := false
	for _, o := range r.Operations {
		hasAll = hasAll || o == admissionv1.OperationAll
	}
	if len(r.Operations) > 1 && hasAll {
		errs = append(errs, field.Invalid(of, r.Operations, "if '*' is present, must not specify other operations"))
	}
	for i, o := range r.Operations {
		if !contains(operations, o) {
			errs = append(errs, field.NotSupported(of.Index(i), o, operations))
		}
	}
	return append(errs, validateRule(&r.Rule, fld)...)
}

func validateRule(r *admissionv1.Rule, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(r.APIGroups) == 0 {
		errs = append(errs, field.Required(fld.Child("apiGroups"), ""))
	}
	if len(r.APIGroups) > 1 && contains(r.APIGroups, "*") {
		errs = append(errs, field.Invalid(fld.Child("apiGroups"), r.APIGroups, "if '*' is present, must not specify other API groups"))
	}
	if len(r.APIVersions) == 0 {
		errs = append(errs, field.Required(fld.Child("apiVersions"), ""))
	}
	if len(r.APIVersions) > 1 && contains(r.APIVersions, "*") {
		errs = append(errs, field.Invalid(fld.Child("apiVersions"), r.APIVersions, "if '*' is present, must not specify other API versions"))
	}
	for i, v := range r.APIVersions {
		if v == "" {
			errs = append(errs, field.Required(fld.Child("apiVersions").Index(i), ""))
		}
	}
	errs = append(errs, validateResources(r.Resources, fld.Child("resources"))...)
	if r.Scope != nil && !contains(scopes, *r.Scope) {
		errs = append(errs, field.NotSupported(fld.Child("scope"), *r.Scope, scopes))
	}
	return errs
}

// validateResources checks resource/subresource patterns and their wildcards.
func validateResources(resources []string, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(resources) == 0 {
		errs = append(errs, field.Required(fld, ""))
	}
	wildSubOf, wildResOf := map[string]bool{}, map[string]bool{}
	doubleWild, singleWild, plain := false, false, false
	for i, rs := range resources {
		if rs == "" {
			errs = append(errs, field.Required(fld.Index(i), ""))
			continue
		}
		doubleWild = doubleWild || rs == "*/*"
		singleWild = singleWild || rs == "*"
		res, sub, hasSub := strings.Cut(rs, "/")
		if !hasSub {
			plain = rs != "*"
			continue
		}
		if wildSubOf[res] {
			errs = append(errs, field.Invalid(fld.Index(i), rs, fmt.Sprintf("if '%s/*' is present, must not specify %s", res, rs)))
		}
		if wildResOf[sub] {
			errs = append(errs, field.Invalid(fld.Index(i), rs, fmt.Sprintf("if '*/%s' is present, must not specify %s", sub, rs)))
		}
		if sub == "*" {
			wildSubOf[res] = true
		}
		if res == "*" {
			wildResOf[sub] = true
		}
	}
	if len(resources) > 1 && doubleWild {
		errs = append(errs, field.Invalid(fld, resources, "if '*/*' is present, must not specify other resources"))
	}
	if singleWild && plain {
		errs = append(errs, field.Invalid(fld, resources, "if '*' is present, must not specify other resources without subresources"))
	}
	return errs
}

func validateReviewVersions(versions []string, fld *field.Path) field.ErrorList {
	if len(versions) == 0 {
		return field.ErrorList{field.Required(fld, "must specify one of v1, v1beta1")}
	}
	var errs field.ErrorList
	seen := map[string]bool{}
	accepted := false
	for i, v := range versions {
		if seen[v] {
			errs = append(errs, field.Invalid(fld.Index(i), v, "duplicate version"))
			continue
		}
		seen[v] = true
		for _, msg := range validation.IsDNS1035Label(v) {
			errs = append(errs, field.Invalid(fld.Index(i), v, msg))
		}
		accepted = accepted || contains(reviewVersions, v)
	}
	if !accepted {
		errs = append(errs, field.Invalid(fld, versions, "must include at least one of v1, v1beta1"))
	}
	return errs
}

// validateURL: an https URL with a host and nothing but a path.
func validateURL(fld *field.Path, raw string) field.ErrorList {
	const form = "; desired format: https://host[/path]"
	u, err := url.Parse(raw)
	if err != nil {
		return field.ErrorList{field.Required(fld, "url must be a valid URL: "+err.Error()+form)}
	}
	var errs field.ErrorList
	if u.Scheme != "https" {
		errs = append(errs, field.Invalid(fld, u.Scheme, "'https' is the only allowed URL scheme"+form))
	}
	if u.Host == "" {
		errs = append(errs, field.Invalid(fld, u.Host, "host must be specified"+form))
	}
	if u.User != nil {
		errs = append(errs, field.Invalid(fld, u.User.String(), "user information is not permitted in the URL"))
	}
	if u.Fragment != "" {
		errs = append(errs, field.Invalid(fld, u.Fragment, "fragments are not permitted in the URL"))
	}
	if u.RawQuery != "" {
		errs = append(errs, field.Invalid(fld, u.RawQuery, "query parameters are not permitted in the URL"))
	}
	return errs
}

// validateService: a named service, a valid port, and a path of DNS subdomains.
func validateService(fld *field.Path, namespace, name string, path *string, port int32) field.ErrorList {
	var errs field.ErrorList
	if name == "" {
		errs = append(errs, field.Required(fld.Child("name"), ""))
	}
	if namespace == "" {
		errs = append(errs, field.Required(fld.Child("namespace"), ""))
	}
	if msgs := validation.IsValidPortNum(int(port)); msgs != nil {
		errs = append(errs, field.Invalid(fld.Child("port"), port, "port is not valid: "+strings.Join(msgs, ", ")))
	}
	if path == nil || *path == "/" || *path == "" {
		return errs
	}
	p := *path
	pf := fld.Child("path")
	if p == "//" {
		return append(errs, field.Invalid(pf, p, "segment[0] may not be empty"))
	}
	if !strings.HasPrefix(p, "/") {
		errs = append(errs, field.Invalid(pf, p, "must start with a '/'"))
	}
	check := strings.TrimSuffix(p[1:], "/")
	for i, step := range strings.Split(check, "/") {
		if step == "" {
			errs = append(errs, field.Invalid(pf, p, fmt.Sprintf("segment[%d] may not be empty", i)))
			continue
		}
		for _, msg := range validation.IsDNS1123Subdomain(step) {
			errs = append(errs, field.Invalid(pf, p, fmt.Sprintf("segment[%d]: %v", i, msg)))
		}
	}
	return errs
}

func webhookTable(parts func(runtime.Object) (string, int, metav1.Time)) *registry.Table {
	return &registry.Table{
		Cols: []metav1.TableColumnDefinition{registry.NameColumn,
			registry.Col("Webhooks", "integer", "Webhooks indicates the number of webhooks registered in this configuration", 0),
			registry.AgeColumn,
		},
		Cells: func(obj runtime.Object) []interface{} {
			name, n, created := parts(obj)
			return []interface{}{name, int64(n), registry.Age(created)}
		},
	}
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// maxMatchConditions is upstream's limit per webhook.
const maxMatchConditions = 64

// validateMatchConditions checks names and that every expression compiles in
// the CEL environment the webhooks evaluate it in, as upstream refuses a
// configuration whose conditions cannot run.
func validateMatchConditions(conds []admissionv1.MatchCondition, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(conds) > maxMatchConditions {
		errs = append(errs, field.TooMany(fld, len(conds), maxMatchConditions))
	}
	seen := map[string]bool{}
	for i, c := range conds {
		f := fld.Index(i)
		if c.Name == "" {
			errs = append(errs, field.Required(f.Child("name"), ""))
		} else {
			for _, msg := range validation.IsQualifiedName(c.Name) {
				errs = append(errs, field.Invalid(f.Child("name"), c.Name, msg))
			}
			if seen[c.Name] {
				errs = append(errs, field.Duplicate(f.Child("name"), c.Name))
			}
			seen[c.Name] = true
		}
		if strings.TrimSpace(c.Expression) == "" {
			errs = append(errs, field.Required(f.Child("expression"), ""))
			continue
		}
		if err := validatingadmissionpolicy.CompileCondition(c.Name, c.Expression).Err(); err != nil {
			errs = append(errs, field.Invalid(f.Child("expression"), c.Expression, fmt.Sprintf("compilation failed: %v", err)))
		}
	}
	return errs
}
