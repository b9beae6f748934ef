package apiserver

import (
	"net/http"
	"testing"

	"k8s.io/apimachinery/pkg/types"
)

// patchFuzzTypes are the Content-Types a patch input picks from; an index past
// the end sends the input's own string.
var patchFuzzTypes = []string{string(types.JSONPatchType), string(types.MergePatchType),
	string(types.StrategicMergePatchType), string(types.ApplyYAMLPatchType)}

// patchFuzzTargets are the fixtures patched, and a subresource of each kind.
var patchFuzzTargets = []string{
	"/api/v1/namespaces/" + fuzzNamespace + "/configmaps/" + fuzzConfigMap,
	"/apis/apps/v1/namespaces/" + fuzzNamespace + "/deployments/" + fuzzDeployment,
	"/api/v1/namespaces/" + fuzzNamespace + "/pods/" + fuzzPod,
	"/apis/apps/v1/namespaces/" + fuzzNamespace + "/deployments/" + fuzzDeployment + "/scale",
	"/apis/apps/v1/namespaces/" + fuzzNamespace + "/deployments/" + fuzzDeployment + "/status",
	"/api/v1/namespaces/" + fuzzNamespace + "/pods/" + fuzzPod + "/status",
}

// FuzzPatch applies arbitrary patches of the four types (and arbitrary
// Content-Types) to the fixtures as dry runs. Every answer must be a success or
// a client error as a Status, and no fixture may change.
func FuzzPatch(f *testing.F) {
	seeds := []struct {
		target, pt uint8
		body       string
	}{
		{0, 0, `[{"op":"add","path":"/data/c","value":"3"}]`},
		{0, 0, `[{"op":"remove","path":"/data/zzz"}]`},
		{0, 0, `[{"op":"test","path":"/data/a","value":"2"}]`},
		{0, 0, `[{"op":"move","from":"/data","path":"/data/x"}]`},
		{0, 0, `[{"op":"copy","from":"/metadata","path":"/metadata/labels/x"}]`},
		{0, 0, `[{"op":"replace","path":"/metadata/name","value":"renamed"}]`},
		{0, 0, `[{"op":"add","path":"/data/-","value":1}]`},
		{0, 0, `[{"op":"bogus"}]`},
		{0, 0, `{"op":"add"}`},
		{0, 0, `[`},
		{0, 1, `{"data":{"a":null,"c":"3"}}`},
		{0, 1, `{"data":"not a map"}`},
		{0, 1, `{"metadata":{"namespace":"other"}}`},
		{0, 1, `{"kind":"Pod"}`},
		{0, 1, `null`},
		{0, 1, `[1,2,3]`},
		{0, 1, `{"metadata":{"annotations":{"a":` + nested(300) + `}}}`},
		{1, 2, `{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"busybox:2"}]}}}}`},
		{1, 2, `{"spec":{"template":{"spec":{"containers":[{"$patch":"delete","name":"c"}]}}}}`},
		{1, 2, `{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"x"}],"containers":[{"name":"y"}]}}}}`},
		{1, 2, `{"spec":{"template":{"spec":{"containers":[{"name":"c","$retainKeys":["name"],"env":[{"name":"A","$patch":"replace"}]}]}}}}`},
		{1, 2, `{"spec":{"template":{"spec":{"containers":{"$patch":"replace"}}}}}`},
		{1, 2, `{"spec":{"template":{"spec":{"$deleteFromPrimitiveList/finalizers":"x"}}}}`},
		{1, 2, `{"spec":{"$patch":"unknown"}}`},
		{1, 2, `{"spec":{"replicas":"three"}}`},
		{2, 2, `{"metadata":{"$deleteFromPrimitiveList/finalizers":["a"],"finalizers":["b"]}}`},
		{2, 2, `{"spec":{"containers":[[1]]}}`},
		{1, 3, "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: " + fuzzDeployment + "\nspec:\n  replicas: 4\n"},
		{1, 3, "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: other\n"},
		{0, 3, "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: [1, 2]\n"},
		{0, 3, "a: &a [*a, *a, *a]\n"},
		{0, 3, "{{{"},
		{3, 1, `{"spec":{"replicas":7}}`},
		{3, 0, `[{"op":"replace","path":"/spec/replicas","value":-1}]`},
		{4, 1, `{"status":{"replicas":3,"conditions":[{"type":"Available","status":"True"}]}}`},
		{5, 2, `{"status":{"phase":"Running","podIP":"not-an-ip"}}`},
		{0, 9, `{}`},
	}
	for _, s := range seeds {
		own := ""
		if int(s.pt) >= len(patchFuzzTypes) {
			own = "application/json"
		}
		f.Add(s.target, s.pt, own, s.target%2 == 1, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, targetIndex, ptIndex uint8, ownType string, force bool, body []byte) {
		setupFuzzFixtures(t)
		target := patchFuzzTargets[int(targetIndex)%len(patchFuzzTargets)]
		ct := ownType
		if int(ptIndex) < len(patchFuzzTypes) {
			ct = patchFuzzTypes[ptIndex]
		}
		query := "?dryRun=All"
		if ct == string(types.ApplyYAMLPatchType) {
			query += "&fieldManager=fuzz"
			if force {
				query += "&force=true"
			}
		}
		rec := serveLocal(http.MethodPatch, target+query, string(body), "Content-Type", ct)
		checkAPIResponse(t, "PATCH "+target+" as "+ct, rec,
			http.StatusOK, http.StatusCreated, http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound,
			http.StatusConflict, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity)
		checkFixturesUnchanged(t)
	})
}
