package apiserver

import (
	"net/http"
	"testing"
)

// writeFuzzTargets are the endpoints FuzzWriteBody sends bodies to, all as dry
// runs: creates, updates, subresources with bodies of their own kinds, and a
// delete with DeleteOptions.
var writeFuzzTargets = []struct{ method, path string }{
	{http.MethodPost, "/api/v1/namespaces/" + fuzzNamespace + "/configmaps"},
	{http.MethodPost, "/api/v1/namespaces/" + fuzzNamespace + "/pods"},
	{http.MethodPost, "/apis/apps/v1/namespaces/" + fuzzNamespace + "/deployments"},
	{http.MethodPost, "/api/v1/namespaces"},
	{http.MethodPost, "/apis/rbac.authorization.k8s.io/v1/clusterroles"},
	{http.MethodPut, "/api/v1/namespaces/" + fuzzNamespace + "/configmaps/" + fuzzConfigMap},
	{http.MethodPut, "/apis/apps/v1/namespaces/" + fuzzNamespace + "/deployments/" + fuzzDeployment},
	{http.MethodPut, "/apis/apps/v1/namespaces/" + fuzzNamespace + "/deployments/" + fuzzDeployment + "/scale"},
	{http.MethodPut, "/apis/apps/v1/namespaces/" + fuzzNamespace + "/deployments/" + fuzzDeployment + "/status"},
	{http.MethodPost, "/api/v1/namespaces/" + fuzzNamespace + "/pods/" + fuzzPod + "/eviction"},
	{http.MethodDelete, "/api/v1/namespaces/" + fuzzNamespace + "/configmaps/" + fuzzConfigMap},
	{http.MethodDelete, "/api/v1/namespaces/" + fuzzNamespace + "/configmaps"},
	{http.MethodPost, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"},
}

// FuzzWriteBody sends arbitrary bodies and Content-Types to write endpoints of
// the running test server, as dry runs. Every answer must be a success or a
// client error of the kinds upstream gives bad bodies, as a Status; no fixture
// may change.
func FuzzWriteBody(f *testing.F) {
	seeds := []struct {
		target uint8
		ct     string
		body   string
	}{
		{0, mediaJSON, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c1"},"data":{"a":"b"}}`},
		{0, mediaJSON, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Not_A_Name"}}`},
		{0, mediaJSON, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"g-","namespace":"other"}}`},
		{0, mediaYAML, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: y}\ndata: {a: [1]}\n"},
		{0, mediaProtobuf, "k8s\x00garbage"},
		{0, "text/plain", `{}`},
		{0, "application/json;;", `{}`},
		{1, mediaJSON, `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p1"},"spec":{"containers":[{"name":"c","image":"i","resources":{"requests":{"cpu":"-1"}}}]}}`},
		{2, mediaJSON, `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d1"},"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"c"}}}}}`},
		{3, mediaJSON, `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"kube-system"}}`},
		{4, mediaJSON, `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"r"},"rules":[{"verbs":[]}]}`},
		{5, mediaJSON, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"` + fuzzConfigMap + `","resourceVersion":"1"}}`},
		{5, mediaJSON, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"other-name"}}`},
		{6, mediaJSON, `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"` + fuzzDeployment + `"},"spec":{"replicas":-1}}`},
		{7, mediaJSON, `{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"` + fuzzDeployment + `"},"spec":{"replicas":5}}`},
		{7, mediaJSON, `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"` + fuzzDeployment + `"}}`},
		{7, mediaJSON, `{"apiVersion":"autoscaling/v1","kind":"Scale","spec":{"replicas":-3}}`},
		{8, mediaJSON, `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"` + fuzzDeployment + `"},"status":{"replicas":"x"}}`},
		{9, mediaJSON, `{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"` + fuzzPod + `"}}`},
		{9, mediaJSON, `{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"other"},"deleteOptions":{"gracePeriodSeconds":-5}}`},
		{9, mediaJSON, `{"apiVersion":"v1","kind":"ConfigMap"}`},
		{10, mediaJSON, `{"apiVersion":"v1","kind":"DeleteOptions","propagationPolicy":"Sideways"}`},
		{10, mediaJSON, `{"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"uid":"nope"}}`},
		{10, mediaJSON, `{"apiVersion":"v1","kind":"Pod"}`},
		{10, mediaJSON, `{"gracePeriodSeconds":"soon"}`},
		{11, mediaJSON, `{"apiVersion":"v1","kind":"DeleteOptions","orphanDependents":true,"propagationPolicy":"Orphan"}`},
		{12, mediaJSON, `{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{"resourceAttributes":{"verb":"get","resource":"pods"}}}`},
		{12, mediaJSON, `{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{}}`},
	}
	for _, s := range seeds {
		f.Add(s.target, s.ct, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, targetIndex uint8, contentType string, body []byte) {
		setupFuzzFixtures(t)
		target := writeFuzzTargets[int(targetIndex)%len(writeFuzzTargets)]
		path := target.path + "?dryRun=All"
		rec := serveLocal(target.method, path, string(body), "Content-Type", contentType)
		checkAPIResponse(t, target.method+" "+target.path, rec,
			http.StatusOK, http.StatusCreated, http.StatusAccepted, http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound,
			http.StatusMethodNotAllowed, http.StatusConflict, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType,
			http.StatusUnprocessableEntity, http.StatusTooManyRequests)
		checkFixturesUnchanged(t)
	})
}
