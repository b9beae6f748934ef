package webhook

import (
	"context"
	"fmt"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregv1 "k8s.io/api/admissionregistration/v1"
)

// The cost a request pays for webhook admission: with no configuration, with
// ten whose rules match other resources (a map lookup each phase), and with
// one webhook that matches and answers at once (the call's own cost: JSON
// both ways over a kept-alive TLS connection).

func benchAdmission(b *testing.B, d *Dispatcher) {
	ctx := context.Background()
	_, a := podCreate(nil)
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Admit(ctx, a); err != nil {
			b.Fatal(err)
		}
		if err := d.Validate(ctx, a); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAdmissionWithoutConfigurations(b *testing.B) {
	benchAdmission(b, newTestDispatcher(b, nil))
}

func BenchmarkAdmissionWithTenNonMatchingConfigurations(b *testing.B) {
	url := "https://127.0.0.1:1/never"
	var configs []any
	for i := range 5 {
		configs = append(configs,
			mutatingConfig(fmt.Sprintf("m%d", i), url, nil, func(w *admissionregv1.MutatingWebhook) {
				w.Rules = []admissionregv1.RuleWithOperations{rule(all, []string{"apps"}, v1, []string{"deployments"}, "")}
			}),
			validatingConfig(fmt.Sprintf("v%d", i), url, nil, func(w *admissionregv1.ValidatingWebhook) {
				w.Rules = []admissionregv1.RuleWithOperations{rule(all, core, v1, []string{"secrets"}, "")}
			}))
	}
	benchAdmission(b, newTestDispatcher(b, nil, configs...))
}

func BenchmarkAdmissionWithOneMatchingValidatingWebhook(b *testing.B) {
	url, ca, _ := webhookServer(b, func(*admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
		return &admissionv1.AdmissionResponse{Allowed: true}
	})
	benchAdmission(b, newTestDispatcher(b, nil, validatingConfig("allow", url, ca, nil)))
}
