package admissionregistration

import (
	"context"
	"reflect"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/minik8s/minik8s/pkg/registry"
)

func problems(errs field.ErrorList) []string {
	out := []string{}
	for _, e := range errs {
		out = append(out, string(e.Type)+" "+e.Field)
	}
	return out
}

func webhooks(mutate func(*admissionv1.ValidatingWebhook)) *admissionv1.ValidatingWebhookConfiguration {
	none := admissionv1.SideEffectClassNone
	w := admissionv1.ValidatingWebhook{Name: "v.example.com", SideEffects: &none, AdmissionReviewVersions: []string{"v1"},
		ClientConfig: admissionv1.WebhookClientConfig{Service: &admissionv1.ServiceReference{Namespace: "default", Name: "wh"}},
		Rules: []admissionv1.RuleWithOperations{{Operations: []admissionv1.OperationType{admissionv1.Create},
			Rule: admissionv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}}}}}
	if mutate != nil {
		mutate(&w)
	}
	return &admissionv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "c"}, Webhooks: []admissionv1.ValidatingWebhook{w}}
}

func TestWebhookDefaults(t *testing.T) {
	c := webhooks(nil)
	r := ValidatingWebhookConfigurations()
	r.Strategy.Default(c)
	r.Strategy.PrepareForCreate(context.Background(), c)
	w := c.Webhooks[0]
	if *w.FailurePolicy != admissionv1.Fail || *w.MatchPolicy != admissionv1.Equivalent || *w.TimeoutSeconds != 10 ||
		w.NamespaceSelector == nil || w.ObjectSelector == nil || *w.ClientConfig.Service.Port != 443 || *w.Rules[0].Scope != "*" {
		t.Errorf("defaults %+v", w)
	}
	if c.Generation != 1 {
		t.Errorf("generation %d, want 1", c.Generation)
	}
}

func TestWebhookValidation(t *testing.T) {
	some := admissionv1.SideEffectClassSome
	url := "http://example.com/x?y"
	tests := []struct {
		name   string
		mutate func(*admissionv1.ValidatingWebhook)
		want   []string
	}{
		{"a webhook to a service is valid", nil, []string{}},
		{"a name needs three labels", func(w *admissionv1.ValidatingWebhook) { w.Name = "v" }, []string{"FieldValueInvalid webhooks[0].name"}},
		{"validating webhooks may have no side effects", func(w *admissionv1.ValidatingWebhook) { w.SideEffects = &some },
			[]string{"FieldValueNotSupported webhooks[0].sideEffects"}},
		{"a URL must be https without a query", func(w *admissionv1.ValidatingWebhook) {
			w.ClientConfig = admissionv1.WebhookClientConfig{URL: &url}
		}, []string{"FieldValueInvalid webhooks[0].clientConfig.url", "FieldValueInvalid webhooks[0].clientConfig.url"}},
		{"review versions must include a known one", func(w *admissionv1.ValidatingWebhook) { w.AdmissionReviewVersions = []string{"v2"} },
			[]string{"FieldValueInvalid webhooks[0].admissionReviewVersions"}},
		{"operations are required", func(w *admissionv1.ValidatingWebhook) { w.Rules[0].Operations = nil },
			[]string{"FieldValueRequired webhooks[0].rules[0].operations"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := webhooks(tt.mutate)
			r := ValidatingWebhookConfigurations()
			r.Strategy.Default(c)
			if got := problems(r.Strategy.Validate(context.Background(), c)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPoliciesAndBindings(t *testing.T) {
	p := &admissionv1.ValidatingAdmissionPolicy{ObjectMeta: metav1.ObjectMeta{Name: "p"}}
	want := []string{"FieldValueRequired spec.matchConstraints", "FieldValueRequired spec.validations", "FieldValueRequired spec.auditAnnotations"}
	if got := problems(ValidatingAdmissionPolicies().Strategy.Validate(context.Background(), p)); !reflect.DeepEqual(got, want) {
		t.Errorf("an empty policy: %v, want %v", got, want)
	}
	b := &admissionv1.ValidatingAdmissionPolicyBinding{ObjectMeta: metav1.ObjectMeta{Name: "b"}}
	want = []string{"FieldValueRequired spec.policyName", "FieldValueRequired spec.validationActions"}
	if got := problems(ValidatingAdmissionPolicyBindings().Strategy.Validate(context.Background(), b)); !reflect.DeepEqual(got, want) {
		t.Errorf("an empty binding: %v, want %v", got, want)
	}
	p.Spec.MatchConstraints = &admissionv1.MatchResources{}
	ValidatingAdmissionPolicies().Strategy.Default(p)
	if *p.Spec.FailurePolicy != admissionv1.Fail || *p.Spec.MatchConstraints.MatchPolicy != admissionv1.Equivalent {
		t.Errorf("policy defaults %+v", p.Spec)
	}
}

func TestWebhookMatchConditionsMustCompile(t *testing.T) {
	none := admissionv1.SideEffectClassNone
	cfg := func(conds ...admissionv1.MatchCondition) *admissionv1.ValidatingWebhookConfiguration {
		url := "https://example.com/hook"
		return &admissionv1.ValidatingWebhookConfiguration{Webhooks: []admissionv1.ValidatingWebhook{{
			Name: "deny.example.com", ClientConfig: admissionv1.WebhookClientConfig{URL: &url}, SideEffects: &none,
			AdmissionReviewVersions: []string{"v1"}, MatchConditions: conds}}}
	}
	cases := []struct {
		name  string
		conds []admissionv1.MatchCondition
		want  string
	}{
		{name: "a condition that compiles is accepted", conds: []admissionv1.MatchCondition{{Name: "ok", Expression: "request.operation == 'CREATE'"}}},
		{name: "an expression that does not compile is refused", conds: []admissionv1.MatchCondition{{Name: "bad", Expression: "imnotafunction()"}},
			want: "webhooks[0].matchConditions[0].expression: Invalid value: \"imnotafunction()\": compilation failed"},
		{name: "a condition without a name is refused", conds: []admissionv1.MatchCondition{{Expression: "true"}},
			want: "webhooks[0].matchConditions[0].name: Required value"},
		{name: "two conditions with one name are refused", conds: []admissionv1.MatchCondition{{Name: "a", Expression: "true"}, {Name: "a", Expression: "true"}},
			want: "webhooks[0].matchConditions[1].name: Duplicate value"},
	}
	r := ValidatingWebhookConfigurations()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			errs := r.Strategy.(*registry.Generic).Validation(cfg(c.conds...))
			if c.want == "" {
				if len(errs) != 0 {
					t.Fatalf("refused: %v", errs)
				}
				return
			}
			if !strings.Contains(errs.ToAggregate().Error(), c.want) {
				t.Fatalf("errors %v, want %q", errs, c.want)
			}
		})
	}
}
