// Package validatingadmissionpolicy is upstream's ValidatingAdmissionPolicy
// admission plugin: every write is checked against the bindings whose policy
// matches it, by the policy's CEL expressions. Policies and bindings are read
// from the storage caches; compiled expressions are kept per policy generation.
package validatingadmissionpolicy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ktypes "k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"

	"github.com/minik8s/minik8s/pkg/admission"
	"github.com/minik8s/minik8s/pkg/registry"
	"github.com/minik8s/minik8s/pkg/storage"
)

// Name is the plugin's name.
const Name = "ValidatingAdmissionPolicy"

var (
	vapPoliciesGVR = schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingadmissionpolicies"}
	vapBindingsGVR = schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingadmissionpolicybindings"}
	namespacesGVR  = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
)

// Plugin evaluates policies; compiled policies are cached by name.
type Plugin struct {
	admission.Handler
	reg     *registry.Registry
	objects admission.Objects

	mu       sync.Mutex
	compiled map[string]*vapPolicy
}

var _ admission.ValidationInterface = &Plugin{}

// New returns the plugin: reg gives the policies, bindings and the resources
// they name, objects the namespaces and params.
func New(reg *registry.Registry, objects admission.Objects) *Plugin {
	return &Plugin{Handler: admission.NewHandler(admission.Create, admission.Update, admission.Delete, admission.Connect),
		reg: reg, objects: objects, compiled: map[string]*vapPolicy{}}
}

// vapExpr is one compiled expression; err is its compile error.
type vapExpr struct {
	name, expr string
	prg        cel.Program
	err        error
}

type vapValidation struct {
	vapExpr
	message string
	msgExpr *vapExpr
	reason  metav1.StatusReason
}

// vapPolicy is a policy's compiled form.
type vapPolicy struct {
	uid         ktypes.UID
	generation  int64
	name        string
	spec        *admissionv1.ValidatingAdmissionPolicySpec // shared with the cache: never mutate
	failIgnore  bool
	matchConds  []vapExpr
	variables   []vapExpr
	varIndex    map[string]int
	validations []vapValidation
}

func compileVAPExpr(name, expr string, want *cel.Type) vapExpr {
	prg, err := vapCompile(expr, want)
	return vapExpr{name: name, expr: expr, prg: prg, err: err}
}

// policy returns the compiled form of p, compiling it once per generation.
func (e *Plugin) policy(p *admissionv1.ValidatingAdmissionPolicy) *vapPolicy {
	e.mu.Lock()
	c := e.compiled[p.Name]
	e.mu.Unlock()
	if c != nil && c.uid == p.UID && c.generation == p.Generation {
		return c
	}
	c = &vapPolicy{uid: p.UID, generation: p.Generation, name: p.Name, spec: &p.Spec, varIndex: map[string]int{}}
	c.failIgnore = p.Spec.FailurePolicy != nil && *p.Spec.FailurePolicy == admissionv1.Ignore
	for _, m := range p.Spec.MatchConditions {
		c.matchConds = append(c.matchConds, compileVAPExpr(m.Name, m.Expression, cel.BoolType))
	}
	for i, v := range p.Spec.Variables {
		c.variables = append(c.variables, compileVAPExpr(v.Name, v.Expression, nil))
		c.varIndex[v.Name] = i
	}
	for _, v := range p.Spec.Validations {
		val := vapValidation{vapExpr: compileVAPExpr("", v.Expression, cel.BoolType), message: v.Message}
		if v.Reason != nil {
			val.reason = *v.Reason
		}
		if v.MessageExpression != "" {
			m := compileVAPExpr("", v.MessageExpression, cel.StringType)
			val.msgExpr = &m
		}
		c.validations = append(c.validations, val)
	}
	e.mu.Lock()
	if len(e.compiled) > 1000 {
		e.compiled = map[string]*vapPolicy{}
	}
	e.compiled[p.Name] = c
	e.mu.Unlock()
	return c
}

// vapAttrs describes the request being admitted.
type vapAttrs struct {
	op          admissionv1.OperationType
	res         *registry.Resource
	subresource string
	namespace   string
	name        string
	obj, old    runtime.Object
	a           *admission.Attributes

	nsLoaded bool
	ns       *corev1.Namespace
	nsErr    error
	act      *vapActivation // built on the first evaluation
}

// vapDecision is a failed validation.
type vapDecision struct {
	policy, binding string
	message         string
	reason          metav1.StatusReason
}

// Validate runs every matching binding's policy; the first Deny becomes the error.
func (e *Plugin) Validate(ctx context.Context, attrs *admission.Attributes) error {
	bindRes := e.reg.Get(vapBindingsGVR)
	if bindRes == nil || bindRes.Store == nil || bindRes.Store.Count() == 0 {
		return nil
	}
	polRes := e.reg.Get(vapPoliciesGVR)
	if polRes == nil || polRes.Store == nil {
		return nil
	}
	res := e.reg.Get(attrs.Resource)
	if res == nil {
		return nil
	}
	bindings, err := bindRes.Store.List(ctx, storage.ListOptions{ReadOptions: storage.ReadOptions{ResourceVersion: "0"}})
	if err != nil {
		return apierrors.NewInternalError(fmt.Errorf("list validating admission policy bindings: %w", err))
	}
	a := &vapAttrs{op: admissionv1.OperationType(attrs.Operation), res: res, subresource: attrs.Subresource, namespace: attrs.Namespace,
		name: attrs.Name, obj: attrs.Object, old: attrs.OldObject, a: attrs}
	if a.op == admissionv1.Delete {
		a.obj = nil
	}
	var denied []vapDecision
	policies := map[string]*admissionv1.ValidatingAdmissionPolicy{}
	for _, item := range bindings.Items {
		b, ok := item.(*admissionv1.ValidatingAdmissionPolicyBinding)
		if !ok {
			continue
		}
		p, seen := policies[b.Spec.PolicyName]
		if !seen {
			got, err := polRes.Store.Get(ctx, polRes.Store.Key("", b.Spec.PolicyName), b.Spec.PolicyName, storage.ReadOptions{ResourceVersion: "0"})
			if err == nil {
				p, _ = got.(*admissionv1.ValidatingAdmissionPolicy)
			} else if !apierrors.IsNotFound(err) {
				return apierrors.NewInternalError(fmt.Errorf("get validating admission policy %q: %w", b.Spec.PolicyName, err))
			}
			policies[b.Spec.PolicyName] = p
		}
		if p == nil {
			continue
		}
		denied = append(denied, e.evalBinding(ctx, a, p, b)...)
	}
	if len(denied) == 0 {
		return nil
	}
	return vapDeniedError(a, denied[0])
}

// vapDeniedError is upstream's rejection of a request a policy denied.
func vapDeniedError(a *vapAttrs, d vapDecision) error {
	msg := fmt.Sprintf("ValidatingAdmissionPolicy '%s' with binding '%s' denied request: %s", d.policy, d.binding, d.message)
	name := "Unknown"
	if a.name != "" {
		name = a.name
	} else if a.obj != nil {
		if m, ok := a.obj.(metav1.Object); ok {
			if m.GetName() != "" {
				name = m.GetName()
			} else if m.GetGenerateName() != "" {
				name = m.GetGenerateName()
			}
		}
	}
	err := apierrors.NewForbidden(a.res.GroupResource(), name, errors.New(msg))
	reason := d.reason
	if reason == "" {
		reason = metav1.StatusReasonInvalid
	}
	err.ErrStatus.Reason = reason
	err.ErrStatus.Code = vapReasonCode(reason)
	err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{Message: msg})
	return err
}

func vapReasonCode(r metav1.StatusReason) int32 {
	switch r {
	case metav1.StatusReasonForbidden:
		return http.StatusForbidden
	case metav1.StatusReasonUnauthorized:
		return http.StatusUnauthorized
	case metav1.StatusReasonRequestEntityTooLarge:
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusUnprocessableEntity
}

// evalBinding evaluates one binding of policy p and returns its denials.
func (e *Plugin) evalBinding(ctx context.Context, a *vapAttrs, p *admissionv1.ValidatingAdmissionPolicy, b *admissionv1.ValidatingAdmissionPolicyBinding) []vapDecision {
	ignore := p.Spec.FailurePolicy != nil && *p.Spec.FailurePolicy == admissionv1.Ignore
	configErr := func(err error) []vapDecision {
		if ignore {
			return nil
		}
		return []vapDecision{{policy: p.Name, binding: b.Name, message: fmt.Sprintf("failed to configure binding: %v", err)}}
	}
	if p.Spec.MatchConstraints == nil {
		return nil
	}
	ok, err := e.matchResources(ctx, a, p.Spec.MatchConstraints, true)
	if err != nil {
		return configErr(err)
	}
	if !ok {
		return nil
	}
	if ok, err = e.matchResources(ctx, a, b.Spec.MatchResources, false); err != nil {
		return configErr(err)
	} else if !ok {
		return nil
	}
	params, err := e.params(ctx, a, p, b)
	if err != nil {
		return configErr(err)
	}
	if params == nil {
		return nil // no params, and the binding allows that
	}
	pol := e.policy(p)
	if err := e.activation(ctx, a); err != nil {
		return configErr(err)
	}
	var out []vapDecision
	for _, param := range params {
		act := *a.act
		act.params = param
		act.variables = newVAPVariables(ctx, pol, &act)
		for _, d := range e.evalPolicy(ctx, pol, &act) {
			d.policy, d.binding = p.Name, b.Name
			for _, action := range b.Spec.ValidationActions {
				switch action {
				case admissionv1.Deny:
					out = append(out, d)
				case admissionv1.Warn:
					// An update retried on a conflict is admitted again: warn once.
					w := fmt.Sprintf("Validation failed for ValidatingAdmissionPolicy '%s' with binding '%s': %s", p.Name, b.Name, d.message)
					a.a.AddWarning(w)
				}
			}
		}
	}
	return out
}

// evalPolicy runs the match conditions and then the validations.
func (e *Plugin) evalPolicy(ctx context.Context, pol *vapPolicy, act *vapActivation) []vapDecision {
	fail := func(msg string) []vapDecision {
		if pol.failIgnore {
			return nil
		}
		return []vapDecision{{message: msg}}
	}
	// Match conditions: any false skips the policy; an error (with none false)
	// follows the failure policy.
	var condErr error
	for _, mc := range pol.matchConds {
		if mc.err != nil {
			condErr = fmt.Errorf("matchCondition %q: %v", mc.name, mc.err)
			continue
		}
		out, err := vapEval(ctx, mc.prg, act)
		if err != nil {
			if condErr == nil {
				condErr = fmt.Errorf("matchCondition '%s' error: %v", mc.name, err)
			}
			continue
		}
		if b, ok := out.(types.Bool); !ok {
			if condErr == nil {
				condErr = fmt.Errorf("matchCondition '%s' error: must evaluate to bool", mc.name)
			}
		} else if !bool(b) {
			return nil
		}
	}
	if condErr != nil {
		return fail(condErr.Error())
	}
	var out []vapDecision
	for _, v := range pol.validations {
		if v.err != nil {
			out = append(out, fail(v.err.Error())...)
			continue
		}
		res, err := vapEval(ctx, v.prg, act)
		if err != nil {
			out = append(out, fail(fmt.Sprintf("expression '%s' resulted in error: %v", strings.TrimSpace(v.expr), err))...)
			continue
		}
		if res == types.True {
			continue
		}
		if _, isBool := res.(types.Bool); !isBool {
			out = append(out, fail(fmt.Sprintf("expression '%s' resulted in error: must evaluate to bool", strings.TrimSpace(v.expr)))...)
			continue
		}
		msg := ""
		if v.msgExpr != nil && v.msgExpr.err == nil {
			if m, err := vapEval(ctx, v.msgExpr.prg, act); err == nil {
				msg = vapMessage(m)
			}
		}
		if msg == "" {
			msg = strings.TrimSpace(v.message)
		}
		if msg == "" {
			msg = fmt.Sprintf("failed expression: %s", strings.TrimSpace(v.expr))
		}
		reason := v.reason
		if reason == "" {
			reason = metav1.StatusReasonInvalid
		}
		out = append(out, vapDecision{message: msg, reason: reason})
	}
	return out
}

// activation builds the request's CEL inputs once.
func (e *Plugin) activation(ctx context.Context, a *vapAttrs) error {
	if a.act != nil {
		return nil
	}
	gvk := a.res.GroupVersionKind()
	object, err := vapObjectValue(a.obj, gvk)
	if err != nil {
		return err
	}
	oldObject, err := vapObjectValue(a.old, gvk)
	if err != nil {
		return err
	}
	nsVal := ref.Val(types.NullValue)
	if a.res.Namespaced && a.namespace != "" {
		ns, err := e.namespaceOf(ctx, a)
		if err != nil {
			return err
		}
		if ns != nil {
			if nsVal, err = vapObjectValue(ns, corev1.SchemeGroupVersion.WithKind("Namespace")); err != nil {
				return err
			}
		}
	}
	a.act = &vapActivation{object: object, oldObject: oldObject, request: vapRequestValue(ctx, a),
		params: types.NullValue, namespaceObject: nsVal}
	return nil
}

// vapObjectValue is obj as CEL sees it: its JSON form, null for none.
func vapObjectValue(obj runtime.Object, gvk schema.GroupVersionKind) (ref.Val, error) {
	if obj == nil {
		return types.NullValue, nil
	}
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, fmt.Errorf("convert %s for CEL: %w", gvk.Kind, err)
	}
	if _, ok := u["apiVersion"]; !ok && !gvk.Empty() {
		u["apiVersion"], u["kind"] = gvk.GroupVersion().String(), gvk.Kind
	}
	return types.DefaultTypeAdapter.NativeToValue(u), nil
}

func vapRequestValue(ctx context.Context, a *vapAttrs) ref.Val {
	gvk := a.res.GroupVersionKind()
	kind := map[string]any{"group": gvk.Group, "version": gvk.Version, "kind": gvk.Kind}
	resource := map[string]any{"group": a.res.Group, "version": a.res.Version, "resource": a.res.Name}
	userInfo := map[string]any{"username": "", "uid": "", "groups": []any{}, "extra": map[string]any{}}
	if u := a.a.User; u != nil {
		groups := make([]any, len(u.Groups))
		for i, g := range u.Groups {
			groups[i] = g
		}
		extra := map[string]any{}
		for k, vs := range u.Extra {
			l := make([]any, len(vs))
			for i, v := range vs {
				l[i] = v
			}
			extra[k] = l
		}
		userInfo = map[string]any{"username": u.Name, "uid": u.UID, "groups": groups, "extra": extra}
	}
	name := a.name
	if name == "" && a.obj != nil {
		if m, ok := a.obj.(metav1.Object); ok {
			name = m.GetName()
		}
	}
	req := map[string]any{
		"uid":                string(uuid.NewUUID()),
		"kind":               kind,
		"resource":           resource,
		"subResource":        a.subresource,
		"requestKind":        kind,
		"requestResource":    resource,
		"requestSubResource": a.subresource,
		"name":               name,
		"namespace":          a.namespace,
		"operation":          string(a.op),
		"userInfo":           userInfo,
		"dryRun":             a.a.DryRun,
	}
	return types.DefaultTypeAdapter.NativeToValue(req)
}

// namespaceOf returns the namespace of a namespaced request (nil if it is gone).
func (e *Plugin) namespaceOf(ctx context.Context, a *vapAttrs) (*corev1.Namespace, error) {
	if a.nsLoaded {
		return a.ns, a.nsErr
	}
	a.nsLoaded = true
	got, err := e.objects.Get(ctx, namespacesGVR, "", a.namespace)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		a.nsErr = fmt.Errorf("get namespace %q: %w", a.namespace, err)
		return nil, a.nsErr
	}
	a.ns, _ = got.(*corev1.Namespace)
	return a.ns, nil
}

// matchResources reports whether the request is selected by mr. A nil or empty
// set of resource rules selects every resource for a binding, none for a policy.
func (e *Plugin) matchResources(ctx context.Context, a *vapAttrs, mr *admissionv1.MatchResources, isPolicy bool) (bool, error) {
	if mr == nil {
		return !isPolicy, nil
	}
	if ok, err := e.matchNamespaceSelector(ctx, a, mr.NamespaceSelector); err != nil || !ok {
		return false, err
	}
	if ok, err := matchObjectSelector(a, mr.ObjectSelector); err != nil || !ok {
		return false, err
	}
	equivalent := mr.MatchPolicy == nil || *mr.MatchPolicy == admissionv1.Equivalent
	for i := range mr.ExcludeResourceRules {
		if e.ruleMatches(a, &mr.ExcludeResourceRules[i], equivalent) {
			return false, nil
		}
	}
	if len(mr.ResourceRules) == 0 {
		return !isPolicy, nil
	}
	for i := range mr.ResourceRules {
		if e.ruleMatches(a, &mr.ResourceRules[i], equivalent) {
			return true, nil
		}
	}
	return false, nil
}

func selectorFor(sel *metav1.LabelSelector) (labels.Selector, error) {
	if sel == nil || (len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0) {
		return nil, nil
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return nil, fmt.Errorf("invalid label selector: %w", err)
	}
	return s, nil
}

func (e *Plugin) matchNamespaceSelector(ctx context.Context, a *vapAttrs, sel *metav1.LabelSelector) (bool, error) {
	s, err := selectorFor(sel)
	if err != nil || s == nil {
		return err == nil, err
	}
	if a.res.Group == "" && a.res.Name == "namespaces" {
		// A namespace is matched by its own labels.
		return matchLabelsOf(s, a.obj) || matchLabelsOf(s, a.old), nil
	}
	if !a.res.Namespaced || a.namespace == "" {
		return true, nil
	}
	ns, err := e.namespaceOf(ctx, a)
	if err != nil {
		return false, err
	}
	if ns == nil {
		return false, nil
	}
	return s.Matches(labels.Set(ns.Labels)), nil
}

func matchObjectSelector(a *vapAttrs, sel *metav1.LabelSelector) (bool, error) {
	s, err := selectorFor(sel)
	if err != nil || s == nil {
		return err == nil, err
	}
	return matchLabelsOf(s, a.obj) || matchLabelsOf(s, a.old), nil
}

func matchLabelsOf(s labels.Selector, obj runtime.Object) bool {
	if obj == nil {
		return false
	}
	m, ok := obj.(metav1.Object)
	if !ok {
		return false
	}
	return s.Matches(labels.Set(m.GetLabels()))
}

// ruleMatches applies one rule: operations, groups, versions, resources with
// their subresources, scope and resource names.
func (e *Plugin) ruleMatches(a *vapAttrs, r *admissionv1.NamedRuleWithOperations, equivalent bool) bool {
	if len(r.ResourceNames) > 0 {
		name := a.name
		if name == "" && a.obj != nil {
			if m, ok := a.obj.(metav1.Object); ok {
				name = m.GetName()
			}
		}
		if !slices.Contains(r.ResourceNames, name) {
			return false
		}
	}
	opOK := false
	for _, op := range r.Operations {
		if op == admissionv1.OperationAll || op == a.op {
			opOK = true
			break
		}
	}
	if !opOK {
		return false
	}
	if r.Scope != nil {
		switch *r.Scope {
		case admissionv1.ClusterScope:
			if a.res.Namespaced {
				return false
			}
		case admissionv1.NamespacedScope:
			if !a.res.Namespaced {
				return false
			}
		}
	}
	if !slices.Contains(r.APIGroups, "*") && !slices.Contains(r.APIGroups, a.res.Group) {
		return false
	}
	if !slices.Contains(r.APIVersions, "*") && !slices.Contains(r.APIVersions, a.res.Version) {
		if !equivalent {
			return false
		}
		found := false
		for _, v := range r.APIVersions {
			if e.reg.Get(schema.GroupVersionResource{Group: a.res.Group, Version: v, Resource: a.res.Name}) != nil {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	for _, pattern := range r.Resources {
		if resourceMatches(pattern, a.res.Name, a.subresource) {
			return true
		}
	}
	return false
}

// resourceMatches: "*" is every resource, "*/*" every resource and subresource,
// "pods/*" pods and all its subresources, "*/status" that subresource of any.
func resourceMatches(pattern, resource, subresource string) bool {
	res, sub, hasSub := strings.Cut(pattern, "/")
	if !hasSub {
		return subresource == "" && (res == "*" || res == resource)
	}
	if res != "*" && res != resource {
		return false
	}
	if sub == "*" {
		return true
	}
	return subresource != "" && sub == subresource
}

// params returns the param values to evaluate the policy with: one null value for
// a policy without paramKind, nil when no params exist and the binding allows it.
func (e *Plugin) params(ctx context.Context, a *vapAttrs, p *admissionv1.ValidatingAdmissionPolicy, b *admissionv1.ValidatingAdmissionPolicyBinding) ([]ref.Val, error) {
	pk := p.Spec.ParamKind
	if pk == nil {
		return []ref.Val{types.NullValue}, nil
	}
	pr := b.Spec.ParamRef
	if pr == nil {
		return nil, fmt.Errorf("paramRef is required when the policy %q has a paramKind", p.Name)
	}
	gv, err := schema.ParseGroupVersion(pk.APIVersion)
	if err != nil {
		return nil, fmt.Errorf("invalid paramKind APIVersion %q: %w", pk.APIVersion, err)
	}
	gvk := gv.WithKind(pk.Kind)
	var pres *registry.Resource
	for _, r := range e.reg.All() {
		if r.GroupVersionKind() == gvk && r.Store != nil {
			pres = r
			break
		}
	}
	if pres == nil {
		return nil, fmt.Errorf("paramKind kind `%v` not known", gvk)
	}
	presGVR := schema.GroupVersionResource{Group: pres.Group, Version: pres.Version, Resource: pres.Name}
	ns := pr.Namespace
	if pres.Namespaced {
		if ns == "" {
			ns = a.namespace
		}
		if ns == "" {
			return nil, errors.New("cannot use namespaced paramRef in policy binding that matches cluster-scoped resources")
		}
	} else if ns != "" {
		return nil, errors.New("paramRef.namespace must not be provided for a cluster-scoped `paramKind`")
	}
	var found []runtime.Object
	if pr.Name != "" {
		got, err := e.objects.Get(ctx, presGVR, ns, pr.Name)
		if err != nil && !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("get param %s %q: %w", gvk.Kind, pr.Name, err)
		}
		if err == nil {
			found = append(found, got)
		}
	} else {
		sel := labels.Everything()
		if pr.Selector != nil {
			if sel, err = metav1.LabelSelectorAsSelector(pr.Selector); err != nil {
				return nil, fmt.Errorf("invalid paramRef selector: %w", err)
			}
		}
		list, err := e.objects.List(ctx, presGVR, ns)
		if err != nil {
			return nil, fmt.Errorf("list params %s: %w", gvk.Kind, err)
		}
		for _, item := range list {
			if m, ok := item.(metav1.Object); ok && sel.Matches(labels.Set(m.GetLabels())) {
				found = append(found, item)
			}
		}
	}
	if len(found) == 0 {
		if pr.ParameterNotFoundAction != nil && *pr.ParameterNotFoundAction == admissionv1.AllowAction {
			return nil, nil
		}
		return nil, errors.New("no params found for policy binding with `Deny` parameterNotFoundAction")
	}
	out := make([]ref.Val, 0, len(found))
	for _, obj := range found {
		v, err := vapObjectValue(obj, gvk)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
