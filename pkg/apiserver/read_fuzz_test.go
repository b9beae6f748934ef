package apiserver

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// listFuzzPaths are the collections FuzzListQuery lists: namespaced and
// cluster-scoped, with field selectors of their own (pods, nodes, events).
var listFuzzPaths = []string{
	"/api/v1/namespaces/" + fuzzNamespace + "/configmaps",
	"/api/v1/namespaces/" + fuzzNamespace + "/pods",
	"/api/v1/pods",
	"/api/v1/nodes",
	"/api/v1/namespaces/" + fuzzNamespace + "/events",
	"/apis/apps/v1/namespaces/" + fuzzNamespace + "/deployments",
	"/api/v1/namespaces",
	"/api/v1/namespaces/" + fuzzNamespace + "/configmaps/" + fuzzConfigMap,
}

// FuzzListQuery lists and gets with arbitrary query strings and Accept headers:
// label and field selectors, limit and continue, resourceVersion and its
// match, table and metadata-only output. Every answer must be a success or a
// client error as a Status.
func FuzzListQuery(f *testing.F) {
	seeds := []struct {
		path   uint8
		query  string
		accept string
	}{
		{0, "labelSelector=app%3Dfuzz", ""},
		{0, "labelSelector=app+in+(a,b),!x,y+notin+(z)", ""},
		{0, "labelSelector=app%3D%3D", ""},
		{0, "labelSelector=a+in+(", ""},
		{0, "labelSelector=" + strings.Repeat("a", 70) + "%3Db", ""},
		{0, "labelSelector=a%3Db%3Dc", ""},
		{0, "fieldSelector=metadata.name%3D" + fuzzConfigMap, ""},
		{0, "fieldSelector=metadata.name!%3Dx,metadata.namespace%3D" + fuzzNamespace, ""},
		{0, "fieldSelector=spec.nodeName%3Dn", ""},
		{1, "fieldSelector=spec.nodeName%3Dn,status.phase%3DRunning", ""},
		{1, "fieldSelector=status.phase+in+(a)", ""},
		{1, "fieldSelector=%5C", ""},
		{3, "fieldSelector=spec.unschedulable%3Dfalse", ""},
		{4, "fieldSelector=involvedObject.kind%3DPod,reason%3DFailed", ""},
		{0, "limit=1", ""},
		{0, "limit=-1", ""},
		{0, "limit=abc", ""},
		{0, "limit=1&continue=eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MSwic3RhcnQiOiJhIn0", ""},
		{0, "continue=bm90IGpzb24", ""},
		{0, "continue=%%%", ""},
		{0, "continue=eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6OTk5OTk5OTk5LCJzdGFydCI6ImZ1enovIn0", ""},
		{0, "resourceVersion=0", ""},
		{0, "resourceVersion=1&resourceVersionMatch=Exact", ""},
		{0, "resourceVersion=abc", ""},
		{0, "resourceVersion=-5", ""},
		{0, "resourceVersionMatch=NotOlderThan", ""},
		{0, "resourceVersionMatch=Sometimes&resourceVersion=1", ""},
		{0, "resourceVersion=0&resourceVersionMatch=Exact", ""},
		{0, "timeoutSeconds=abc", ""},
		{0, "sendInitialEvents=true&resourceVersionMatch=NotOlderThan", ""},
		{0, "", "application/json;as=Table;v=v1;g=meta.k8s.io"},
		{0, "includeObject=Object", "application/json;as=Table;v=v1;g=meta.k8s.io"},
		{0, "", "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io"},
		{0, "", "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io, application/json"},
		{0, "", "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io"},
		{0, "", "text/html"},
		{0, "", "application/yaml;q=0.5, application/json;q=abc"},
		{0, "", ";;;,,,*/*;q=0"},
		{6, "pretty=true", "application/yaml"},
		{7, "", "application/vnd.kubernetes.protobuf"},
		{7, "resourceVersion=999999999", ""},
	}
	for _, s := range seeds {
		f.Add(s.path, s.query, s.accept)
	}
	f.Fuzz(func(t *testing.T, pathIndex uint8, rawQuery, accept string) {
		setupFuzzFixtures(t)
		path := listFuzzPaths[int(pathIndex)%len(listFuzzPaths)]
		query, err := url.ParseQuery(rawQuery)
		if err != nil {
			return // net/http hands handlers a query that parses; what does not is dropped
		}
		// A watch streams until it times out; FuzzRequestInfo covers how one is asked for.
		query.Del("watch")
		// A resourceVersion ahead of the server waits seconds for it, then is a 504
		// as upstream's; keep numeric ones within what exists.
		known, _ := strconv.ParseUint(fuzzFixtures.rv[fuzzFixturePaths[0]], 10, 63)
		for i, v := range query["resourceVersion"] {
			if n, err := strconv.ParseUint(v, 10, 63); err == nil && n > known {
				query["resourceVersion"][i] = strconv.FormatUint(n%(known+1), 10)
			}
		}
		target := path + "?" + query.Encode()
		rec := serveLocal(http.MethodGet, target, "", "Accept", accept)
		if rec.Code == http.StatusGatewayTimeout && strings.Contains(rec.Body.String(), "Too large resource version") {
			return // a continue token from the future: upstream's 504 as well
		}
		checkAPIResponse(t, "GET "+target+" Accept "+accept, rec,
			http.StatusOK, http.StatusBadRequest, http.StatusNotFound, http.StatusNotAcceptable, http.StatusGone, http.StatusUnprocessableEntity)
	})
}
