package apiserver

import (
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
)

// A mutating webhook that adds a field the custom resource's schema does not
// declare has it pruned before the object is stored, on create and on update,
// without unknown-field warnings (the caller did not send it), as upstream.
func TestWebhookAddedUnknownFieldsArePruned(t *testing.T) {
	startTestCRDs()
	hook := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var review admissionv1.AdmissionReview
		if err := json.NewDecoder(r.Body).Decode(&review); err != nil || review.Request == nil {
			http.Error(w, "bad review", http.StatusBadRequest)
			return
		}
		pt := admissionv1.PatchTypeJSONPatch
		review.Response = &admissionv1.AdmissionResponse{UID: review.Request.UID, Allowed: true, PatchType: &pt,
			Patch: []byte(`[{"op":"add","path":"/data/mutation-stage-1","value":"yes"},{"op":"add","path":"/data/mutation-stage-2","value":"yes"}]`)}
		review.Request = nil
		_ = json.NewEncoder(w).Encode(&review)
	}))
	defer hook.Close()
	ca := base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: hook.Certificate().Raw}))

	crd := `{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
"metadata":{"name":"prunables.prune.example.com"},
"spec":{"group":"prune.example.com","scope":"Namespaced","names":{"plural":"prunables","kind":"Prunable"},
 "versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object","properties":{
  "data":{"type":"object","properties":{"mutation-start":{"type":"string"},"mutation-stage-1":{"type":"string"}}}}}}}]}}`
	call(t, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd).must(t, http.StatusCreated)
	defer call(t, "DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/prunables.prune.example.com", nil)
	base := "/apis/prune.example.com/v1/namespaces/default/prunables"
	waitFor(t, "the prunables resource", func() bool { return call(t, "GET", base, nil).code == http.StatusOK })

	const cfgPath = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations"
	name := uniqueName("prune-hook")
	call(t, "POST", cfgPath, fmt.Sprintf(`{"apiVersion":"admissionregistration.k8s.io/v1","kind":"MutatingWebhookConfiguration",
"metadata":{"name":%q},"webhooks":[{"name":"prune.webhook.test","clientConfig":{"url":%q,"caBundle":%q},
 "rules":[{"operations":["CREATE","UPDATE"],"apiGroups":["prune.example.com"],"apiVersions":["v1"],"resources":["prunables"]}],
 "sideEffects":"None","admissionReviewVersions":["v1"],"timeoutSeconds":5}]}`, name, hook.URL, ca)).must(t, http.StatusCreated)
	defer call(t, "DELETE", cfgPath+"/"+name, nil)

	want := map[string]any{"mutation-start": "yes", "mutation-stage-1": "yes"}
	data := func(r reply) map[string]any {
		var got struct {
			Data map[string]any `json:"data"`
		}
		r.into(t, &got)
		return got.Data
	}
	// The configuration reaches the dispatcher's cache a moment after its create.
	n := 0
	var created reply
	waitFor(t, "the webhook to mutate", func() bool {
		n++
		created = call(t, "POST", base, fmt.Sprintf(`{"apiVersion":"prune.example.com/v1","kind":"Prunable","metadata":{"name":"p%d"},"data":{"mutation-start":"yes"}}`, n)).
			must(t, http.StatusCreated)
		return data(created)["mutation-stage-1"] == "yes"
	})
	obj := fmt.Sprintf("p%d", n)
	if got := data(created); !reflect.DeepEqual(got, want) {
		t.Errorf("created data %v, want %v", got, want)
	}
	if w := created.warnings(t); len(w) != 0 {
		t.Errorf("create warnings %v, want none", w)
	}
	if got := data(call(t, "GET", base+"/"+obj, nil).must(t, http.StatusOK)); !reflect.DeepEqual(got, want) {
		t.Errorf("stored data %v, want %v", got, want)
	}
	updated := call(t, "PUT", base+"/"+obj, fmt.Sprintf(`{"apiVersion":"prune.example.com/v1","kind":"Prunable","metadata":{"name":%q},"data":{"mutation-start":"yes"}}`, obj)).
		must(t, http.StatusOK)
	if got := data(updated); !reflect.DeepEqual(got, want) {
		t.Errorf("updated data %v, want %v", got, want)
	}
	if w := updated.warnings(t); len(w) != 0 {
		t.Errorf("update warnings %v, want none", w)
	}
}
