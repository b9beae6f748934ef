package apiserver

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The fuzz targets send their requests to testServer in-process: no socket,
// so a worker runs thousands of inputs a second.

// fuzzNamespace holds the objects the fuzz targets patch, update and delete
// (always as dry runs, so they never change).
const fuzzNamespace = "fuzz"

// Fixtures of fuzzNamespace.
const (
	fuzzConfigMap  = "fuzz-cm"
	fuzzDeployment = "fuzz-deploy"
	fuzzPod        = "fuzz-pod"
)

var fuzzFixtures struct {
	once sync.Once
	err  string
	// resourceVersions of the fixtures after setup, which no dry run may change.
	rv map[string]string
}

// fuzzFixturePaths are the fixtures' URLs.
var fuzzFixturePaths = []string{
	"/api/v1/namespaces/" + fuzzNamespace + "/configmaps/" + fuzzConfigMap,
	"/apis/apps/v1/namespaces/" + fuzzNamespace + "/deployments/" + fuzzDeployment,
	"/api/v1/namespaces/" + fuzzNamespace + "/pods/" + fuzzPod,
}

// setupFuzzFixtures creates fuzzNamespace and its objects once per process (a
// fuzz worker is a process of its own).
func setupFuzzFixtures(t testing.TB) {
	t.Helper()
	fuzzFixtures.once.Do(func() {
		creates := []struct{ path, body string }{
			{"/api/v1/namespaces", `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"` + fuzzNamespace + `"}}`},
			{"/api/v1/namespaces/" + fuzzNamespace + "/serviceaccounts", `{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"default"}}`},
			{"/api/v1/namespaces/" + fuzzNamespace + "/configmaps", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"` + fuzzConfigMap + `","labels":{"app":"fuzz"}},"data":{"a":"1","b":"2"}}`},
			{"/apis/apps/v1/namespaces/" + fuzzNamespace + "/deployments", `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"` + fuzzDeployment + `"},
				"spec":{"replicas":2,"selector":{"matchLabels":{"app":"fuzz"}},"template":{"metadata":{"labels":{"app":"fuzz"}},
				"spec":{"containers":[{"name":"c","image":"busybox","ports":[{"containerPort":80}],"env":[{"name":"A","value":"1"}]}]}}}}`},
			{"/api/v1/namespaces/" + fuzzNamespace + "/pods", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"` + fuzzPod + `","labels":{"app":"fuzz"}},
				"spec":{"containers":[{"name":"c","image":"busybox"}]}}`},
		}
		for _, c := range creates {
			rec := serveLocal(http.MethodPost, c.path, c.body, "Content-Type", mediaJSON)
			if rec.Code != http.StatusCreated && rec.Code != http.StatusConflict {
				fuzzFixtures.err = "create " + c.path + ": " + rec.Body.String()
				return
			}
		}
		fuzzFixtures.rv = map[string]string{}
		for _, p := range fuzzFixturePaths {
			rv, err := resourceVersionAt(p)
			if err != "" {
				fuzzFixtures.err = err
				return
			}
			fuzzFixtures.rv[p] = rv
		}
	})
	if fuzzFixtures.err != "" {
		t.Fatal(fuzzFixtures.err)
	}
}

// checkFixturesUnchanged fails when a dry run wrote one of the fixtures.
func checkFixturesUnchanged(t *testing.T) {
	t.Helper()
	for _, p := range fuzzFixturePaths {
		rv, err := resourceVersionAt(p)
		if err != "" {
			t.Fatal(err)
		}
		if rv != fuzzFixtures.rv[p] {
			t.Fatalf("a dry run wrote %s: resourceVersion %s, was %s", p, rv, fuzzFixtures.rv[p])
		}
	}
}

func resourceVersionAt(path string) (string, string) {
	rec := serveLocal(http.MethodGet, path, "")
	if rec.Code != http.StatusOK {
		return "", "get " + path + ": " + rec.Body.String()
	}
	var m struct {
		Metadata metav1.ObjectMeta `json:"metadata"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		return "", "decode " + path + ": " + err.Error()
	}
	return m.Metadata.ResourceVersion, ""
}

// serveLocal sends one request to testServer without a network; hdr holds
// header names and values in turn.
func serveLocal(method, target, body string, hdr ...string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, "http://fuzz.invalid/", rd)
	// The target goes in raw: httptest.NewRequest refuses what a client may
	// still send (spaces, control characters), and the server must not care.
	path, query, _ := strings.Cut(target, "?")
	req.URL.Path, req.URL.RawQuery, req.RequestURI = path, query, target
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	testServer.ServeHTTP(rec, req)
	return rec
}

// checkAPIResponse asserts what every answer of the API must be: no server
// error, one of the codes the caller allows, and an error body that is a
// Status of the same code with a reason (or the plain text 404 upstream gives
// for paths it does not serve).
func checkAPIResponse(t *testing.T, what string, rec *httptest.ResponseRecorder, allowed ...int) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("%s: server error %d: %s", what, rec.Code, rec.Body.String())
	}
	ok := false
	for _, c := range allowed {
		ok = ok || c == rec.Code
	}
	if !ok {
		t.Fatalf("%s: code %d, want one of %v: %s", what, rec.Code, allowed, rec.Body.String())
	}
	if rec.Code < 400 {
		return
	}
	ct, _, _ := mime.ParseMediaType(rec.Header().Get("Content-Type"))
	if ct == "text/plain" && rec.Code == http.StatusNotFound {
		return
	}
	if ct != mediaJSON {
		t.Fatalf("%s: error %d in %q, want a JSON Status: %s", what, rec.Code, ct, rec.Body.String())
	}
	var st metav1.Status
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		t.Fatalf("%s: error body is not a Status: %v: %s", what, err, rec.Body.String())
	}
	if st.Kind != "Status" || st.APIVersion != "v1" || st.Status != metav1.StatusFailure || int(st.Code) != rec.Code || st.Reason == "" || st.Message == "" {
		t.Fatalf("%s: malformed Status for %d: %s", what, rec.Code, rec.Body.String())
	}
}
