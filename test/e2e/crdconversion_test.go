package e2e

import (
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// widgetConverter converts widgets between v1 (spec.size) and v2
// (spec.length); failing makes it answer every review with a failure.
func widgetConverter(t *testing.T, failing *atomic.Bool) *httptest.Server {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		review := &apiextv1.ConversionReview{}
		if err := json.NewDecoder(r.Body).Decode(review); err != nil || review.Request == nil {
			http.Error(w, "bad review", http.StatusBadRequest)
			return
		}
		resp := &apiextv1.ConversionResponse{UID: review.Request.UID, Result: metav1.Status{Status: metav1.StatusSuccess}}
		if failing.Load() {
			resp.Result = metav1.Status{Status: metav1.StatusFailure, Message: "widgets are not convertible today"}
		}
		for _, raw := range review.Request.Objects {
			u := &unstructured.Unstructured{}
			_ = u.UnmarshalJSON(raw.Raw)
			from, to := "size", "length"
			if review.Request.DesiredAPIVersion == "conv.example.com/v1" {
				from, to = "length", "size"
			}
			if v, ok, _ := unstructured.NestedFieldCopy(u.Object, "spec", from); ok {
				unstructured.RemoveNestedField(u.Object, "spec", from)
				_ = unstructured.SetNestedField(u.Object, v, "spec", to)
			}
			u.SetAPIVersion(review.Request.DesiredAPIVersion)
			data, _ := u.MarshalJSON()
			resp.ConvertedObjects = append(resp.ConvertedObjects, runtime.RawExtension{Raw: data})
		}
		_ = json.NewEncoder(w).Encode(&apiextv1.ConversionReview{TypeMeta: review.TypeMeta, Response: resp})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func widgetCRD(url string, caPEM []byte, storage string) string {
	v1, v2 := "true", "false"
	if storage == "v2" {
		v1, v2 = "false", "true"
	}
	return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.conv.example.com}
spec:
  group: conv.example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  conversion:
    strategy: Webhook
    webhook:
      conversionReviewVersions: [v1]
      clientConfig:
        url: ` + url + `/convert
        caBundle: ` + base64.StdEncoding.EncodeToString(caPEM) + `
  versions:
  - name: v1
    served: true
    storage: ` + v1 + `
    schema: {openAPIV3Schema: {type: object, properties: {spec: {type: object, properties: {size: {type: integer}}}}}}
  - name: v2
    served: true
    storage: ` + v2 + `
    schema: {openAPIV3Schema: {type: object, properties: {spec: {type: object, properties: {length: {type: integer}}}}}}
`
}

// A CRD whose versions differ in shape converts through its webhook: objects
// written in one version read in the other, lists of objects stored in both
// versions read in either, and a failing webhook fails the request.
func TestCRDConversionWebhookThroughKubectl(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	var failing atomic.Bool
	srv := widgetConverter(t, &failing)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})

	s.Apply(widgetCRD(srv.URL, caPEM, "v1"))
	defer s.Do("delete", "crd", "widgets.conv.example.com", "--ignore-not-found")
	s.Run("wait", "--for=condition=Established", "--timeout=30s", "crd/widgets.conv.example.com")
	framework.Eventually(t, 10*time.Second, func() error {
		return want(s.Do("api-resources", "--api-group=conv.example.com").Stdout, "widgets")
	})

	// Written in v1 (the storage version), read in v2.
	s.Apply("apiVersion: conv.example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 3}\n")
	framework.Contains(t, s.Run("get", "widgets.v2.conv.example.com", "w1", "-o", "jsonpath={.apiVersion},{.spec.length}"), "conv.example.com/v2,3")
	// Written in v2, stored in v1.
	s.Apply("apiVersion: conv.example.com/v2\nkind: Widget\nmetadata: {name: w2}\nspec: {length: 7}\n")
	framework.Contains(t, s.Run("get", "widgets.v1.conv.example.com", "w2", "-o", "jsonpath={.apiVersion},{.spec.size}"), "conv.example.com/v1,7")

	// Storage moves to v2: w3 is stored in v2 (once the server serves the
	// change), w1 and w2 stay in v1; lists convert each to the version asked.
	s.Apply(widgetCRD(srv.URL, caPEM, "v2"))
	time.Sleep(time.Second)
	s.Apply("apiVersion: conv.example.com/v1\nkind: Widget\nmetadata: {name: w3}\nspec: {size: 11}\n")
	framework.Contains(t, s.Run("get", "widgets.v2.conv.example.com", "-o", "jsonpath={.items[*].spec.length}"), "3 7 11")
	framework.Contains(t, s.Run("get", "widgets.v1.conv.example.com", "-o", "jsonpath={.items[*].spec.size}"), "3 7 11")

	// A failing webhook fails the read with its message.
	failing.Store(true)
	framework.Contains(t, s.Fail("get", "widgets.v1.conv.example.com", "w3"),
		"conversion webhook for conv.example.com/v2, Kind=Widget failed: widgets are not convertible today")
	failing.Store(false)
	framework.Contains(t, s.Run("get", "widgets.v1.conv.example.com", "w3", "-o", "jsonpath={.spec.size}"), "11")
}
