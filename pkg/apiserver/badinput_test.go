package apiserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minik8s/minik8s/pkg/cluster/pki"
)

// Paths under a served group version that no route takes get upstream's
// generic 404 Status; versions nobody serves its plain-text 404.
func TestUnservedPathsAnswerAsUpstream(t *testing.T) {
	for _, path := range []string{
		"/api/v1/namespaces/default/zzthings",
		"/api/v1/namespaces/default/configmaps/x/zzsub",
		"/api/v1/configmaps/x",
		"/api/v1/namespaces/default/nodes/x",
	} {
		st := call(t, "GET", path, nil).status(t, http.StatusNotFound, metav1.StatusReasonNotFound)
		if want := "the server could not find the requested resource"; st.Message != want {
			t.Errorf("GET %s: message %q, want %q", path, st.Message, want)
		}
	}
	for _, path := range []string{"/api/v2/pods", "/apis/apps/v9/deployments", "/apis/zz.example.com/v1/things"} {
		r := call(t, "GET", path, nil).must(t, http.StatusNotFound)
		if string(r.body) != "404 page not found\n" {
			t.Errorf("GET %s: %q, want the plain-text 404", path, r.body)
		}
	}
}

// A method a path does not take is upstream's router's 405, whatever the
// resource: a create of one object, an update or patch of a collection, a verb
// a subresource lacks.
func TestWrongMethodsAre405(t *testing.T) {
	name := uniqueName("method")
	createCM(t, name, nil)
	for _, c := range []struct{ method, path, ct string }{
		{"POST", cmPath + "/" + name, "application/json"},
		{"PUT", cmPath, "application/json"},
		{"PATCH", cmPath, mergePatch},
		{"DELETE", "/api/v1/namespaces", ""},
		{"GET", podPath + "/p/eviction", ""},
		{"PUT", podPath + "/p/binding", "application/json"},
		{"FOO", cmPath, ""},
	} {
		var body interface{}
		if c.ct != "" {
			body = "{}"
		}
		st := call(t, c.method, c.path, body, "Content-Type", c.ct).status(t, http.StatusMethodNotAllowed, metav1.StatusReasonMethodNotAllowed)
		if want := "the server does not allow this method on the requested resource"; st.Message != want {
			t.Errorf("%s %s: message %q, want %q", c.method, c.path, st.Message, want)
		}
	}
}

// A name that cannot be a path segment is refused before storage looks it up.
func TestNamesThatCannotBePathSegmentsAre400(t *testing.T) {
	for _, method := range []string{"GET", "DELETE"} {
		st := call(t, method, cmPath+"/a%25b", nil).status(t, http.StatusBadRequest, metav1.StatusReasonBadRequest)
		if want := `Name parameter invalid: "a%b": may not contain '%'`; st.Message != want {
			t.Errorf("%s: message %q, want %q", method, st.Message, want)
		}
	}
}

// Write options are decoded and validated as upstream's: values it does not
// know are a 422 of the options' kind, case matters.
func TestWriteOptionsAreValidatedAsUpstream(t *testing.T) {
	name := uniqueName("opts")
	createCM(t, name, nil)
	body := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"` + name + `"}}`
	cases := []struct {
		method, path, ct, want string
	}{
		{"POST", cmPath + "?dryRun=Bogus", "application/json",
			`CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: ["Bogus"]: supported values: "All"`},
		{"POST", cmPath + "?fieldValidation=strict", "application/json",
			`CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "strict": supported values: "", "Ignore", "Strict", "Warn"`},
		{"POST", cmPath + "?fieldManager=" + strings.Repeat("m", 129), "application/json",
			`CreateOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes`},
		{"PUT", cmPath + "/" + name + "?fieldValidation=Sometimes", "application/json",
			`UpdateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "Sometimes": supported values: "", "Ignore", "Strict", "Warn"`},
		{"PATCH", cmPath + "/" + name + "?force=false", mergePatch,
			`PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch`},
		{"PATCH", cmPath + "/" + name + "?fieldManager=%07", "application/apply-patch+yaml",
			`PatchOptions.meta.k8s.io "" is invalid: fieldManager: Invalid value: "\a": invalid character U+0007 (at position 0)`},
	}
	for _, c := range cases {
		b := body
		if c.method == "PATCH" {
			b = `{}`
		}
		st := call(t, c.method, c.path, b, "Content-Type", c.ct).status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
		if st.Message != c.want {
			t.Errorf("%s %s:\nmessage %q\nwant    %q", c.method, c.path, st.Message, c.want)
		}
	}
}

// A create checks the Content-Type before the size, an update the size first,
// as upstream's handlers.
func TestWriteChecksRunInUpstreamOrder(t *testing.T) {
	name := uniqueName("order")
	createCM(t, name, nil)
	big := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"` + name + `"},"data":{"a":"` + strings.Repeat("x", maxBody) + `"}}`
	call(t, "POST", cmPath, big, "Content-Type", "text/plain").status(t, http.StatusUnsupportedMediaType, metav1.StatusReasonUnsupportedMediaType)
	call(t, "PUT", cmPath+"/"+name, big, "Content-Type", "text/plain").status(t, http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge)
	call(t, "PUT", cmPath+"/"+name+"?dryRun=Bogus", `{}`, "Content-Type", "text/plain").status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	st := call(t, "POST", cmPath, "").status(t, http.StatusBadRequest, metav1.StatusReasonBadRequest)
	if !strings.HasPrefix(st.Message, "the object provided is unrecognized (must be of type ConfigMap): ") || !strings.HasSuffix(st.Message, "(<empty>)") {
		t.Errorf("empty body: message %q", st.Message)
	}
}

// Built-in resources refuse other patch types in the words of upstream's router.
func TestPatchOfTheWrongTypeIs415(t *testing.T) {
	name := uniqueName("pt")
	createCM(t, name, nil)
	dname := uniqueName("pt")
	call(t, "POST", deployPath, testDeployment(dname)).must(t, http.StatusCreated)
	for _, c := range []struct{ path, ct string }{
		{cmPath + "/" + name, "application/json"},
		{cmPath + "/" + name, ""},
		{cmPath + "/" + name, "application/yaml"},
		{deployPath + "/" + dname + "/scale", "text/plain"},
	} {
		st := call(t, "PATCH", c.path, `{}`, "Content-Type", c.ct).status(t, http.StatusUnsupportedMediaType, metav1.StatusReasonUnsupportedMediaType)
		if want := "415: Unsupported Media Type"; st.Message != want {
			t.Errorf("PATCH %s as %q: message %q, want %q", c.path, c.ct, st.Message, want)
		}
	}
}

// A subresource's body of another kind is a 400, never an empty object: a Pod
// sent as a Scale must not scale to zero, a Pod sent as DeleteOptions must not
// delete with default options.
func TestSubresourceBodiesOfAnotherKindAre400(t *testing.T) {
	dname := uniqueName("kind")
	call(t, "POST", deployPath, testDeployment(dname)).must(t, http.StatusCreated)
	pod := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"` + dname + `"}}`
	st := call(t, "PUT", deployPath+"/"+dname+"/scale", pod).status(t, http.StatusBadRequest, metav1.StatusReasonBadRequest)
	if want := `Pod in version "v1" cannot be handled as a Scale: converting (v1.Pod) to (autoscaling.Scale): unknown conversion`; st.Message != want {
		t.Errorf("message %q, want %q", st.Message, want)
	}
	d := &appsv1.Deployment{}
	call(t, "GET", deployPath+"/"+dname, nil).must(t, http.StatusOK).into(t, d)
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
		t.Errorf("replicas %v after a refused scale, want 1", d.Spec.Replicas)
	}

	name := uniqueName("kind")
	createCM(t, name, nil)
	st = call(t, "DELETE", cmPath+"/"+name, pod).status(t, http.StatusBadRequest, metav1.StatusReasonBadRequest)
	if want := "decoded object cannot be converted to DeleteOptions"; st.Message != want {
		t.Errorf("message %q, want %q", st.Message, want)
	}
	call(t, "GET", cmPath+"/"+name, nil).must(t, http.StatusOK)
}

// The Authorization header is read as upstream's bearer token authenticator
// reads it.
func TestBearerToken(t *testing.T) {
	cases := []struct {
		header, token string
		ok            bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer abc", "abc", true},
		{"BEARER abc", "abc", true},
		{"  Bearer abc  ", "abc", true},
		{"Bearer abc def", "abc", true},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Bearer  abc", "", false},
		{"Basic YWRtaW46YWRtaW4=", "", false},
		{"", "", false},
	}
	for _, c := range cases {
		token, ok := bearerToken(c.header)
		if token != c.token || ok != c.ok {
			t.Errorf("%q: %q %v, want %q %v", c.header, token, ok, c.token, c.ok)
		}
	}
}

// watch, allowWatchBookmarks and friends are booleans as upstream's parameter
// codec reads them: anything but 0 and false.
func TestWatchParameterIsReadAsUpstream(t *testing.T) {
	for query, want := range map[string]string{
		"watch=true": "watch", "watch=True": "watch", "watch=1": "watch", "watch=yes": "watch", "watch=": "watch",
		"watch=false": "list", "watch=FALSE": "list", "watch=0": "list", "": "list",
	} {
		r := &http.Request{Method: "GET", URL: &url.URL{Path: "/api/v1/pods", RawQuery: query}}
		if got := parseRequestInfo(r).Verb; got != want {
			t.Errorf("%q: verb %q, want %q", query, got, want)
		}
	}
}

// A client certificate the cluster CA did not sign, or that is not for
// clients, is a 401, as upstream's x509 authenticator answers; the handshake
// only asks for one.
func TestClientCertificates(t *testing.T) {
	dir := t.TempDir()
	ca, err := pki.LoadOrCreateCA(dir, "ca", "test-ca")
	if err != nil {
		t.Fatal(err)
	}
	rogueCA, err := pki.LoadOrCreateCA(dir, "rogue", "rogue-ca")
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	cfg := testConfig
	cfg.ClientCA = pool
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	leaf := func(ca *pki.KeyPair, l pki.Leaf) *x509.Certificate {
		kp, err := pki.Issue(ca, l)
		if err != nil {
			t.Fatal(err)
		}
		return kp.Cert
	}
	cases := []struct {
		name  string
		certs []*x509.Certificate
		user  string // empty: refused
	}{
		{"a client certificate of the cluster CA names its user", []*x509.Certificate{leaf(ca, pki.Leaf{CommonName: "alice", Organization: []string{"devs"}, Client: true})}, "alice"},
		{"a certificate of another CA is refused", []*x509.Certificate{leaf(rogueCA, pki.Leaf{CommonName: "system:admin", Organization: []string{"system:masters"}, Client: true})}, ""},
		{"a serving certificate of the cluster CA is refused", []*x509.Certificate{leaf(ca, pki.Leaf{CommonName: "server", DNSNames: []string{"x"}, Server: true})}, ""},
		{"no certificate is anonymous", nil, UserAnonymous},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := (&http.Request{Header: http.Header{}, TLS: &tls.ConnectionState{PeerCertificates: c.certs}}).
				WithContext(withConnCert(context.Background(), nil))
			u, err := s.authenticate(r)
			switch {
			case c.user == "" && err == nil:
				t.Fatalf("authenticated as %q", u.Name)
			case c.user != "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.user != "" && u.Name != c.user:
				t.Fatalf("user %q, want %q", u.Name, c.user)
			}
			// The connection's verdict is kept for its next requests.
			if _, err2 := s.authenticate(r); (err == nil) != (err2 == nil) {
				t.Fatalf("second request: %v, first %v", err2, err)
			}
		})
	}
}

// A JSON patch whose copies double the document is stopped at the copy limit
// with a 422, as upstream's; unbounded, forty of them need a terabyte.
func TestJSONPatchCopiesAreBounded(t *testing.T) {
	name := uniqueName("copies")
	createCM(t, name, nil)
	ops := []string{`{"op":"add","path":"/b","value":{"v":"` + strings.Repeat("x", 1000) + `"}}`}
	for i := 0; i < 40; i++ {
		ops = append(ops, `{"op":"copy","from":"/b","path":"/b/c`+strconv.Itoa(i)+`"}`)
	}
	patch := "[" + strings.Join(ops, ",") + "]"
	st := call(t, "PATCH", cmPath+"/"+name, patch, "Content-Type", "application/json-patch+json").
		status(t, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	if !strings.Contains(st.Message, "Unable to complete the copy") {
		t.Errorf("message %q", st.Message)
	}
}

// Made-up groups, resources, subresources and methods do not become metric
// label values: a client cannot grow the series without end.
func TestMetricsLabelOnlyWhatIsServed(t *testing.T) {
	call(t, "GET", "/apis/zz-made-up.example.com/v1/things", nil).must(t, http.StatusNotFound)
	call(t, "GET", "/api/v1/namespaces/default/zzmadeupthings", nil).must(t, http.StatusNotFound)
	call(t, "GET", cmPath+"/x/zzmadeupsub", nil).must(t, http.StatusNotFound)
	call(t, "BREW", cmPath, nil).must(t, http.StatusMethodNotAllowed)
	call(t, "BREW", "/zz-made-up-path", nil).must(t, http.StatusNotFound)
	out := string(call(t, "GET", "/metrics", nil).must(t, http.StatusOK).body)
	for _, s := range []string{"zz-made-up", "zzmadeup", "BREW", "brew"} {
		if strings.Contains(out, s) {
			t.Errorf("/metrics holds %q", s)
		}
	}
	if !strings.Contains(out, `verb="other"`) {
		t.Errorf("/metrics counts no request of an unknown method")
	}
}
