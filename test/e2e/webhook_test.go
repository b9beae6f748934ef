package e2e

import (
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// admissionWebhookServer is the test's webhook, served over TLS on loopback:
// /mutate labels every object and gives pods a sidecar; /validate refuses
// objects whose name starts with "reserved-".
func admissionWebhookServer(t *testing.T) (url, caBundle string) {
	t.Helper()
	mux := http.NewServeMux()
	answer := func(w http.ResponseWriter, r *http.Request, decide func(req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse) {
		var review admissionv1.AdmissionReview
		if err := json.NewDecoder(r.Body).Decode(&review); err != nil || review.Request == nil {
			http.Error(w, "bad review", http.StatusBadRequest)
			return
		}
		resp := decide(review.Request)
		resp.UID = review.Request.UID
		review.Request, review.Response = nil, resp
		_ = json.NewEncoder(w).Encode(&review)
	}
	mux.HandleFunc("/mutate", func(w http.ResponseWriter, r *http.Request) {
		answer(w, r, func(req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
			var obj struct {
				Metadata metav1.ObjectMeta `json:"metadata"`
			}
			_ = json.Unmarshal(req.Object.Raw, &obj)
			var ops []string
			if obj.Metadata.Labels == nil {
				ops = append(ops, `{"op":"add","path":"/metadata/labels","value":{}}`)
			}
			ops = append(ops, `{"op":"add","path":"/metadata/labels/injected","value":"true"}`)
			if req.Kind.Kind == "Pod" {
				ops = append(ops, `{"op":"add","path":"/spec/containers/-","value":{"name":"sidecar","image":"busybox"}}`)
			}
			pt := admissionv1.PatchTypeJSONPatch
			return &admissionv1.AdmissionResponse{Allowed: true, PatchType: &pt, Patch: []byte("[" + strings.Join(ops, ",") + "]"),
				Warnings: []string{"mutated by the test webhook"}}
		})
	})
	mux.HandleFunc("/validate", func(w http.ResponseWriter, r *http.Request) {
		answer(w, r, func(req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
			if strings.HasPrefix(req.Name, "reserved-") {
				return &admissionv1.AdmissionResponse{Allowed: false, Result: &metav1.Status{Message: "names starting with reserved- are kept for the platform", Code: 403, Reason: metav1.StatusReasonForbidden}}
			}
			return &admissionv1.AdmissionResponse{Allowed: true}
		})
	})
	// /attach refuses attaching to container1 with stdin, as upstream's
	// conformance webhook: the request's object is the PodAttachOptions.
	mux.HandleFunc("/attach", func(w http.ResponseWriter, r *http.Request) {
		answer(w, r, func(req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
			var opts corev1.PodAttachOptions
			if err := json.Unmarshal(req.Object.Raw, &opts); err != nil || req.Kind.Kind != "PodAttachOptions" || req.SubResource != "attach" {
				return &admissionv1.AdmissionResponse{Result: &metav1.Status{Message: fmt.Sprintf("unexpected request %s %s/%s: %s", req.Operation, req.Kind.Kind, req.SubResource, req.Object.Raw)}}
			}
			if !opts.Stdin || opts.Container != "container1" {
				return &admissionv1.AdmissionResponse{Allowed: true}
			}
			return &admissionv1.AdmissionResponse{Result: &metav1.Status{Message: fmt.Sprintf("attaching to pod '%s' is not allowed", req.Name)}}
		})
	})
	srv := httptest.NewTLSServer(mux) // listens on 127.0.0.1; its certificate names that address
	t.Cleanup(srv.Close)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	return srv.URL, base64.StdEncoding.EncodeToString(ca)
}

// webhookConfig is a configuration of one webhook for configmaps and pods
// created in namespace ns only (other tests share the cluster).
func webhookConfig(kind, name, url, ca, ns, extra string) string {
	return fmt.Sprintf(`apiVersion: admissionregistration.k8s.io/v1
kind: %s
metadata: {name: %s}
webhooks:
- name: %s.webhook.test
  clientConfig: {url: %q, caBundle: %s}
  rules:
  - operations: [CREATE]
    apiGroups: [""]
    apiVersions: [v1]
    resources: [configmaps, pods]
  matchConditions:
  - name: test-namespace
    expression: request.namespace == %q
  admissionReviewVersions: [v1]
  timeoutSeconds: 5
%s`, kind, name, name, url, ca, ns, extra)
}

// A mutating webhook labels objects and adds a sidecar to pods; a validating
// webhook refuses a name and kubectl prints its message; the webhooks'
// warnings reach kubectl; dry runs call them and store nothing.
func TestAdmissionWebhooksMutateAndValidateRequests(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	url, ca := admissionWebhookServer(t)
	mut, val := s.Namespace+"-mutate", s.Namespace+"-validate"
	t.Cleanup(func() {
		s.Do("delete", "mutatingwebhookconfiguration", mut, "validatingwebhookconfiguration", val, "--ignore-not-found")
	})
	s.Apply(webhookConfig("MutatingWebhookConfiguration", mut, url+"/mutate", ca, s.Namespace, "  sideEffects: None\n  reinvocationPolicy: IfNeeded\n"))
	s.Apply(webhookConfig("ValidatingWebhookConfiguration", val, url+"/validate", ca, s.Namespace, "  sideEffects: None\n"))

	// The configuration reaches the server's cache a moment after its create.
	n := 0
	framework.Eventually(t, 20*time.Second, func() error {
		n++
		name := fmt.Sprintf("settings-%d", n)
		r := s.Do("create", "configmap", name, "--from-literal=a=b")
		if r.Code != 0 {
			return fmt.Errorf("create configmap: %s", r.Stderr)
		}
		if got := s.Run("get", "configmap", name, "-o", "jsonpath={.metadata.labels.injected}"); got != "true" {
			return fmt.Errorf("label injected = %q", got)
		}
		framework.Contains(t, r.Stderr, "Warning: mutated by the test webhook")
		return nil
	})

	s.Run("run", "web", "--image=busybox", "--restart=Never")
	if got := s.Run("get", "pod", "web", "-o", "jsonpath={.spec.containers[*].name} {.metadata.labels.injected}"); got != "web sidecar true" {
		t.Errorf("pod containers and label %q, want the sidecar and the label", got)
	}

	denied := `admission webhook "` + val + `.webhook.test" denied the request: names starting with reserved- are kept for the platform`
	framework.Contains(t, s.Fail("create", "configmap", "reserved-one", "--from-literal=a=b"), "error: failed to create configmap: "+denied)
	framework.Contains(t, s.Fail("run", "reserved-pod", "--image=busybox", "--restart=Never"),
		`Error from server (Forbidden): `+denied)

	// A dry run calls webhooks without side effects (v1 allows no others) and stores nothing.
	if got := s.Run("create", "configmap", "dry", "--from-literal=a=b", "--dry-run=server", "-o", "jsonpath={.metadata.labels.injected}"); got != "true" {
		t.Errorf("dry-run create label injected = %q, want the webhook's", got)
	}
	framework.Contains(t, s.Fail("get", "configmap", "dry"), "NotFound")
}

// A webhook that cannot be reached refuses requests with failurePolicy Fail
// and lets them through with Ignore.
func TestAdmissionWebhookFailurePolicyWhenTheWebhookIsDown(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	_, ca := admissionWebhookServer(t)
	port, err := framework.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	down := "https://" + net.JoinHostPort("127.0.0.1", fmt.Sprint(port)) + "/validate"
	ignore, fail := s.Namespace+"-ignore", s.Namespace+"-fail"
	t.Cleanup(func() { s.Do("delete", "validatingwebhookconfiguration", ignore, fail, "--ignore-not-found") })
	s.Apply(webhookConfig("ValidatingWebhookConfiguration", ignore, down, ca, s.Namespace,
		"  sideEffects: None\n  failurePolicy: Ignore\n  objectSelector: {matchLabels: {policy: ignore}}\n"))
	s.Apply(webhookConfig("ValidatingWebhookConfiguration", fail, down, ca, s.Namespace,
		"  sideEffects: None\n  failurePolicy: Fail\n  objectSelector: {matchLabels: {policy: fail}}\n"))

	n := 0
	framework.Eventually(t, 20*time.Second, func() error {
		n++
		name := fmt.Sprintf("closed-%d", n)
		r := s.DoIn(fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s, labels: {policy: fail}}\n", name), "create", "-f", "-")
		if r.Code == 0 {
			return fmt.Errorf("configmap %s with policy Fail was created", name)
		}
		return want(r.Stderr, `Internal error occurred: failed calling webhook "`+fail+`.webhook.test": failed to call webhook: Post "`+down+`?timeout=5s"`)
	})
	s.Apply("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: open, labels: {policy: ignore}}\n")
	s.Run("get", "configmap", "open")
}

// A validating webhook for CONNECT of pods/attach refuses kubectl attach with
// its message before anything is attached; the same pod's other containers
// are not refused by it.
func TestAdmissionWebhookDeniesAttachingToAPod(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	url, ca := admissionWebhookServer(t)
	name := s.Namespace + "-attach"
	t.Cleanup(func() { s.Do("delete", "validatingwebhookconfiguration", name, "--ignore-not-found") })
	s.Apply(fmt.Sprintf(`apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: %s}
webhooks:
- name: deny-attaching-pod.webhook.test
  clientConfig: {url: %q, caBundle: %s}
  rules:
  - operations: [CONNECT]
    apiGroups: [""]
    apiVersions: [v1]
    resources: [pods/attach]
  matchConditions:
  - name: test-namespace
    expression: request.namespace == %q
  sideEffects: None
  admissionReviewVersions: [v1]
  timeoutSeconds: 5
`, name, url+"/attach", ca, s.Namespace))
	s.Apply(`apiVersion: v1
kind: Pod
metadata: {name: to-be-attached-pod}
spec:
  containers:
  - {name: container1, image: busybox, command: [sleep, "600"], stdin: true}
`)
	framework.Eventually(t, 20*time.Second, func() error {
		r := s.Do("attach", "to-be-attached-pod", "-i", "-c=container1")
		if r.Code == 0 {
			return fmt.Errorf("kubectl attach succeeded")
		}
		return want(r.Stderr, "attaching to pod 'to-be-attached-pod' is not allowed")
	})
}
