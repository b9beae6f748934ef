package webhook

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minik8s/minik8s/pkg/admission"
	"github.com/minik8s/minik8s/pkg/admission/admissiontest"
)

// reviewer answers an AdmissionReview request.
type reviewer func(req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse

// webhookServer starts a TLS webhook server answering with fn; it returns its
// URL and CA bundle.
func webhookServer(t testing.TB, fn reviewer) (string, []byte, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var review admissionv1.AdmissionReview
		if err := json.NewDecoder(r.Body).Decode(&review); err != nil || review.Request == nil {
			http.Error(w, "bad review", http.StatusBadRequest)
			return
		}
		resp := fn(review.Request)
		resp.UID = review.Request.UID
		review.Response, review.Request = resp, nil
		_ = json.NewEncoder(w).Encode(&review)
	}))
	t.Cleanup(srv.Close)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	return srv.URL, ca, &calls
}

func ptr[T any](v T) *T { return &v }

func podRules() []admissionregv1.RuleWithOperations {
	return []admissionregv1.RuleWithOperations{rule(all, core, v1, []string{"pods"}, "")}
}

func mutatingConfig(name, url string, ca []byte, mod func(w *admissionregv1.MutatingWebhook)) *admissionregv1.MutatingWebhookConfiguration {
	w := admissionregv1.MutatingWebhook{Name: name + ".example.com", Rules: podRules(),
		ClientConfig: admissionregv1.WebhookClientConfig{URL: &url, CABundle: ca},
		SideEffects:  ptr(admissionregv1.SideEffectClassNone), AdmissionReviewVersions: []string{"v1"}}
	if mod != nil {
		mod(&w)
	}
	return &admissionregv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: name}, Webhooks: []admissionregv1.MutatingWebhook{w}}
}

func validatingConfig(name, url string, ca []byte, mod func(w *admissionregv1.ValidatingWebhook)) *admissionregv1.ValidatingWebhookConfiguration {
	w := admissionregv1.ValidatingWebhook{Name: name + ".example.com", Rules: podRules(),
		ClientConfig: admissionregv1.WebhookClientConfig{URL: &url, CABundle: ca},
		SideEffects:  ptr(admissionregv1.SideEffectClassNone), AdmissionReviewVersions: []string{"v1"}}
	if mod != nil {
		mod(&w)
	}
	return &admissionregv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: name}, Webhooks: []admissionregv1.ValidatingWebhook{w}}
}

func newTestDispatcher(t testing.TB, objects *admissiontest.Objects, configs ...any) *Dispatcher {
	t.Helper()
	if objects == nil {
		objects = admissiontest.New()
	}
	src := NewSource(nil, EndpointResolver{Objects: objects})
	src.Set(configs...)
	d, err := NewDispatcher(Config{Source: src, Objects: objects})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func podCreate(labels map[string]string) (*corev1.Pod, *admission.Attributes) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", Labels: labels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app:1"}}}}
	var warnings []string
	return pod, &admission.Attributes{Operation: admission.Create, Kind: corev1.SchemeGroupVersion.WithKind("Pod"),
		Resource: corev1.SchemeGroupVersion.WithResource("pods"), Namespaced: true, Namespace: "default", Name: "web",
		Object: pod, Warnings: &warnings, Annotations: map[string]string{}}
}

func jsonPatch(ops string) *admissionv1.AdmissionResponse {
	pt := admissionv1.PatchTypeJSONPatch
	return &admissionv1.AdmissionResponse{Allowed: true, Patch: []byte(ops), PatchType: &pt}
}

func TestMutatingWebhookPatchIsAppliedToTheObjectInPlace(t *testing.T) {
	url, ca, _ := webhookServer(t, func(req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
		var pod corev1.Pod
		if err := json.Unmarshal(req.Object.Raw, &pod); err != nil || pod.Name != "web" {
			return &admissionv1.AdmissionResponse{Allowed: false, Result: &metav1.Status{Message: "bad object"}}
		}
		r := jsonPatch(`[{"op":"add","path":"/metadata/labels","value":{"injected":"yes"}},
			{"op":"add","path":"/spec/containers/-","value":{"name":"sidecar","image":"proxy:1"}}]`)
		r.Warnings = []string{"sidecar added"}
		r.AuditAnnotations = map[string]string{"key": "value"}
		return r
	})
	d := newTestDispatcher(t, nil, mutatingConfig("inject", url, ca, nil))
	pod, a := podCreate(nil)
	if err := d.Admit(context.Background(), a); err != nil {
		t.Fatalf("Admit: %v", err)
	}
	if pod.Labels["injected"] != "yes" || len(pod.Spec.Containers) != 2 || pod.Spec.Containers[1].Name != "sidecar" {
		t.Errorf("pod not patched in place: labels %v, containers %v", pod.Labels, pod.Spec.Containers)
	}
	if len(*a.Warnings) != 1 || (*a.Warnings)[0] != "sidecar added" {
		t.Errorf("warnings = %v", *a.Warnings)
	}
	if a.Annotations["inject.example.com/key"] != "value" {
		t.Errorf("audit annotations = %v", a.Annotations)
	}
	if !strings.Contains(a.Annotations["mutation.webhook.admission.k8s.io/round_0_index_0"], `"mutated":true`) {
		t.Errorf("mutation annotation missing: %v", a.Annotations)
	}
}

func TestWebhookDenialCarriesUpstreamMessage(t *testing.T) {
	url, ca, _ := webhookServer(t, func(*admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
		return &admissionv1.AdmissionResponse{Allowed: false, Result: &metav1.Status{Message: "no pods named web", Code: 403}}
	})
	for _, c := range []struct {
		name string
		run  func(d *Dispatcher, ctx context.Context, a *admission.Attributes) error
		cfg  any
	}{
		{"a mutating webhook", (*Dispatcher).Admit, mutatingConfig("deny", url, ca, nil)},
		{"a validating webhook", (*Dispatcher).Validate, validatingConfig("deny", url, ca, nil)},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, a := podCreate(nil)
			err := c.run(newTestDispatcher(t, nil, c.cfg), context.Background(), a)
			want := `admission webhook "deny.example.com" denied the request: no pods named web`
			if err == nil || err.Error() != want {
				t.Fatalf("err = %v, want %q", err, want)
			}
			if !apierrors.IsForbidden(err) {
				t.Errorf("reason = %s, want Forbidden", apierrors.ReasonForError(err))
			}
		})
	}
}

func TestDenialWithoutMessageSaysWithoutExplanation(t *testing.T) {
	url, ca, _ := webhookServer(t, func(*admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
		return &admissionv1.AdmissionResponse{Allowed: false}
	})
	_, a := podCreate(nil)
	err := newTestDispatcher(t, nil, validatingConfig("deny", url, ca, nil)).Validate(context.Background(), a)
	if err == nil || err.Error() != `admission webhook "deny.example.com" denied the request without explanation` {
		t.Fatalf("err = %v", err)
	}
	if se, ok := err.(*apierrors.StatusError); !ok || se.ErrStatus.Code != 400 {
		t.Errorf("want a 400 status, got %#v", err)
	}
}

func TestFailurePolicyDecidesWhenTheWebhookIsDown(t *testing.T) {
	url := "https://127.0.0.1:1/down" // nothing listens on port 1
	for _, c := range []struct {
		name    string
		policy  *admissionregv1.FailurePolicyType
		wantErr string
	}{
		{"no failurePolicy is Fail", nil, `Internal error occurred: failed calling webhook "down.example.com": failed to call webhook: Post "https://127.0.0.1:1/down?timeout=10s"`},
		{"Fail refuses the request", ptr(admissionregv1.Fail), `failed calling webhook "down.example.com"`},
		{"Ignore lets the request through", ptr(admissionregv1.Ignore), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, phase := range []string{"mutating", "validating"} {
				var err error
				_, a := podCreate(nil)
				if phase == "mutating" {
					err = newTestDispatcher(t, nil, mutatingConfig("down", url, nil, func(w *admissionregv1.MutatingWebhook) { w.FailurePolicy = c.policy })).Admit(context.Background(), a)
				} else {
					err = newTestDispatcher(t, nil, validatingConfig("down", url, nil, func(w *admissionregv1.ValidatingWebhook) { w.FailurePolicy = c.policy })).Validate(context.Background(), a)
				}
				if c.wantErr == "" {
					if err != nil {
						t.Errorf("%s: err = %v, want none", phase, err)
					}
					if len(a.Annotations) == 0 {
						t.Errorf("%s: no failed-open annotation", phase)
					}
					continue
				}
				if err == nil || !strings.Contains(err.Error(), c.wantErr) || !apierrors.IsInternalError(err) {
					t.Errorf("%s: err = %v, want an internal error containing %q", phase, err, c.wantErr)
				}
			}
		})
	}
}

func TestTimeoutSecondsBoundsTheCall(t *testing.T) {
	url, ca, _ := webhookServer(t, func(*admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
		time.Sleep(2 * time.Second)
		return &admissionv1.AdmissionResponse{Allowed: true}
	})
	d := newTestDispatcher(t, nil, validatingConfig("slow", url, ca, func(w *admissionregv1.ValidatingWebhook) { w.TimeoutSeconds = ptr(int32(1)) }))
	_, a := podCreate(nil)
	start := time.Now()
	err := d.Validate(context.Background(), a)
	if err == nil || !strings.Contains(err.Error(), "context deadline exceeded") || !strings.Contains(err.Error(), "timeout=1s") {
		t.Fatalf("err = %v, want a deadline error", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("call took %v, want about 1s", took)
	}
}

func TestSelectorsAndMatchConditionsChooseTheRequests(t *testing.T) {
	url, ca, calls := webhookServer(t, func(*admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
		return &admissionv1.AdmissionResponse{Allowed: true}
	})
	objects := admissiontest.New().Add("namespaces", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default", Labels: map[string]string{"env": "prod"}}})
	for _, c := range []struct {
		name   string
		mod    func(w *admissionregv1.ValidatingWebhook)
		labels map[string]string
		called bool
	}{
		{"a namespaceSelector matching the namespace's labels calls the webhook", func(w *admissionregv1.ValidatingWebhook) {
			w.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}}
		}, nil, true},
		{"a namespaceSelector not matching skips it", func(w *admissionregv1.ValidatingWebhook) {
			w.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"env": "dev"}}
		}, nil, false},
		{"an objectSelector matching the object's labels calls it", func(w *admissionregv1.ValidatingWebhook) {
			w.ObjectSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
		}, map[string]string{"app": "web"}, true},
		{"an objectSelector not matching skips it", func(w *admissionregv1.ValidatingWebhook) {
			w.ObjectSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
		}, nil, false},
		{"a true matchCondition calls it", func(w *admissionregv1.ValidatingWebhook) {
			w.MatchConditions = []admissionregv1.MatchCondition{{Name: "named-web", Expression: `object.metadata.name == "web" && request.operation == "CREATE"`}}
		}, nil, true},
		{"a false matchCondition skips it", func(w *admissionregv1.ValidatingWebhook) {
			w.MatchConditions = []admissionregv1.MatchCondition{{Name: "yes", Expression: "true"}, {Name: "exclude-admin", Expression: `request.userInfo.username != ""`}}
		}, nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := calls.Load()
			_, a := podCreate(c.labels)
			if err := newTestDispatcher(t, objects, validatingConfig("sel", url, ca, c.mod)).Validate(context.Background(), a); err != nil {
				t.Fatal(err)
			}
			if got := calls.Load() > before; got != c.called {
				t.Errorf("called = %v, want %v", got, c.called)
			}
		})
	}
}

func TestMatchConditionErrorFollowsFailurePolicy(t *testing.T) {
	url, ca, _ := webhookServer(t, func(*admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
		return &admissionv1.AdmissionResponse{Allowed: true}
	})
	bad := []admissionregv1.MatchCondition{{Name: "bad", Expression: `object.spec.nosuchfield == "x"`}}
	_, a := podCreate(nil)
	err := newTestDispatcher(t, nil, validatingConfig("cond", url, ca, func(w *admissionregv1.ValidatingWebhook) { w.MatchConditions = bad })).Validate(context.Background(), a)
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `matchCondition "bad"`) {
		t.Errorf("Fail: err = %v, want forbidden naming the condition", err)
	}
	_, a = podCreate(nil)
	err = newTestDispatcher(t, nil, validatingConfig("cond", url, ca, func(w *admissionregv1.ValidatingWebhook) {
		w.MatchConditions, w.FailurePolicy = bad, ptr(admissionregv1.Ignore)
	})).Validate(context.Background(), a)
	if err != nil {
		t.Errorf("Ignore: err = %v, want none", err)
	}
}

func TestDryRunSkipsNoWebhookWithSideEffects(t *testing.T) {
	url, ca, calls := webhookServer(t, func(req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
		if req.DryRun == nil || !*req.DryRun {
			return &admissionv1.AdmissionResponse{Allowed: false, Result: &metav1.Status{Message: "dryRun not set"}}
		}
		return &admissionv1.AdmissionResponse{Allowed: true}
	})
	_, a := podCreate(nil)
	a.DryRun = true
	err := newTestDispatcher(t, nil, mutatingConfig("effects", url, ca, func(w *admissionregv1.MutatingWebhook) {
		w.SideEffects = ptr(admissionregv1.SideEffectClassSome)
	})).Admit(context.Background(), a)
	if !apierrors.IsBadRequest(err) || err.Error() != `admission webhook "effects.example.com" does not support dry run` {
		t.Errorf("err = %v, want upstream's dry-run refusal", err)
	}
	if calls.Load() != 0 {
		t.Errorf("the webhook was called on a dry run")
	}
	_, a = podCreate(nil)
	a.DryRun = true
	if err := newTestDispatcher(t, nil, validatingConfig("noeffects", url, ca, func(w *admissionregv1.ValidatingWebhook) {
		w.SideEffects = ptr(admissionregv1.SideEffectClassNoneOnDryRun)
	})).Validate(context.Background(), a); err != nil {
		t.Errorf("NoneOnDryRun: err = %v", err)
	}
}

func TestReinvocationCallsEarlierWebhooksAgainAfterALaterChange(t *testing.T) {
	var firstCalls atomic.Int32
	// "a-first" adds a label copying the containers count; "b-second" adds a container.
	urlA, caA, _ := webhookServer(t, func(req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
		firstCalls.Add(1)
		var pod corev1.Pod
		_ = json.Unmarshal(req.Object.Raw, &pod)
		n := string(rune('0' + len(pod.Spec.Containers)))
		if pod.Labels == nil {
			return jsonPatch(`[{"op":"add","path":"/metadata/labels","value":{"containers":"` + n + `"}}]`)
		}
		return jsonPatch(`[{"op":"replace","path":"/metadata/labels/containers","value":"` + n + `"}]`)
	})
	urlB, caB, _ := webhookServer(t, func(req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
		var pod corev1.Pod
		_ = json.Unmarshal(req.Object.Raw, &pod)
		if len(pod.Spec.Containers) > 1 {
			return &admissionv1.AdmissionResponse{Allowed: true}
		}
		return jsonPatch(`[{"op":"add","path":"/spec/containers/-","value":{"name":"sidecar","image":"proxy:1"}}]`)
	})
	for _, c := range []struct {
		name       string
		policy     admissionregv1.ReinvocationPolicyType
		wantLabel  string
		wantCalled int32
	}{
		{"IfNeeded calls the first webhook again and it sees the sidecar", admissionregv1.IfNeededReinvocationPolicy, "2", 2},
		{"Never calls it once", admissionregv1.NeverReinvocationPolicy, "1", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			firstCalls.Store(0)
			d := newTestDispatcher(t, nil,
				mutatingConfig("a-first", urlA, caA, func(w *admissionregv1.MutatingWebhook) { w.ReinvocationPolicy = &c.policy }),
				mutatingConfig("b-second", urlB, caB, nil))
			pod, a := podCreate(nil)
			if err := d.Admit(context.Background(), a); err != nil {
				t.Fatal(err)
			}
			if pod.Labels["containers"] != c.wantLabel || firstCalls.Load() != c.wantCalled {
				t.Errorf("label %q after %d calls, want %q after %d", pod.Labels["containers"], firstCalls.Load(), c.wantLabel, c.wantCalled)
			}
		})
	}
}

func TestInvalidResponsesAreCallErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		fn   http.HandlerFunc
		want string
	}{
		{"a response with another uid", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"other","allowed":true}}`))
		}, `received invalid webhook response: expected response.uid=`},
		{"a response without response", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`))
		}, "webhook response was absent"},
		{"an HTTP error", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) }, "status 500"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewTLSServer(c.fn)
			defer srv.Close()
			ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
			_, a := podCreate(nil)
			err := newTestDispatcher(t, nil, validatingConfig("bad", srv.URL, ca, nil)).Validate(context.Background(), a)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
}

func TestServiceReferenceResolvesToAReadyEndpoint(t *testing.T) {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "hook", Namespace: "sys"},
		Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.9", Ports: []corev1.ServicePort{{Name: "https", Port: 443}}}}
	withSlice := admissiontest.New().Add("services", svc).
		Add("endpointslices.discovery.k8s.io", endpointSlice("sys", "hook", "https", "10.244.0.7", 8443))
	for _, c := range []struct {
		name    string
		objects *admissiontest.Objects
		port    int32
		want    string
	}{
		{"the service port's endpoint is dialled at its target port", withSlice, 443, "10.244.0.7:8443"},
		{"a port the service lacks does not resolve", withSlice, 8443, ""},
		{"a service without endpoint slices falls back to its ClusterIP", admissiontest.New().Add("services", svc), 443, "10.96.0.9:443"},
		{"a missing service does not resolve", admissiontest.New(), 443, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := EndpointResolver{Objects: c.objects}.Resolve(context.Background(), "sys", "hook", c.port)
			if got != c.want || (err == nil) != (c.want != "") {
				t.Errorf("Resolve = %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

func TestServiceReferenceCallsTheEndpointWithTheServiceName(t *testing.T) {
	url, ca, _ := webhookServer(t, func(*admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
		return &admissionv1.AdmissionResponse{Allowed: true}
	})
	// httptest's certificate names example.com: a service named example in
	// namespace com gives the server name "example.com.svc", which it does not
	// match, so the call must fail the certificate check after reaching it.
	ip, port := splitHostPort(t, strings.TrimPrefix(url, "https://"))
	objects := admissiontest.New().
		Add("services", &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "example", Namespace: "com"},
			Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 443}}}}).
		Add("endpointslices.discovery.k8s.io", endpointSlice("com", "example", "", ip, port))
	cfg := validatingConfig("svc", "", ca, func(w *admissionregv1.ValidatingWebhook) {
		w.ClientConfig.URL = nil
		w.ClientConfig.Service = &admissionregv1.ServiceReference{Namespace: "com", Name: "example", Path: ptr("/validate")}
	})
	_, a := podCreate(nil)
	err := newTestDispatcher(t, objects, cfg).Validate(context.Background(), a)
	if err == nil || !strings.Contains(err.Error(), `Post "https://example.com.svc:443/validate?timeout=10s"`) || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("err = %v, want a certificate error for example.com.svc", err)
	}
}
