package webhook

import (
	"fmt"
	"time"

	admissionregv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/minik8s/minik8s/pkg/admission/validatingadmissionpolicy"
)

// defaultTimeout is upstream's timeoutSeconds default.
const defaultTimeout = 10 * time.Second

// hook is one webhook of a configuration, compiled: what the mutating and
// validating webhook types share, with defaults applied.
type hook struct {
	// id names the hook across reinvocations: configuration and webhook name.
	id            string
	configuration string
	name          string
	rules         []admissionregv1.RuleWithOperations
	equivalent    bool // matchPolicy Equivalent (the default)
	nsSelector    labels.Selector
	objSelector   labels.Selector
	selectorErr   error
	conditions    []validatingadmissionpolicy.Condition
	failOpen      bool
	// sideEffects nil is refused on dry-run; otherwise dryRunOK says whether
	// the hook may be called for a dry-run request.
	sideEffectsSet bool
	dryRunOK       bool
	timeout        time.Duration
	// reviewVersion is the AdmissionReview version to send ("" if none of
	// admissionReviewVersions is one this server speaks).
	reviewVersion string
	reviewAsked   []string
	reinvoke      bool
	clientConfig  admissionregv1.WebhookClientConfig
	client        *client
}

// hookFields is the part of Mutating/ValidatingWebhook a hook is built from.
type hookFields struct {
	name              string
	clientConfig      admissionregv1.WebhookClientConfig
	rules             []admissionregv1.RuleWithOperations
	failurePolicy     *admissionregv1.FailurePolicyType
	matchPolicy       *admissionregv1.MatchPolicyType
	namespaceSelector *metav1.LabelSelector
	objectSelector    *metav1.LabelSelector
	sideEffects       *admissionregv1.SideEffectClass
	timeoutSeconds    *int32
	reviewVersions    []string
	matchConditions   []admissionregv1.MatchCondition
	reinvocation      *admissionregv1.ReinvocationPolicyType
}

func compileHook(configuration string, f hookFields) *hook {
	h := &hook{
		id:            configuration + "/" + f.name,
		configuration: configuration,
		name:          f.name,
		rules:         f.rules,
		equivalent:    f.matchPolicy == nil || *f.matchPolicy == admissionregv1.Equivalent,
		failOpen:      f.failurePolicy != nil && *f.failurePolicy == admissionregv1.Ignore,
		timeout:       defaultTimeout,
		reviewAsked:   f.reviewVersions,
		reinvoke:      f.reinvocation != nil && *f.reinvocation == admissionregv1.IfNeededReinvocationPolicy,
		clientConfig:  f.clientConfig,
	}
	if f.timeoutSeconds != nil && *f.timeoutSeconds > 0 {
		h.timeout = time.Duration(*f.timeoutSeconds) * time.Second
	}
	if f.sideEffects != nil {
		h.sideEffectsSet = true
		h.dryRunOK = *f.sideEffects == admissionregv1.SideEffectClassNone || *f.sideEffects == admissionregv1.SideEffectClassNoneOnDryRun
	}
	for _, v := range f.reviewVersions {
		if v == "v1" || v == "v1beta1" {
			h.reviewVersion = v
			break
		}
	}
	var err error
	if h.nsSelector, err = parseSelector(f.namespaceSelector); err != nil {
		h.selectorErr = fmt.Errorf("namespaceSelector: %w", err)
	}
	if h.objSelector, err = parseSelector(f.objectSelector); err != nil && h.selectorErr == nil {
		h.selectorErr = fmt.Errorf("objectSelector: %w", err)
	}
	for _, mc := range f.matchConditions {
		h.conditions = append(h.conditions, validatingadmissionpolicy.CompileCondition(mc.Name, mc.Expression))
	}
	return h
}

// parseSelector returns nil for a selector that selects everything.
func parseSelector(sel *metav1.LabelSelector) (labels.Selector, error) {
	if sel == nil || len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0 {
		return nil, nil
	}
	return metav1.LabelSelectorAsSelector(sel)
}

func mutatingHooks(c *admissionregv1.MutatingWebhookConfiguration) []*hook {
	out := make([]*hook, 0, len(c.Webhooks))
	for _, w := range c.Webhooks {
		out = append(out, compileHook(c.Name, hookFields{name: w.Name, clientConfig: w.ClientConfig, rules: w.Rules,
			failurePolicy: w.FailurePolicy, matchPolicy: w.MatchPolicy, namespaceSelector: w.NamespaceSelector,
			objectSelector: w.ObjectSelector, sideEffects: w.SideEffects, timeoutSeconds: w.TimeoutSeconds,
			reviewVersions: w.AdmissionReviewVersions, matchConditions: w.MatchConditions, reinvocation: w.ReinvocationPolicy}))
	}
	return out
}

func validatingHooks(c *admissionregv1.ValidatingWebhookConfiguration) []*hook {
	out := make([]*hook, 0, len(c.Webhooks))
	for _, w := range c.Webhooks {
		out = append(out, compileHook(c.Name, hookFields{name: w.Name, clientConfig: w.ClientConfig, rules: w.Rules,
			failurePolicy: w.FailurePolicy, matchPolicy: w.MatchPolicy, namespaceSelector: w.NamespaceSelector,
			objectSelector: w.ObjectSelector, sideEffects: w.SideEffects, timeoutSeconds: w.TimeoutSeconds,
			reviewVersions: w.AdmissionReviewVersions, matchConditions: w.MatchConditions}))
	}
	return out
}
