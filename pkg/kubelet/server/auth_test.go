package server

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// fakeAPIServer answers TokenReviews from a table of tokens and
// SubjectAccessReviews from a table of user → allowed nodes subresources, and
// keeps what it was asked.
type fakeAPIServer struct {
	*fake.Clientset
	tokens  map[string]string
	allowed map[string][]string
	failSAR bool
	tokenQs []authenticationv1.TokenReviewSpec
	sarQs   []authorizationv1.SubjectAccessReviewSpec
}

func newFakeAPIServer() *fakeAPIServer {
	f := &fakeAPIServer{Clientset: fake.NewClientset(),
		tokens: map[string]string{
			"reader-token":   "system:serviceaccount:monitoring:reader",
			"stranger-token": "system:serviceaccount:default:stranger",
			"proxy-token":    "system:serviceaccount:default:proxier",
		},
		allowed: map[string][]string{
			"system:serviceaccount:monitoring:reader": {"get/metrics", "get/stats"},
			"system:serviceaccount:default:proxier":   {"get/proxy", "create/proxy"},
			"metrics-scraper":                         {"get/metrics"},
		}}
	f.PrependReactor("create", "tokenreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authenticationv1.TokenReview).DeepCopy()
		f.tokenQs = append(f.tokenQs, r.Spec)
		if name, ok := f.tokens[r.Spec.Token]; ok {
			r.Status = authenticationv1.TokenReviewStatus{Authenticated: true,
				User: authenticationv1.UserInfo{Username: name, Groups: []string{"system:serviceaccounts"}}}
		}
		return true, r, nil
	})
	f.PrependReactor("create", "subjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SubjectAccessReview).DeepCopy()
		f.sarQs = append(f.sarQs, r.Spec)
		if f.failSAR {
			return true, nil, errors.New("connection refused")
		}
		ra := r.Spec.ResourceAttributes
		for _, ok := range f.allowed[r.Spec.User] {
			if ra != nil && ra.Resource == "nodes" && ra.Name == "n1" && ok == ra.Verb+"/"+ra.Subresource {
				r.Status.Allowed = true
			}
		}
		return true, r, nil
	})
	return f
}

func testServer(t *testing.T, api *fakeAPIServer) *Server {
	t.Helper()
	s, err := New(Config{NodeName: "n1", Address: ":0", TLSDir: t.TempDir(), ClientCA: []byte("unused"),
		Client: api, Runtime: fixtureRuntime(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func withCert(r *http.Request, cn string, orgs ...string) *http.Request {
	cert := &x509.Certificate{Subject: pkix.Name{CommonName: cn, Organization: orgs}}
	r.TLS = &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{cert}}}
	return r
}

func withToken(r *http.Request, token string) *http.Request {
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

func TestKubeletAPIAuth(t *testing.T) {
	get := func(path string) *http.Request { return httptest.NewRequest(http.MethodGet, path, nil) }
	tests := []struct {
		name     string
		req      *http.Request
		failSAR  bool
		code     int
		body     string
		tokenQs  int
		wantSubs []string
	}{
		{name: "a request without credentials is unauthorized", req: get("/metrics/resource"),
			code: 401, body: "Unauthorized"},
		{name: "health needs credentials too, as upstream's kubelet without anonymous access", req: get("/healthz"),
			code: 401, body: "Unauthorized"},
		{name: "the API server's kubelet-client certificate passes without a review",
			req: withCert(get("/stats/summary"), "kube-apiserver-kubelet-client"), code: 200},
		{name: "a system:masters certificate passes without a review",
			req: withCert(get("/healthz"), "admin", "system:masters"), code: 200, body: "ok"},
		{name: "another certificate's user is let in when a review allows it",
			req: withCert(get("/metrics/resource"), "metrics-scraper", "scrapers"), code: 200, wantSubs: []string{"metrics"}},
		{name: "another certificate's user is refused with upstream's text",
			req:  withCert(get("/stats/summary"), "system:node:other", "system:nodes"),
			code: 403, body: "Forbidden (user=system:node:other, verb=get, resource=nodes, subresource(s)=[stats])\n",
			wantSubs: []string{"stats"}},
		{name: "a valid token whose user may get nodes/metrics reads /metrics/resource",
			req: withToken(get("/metrics/resource"), "reader-token"), code: 200, tokenQs: 1, wantSubs: []string{"metrics"}},
		{name: "a valid token whose user may not is forbidden",
			req:  withToken(get("/metrics/resource"), "stranger-token"),
			code: 403, body: "Forbidden (user=system:serviceaccount:default:stranger, verb=get, resource=nodes, subresource(s)=[metrics])\n",
			tokenQs: 1, wantSubs: []string{"metrics"}},
		{name: "an unknown token is unauthorized", req: withToken(get("/metrics/resource"), "forged"),
			code: 401, body: "Unauthorized", tokenQs: 1},
		{name: "another scheme than Bearer is no credentials", req: func() *http.Request {
			r := get("/metrics/resource")
			r.Header.Set("Authorization", "Basic YWRtaW46YWRtaW4=")
			return r
		}(), code: 401, body: "Unauthorized"},
		{name: "the pods need nodes/pods or, failing that, nodes/proxy",
			req: withToken(get("/pods"), "proxy-token"), code: 200, tokenQs: 1, wantSubs: []string{"pods", "proxy"}},
		{name: "a refusal of the pods names both subresources",
			req:  withToken(get("/pods"), "reader-token"),
			code: 403, body: "Forbidden (user=system:serviceaccount:monitoring:reader, verb=get, resource=nodes, subresource(s)=[pods proxy])\n",
			tokenQs: 1, wantSubs: []string{"pods", "proxy"}},
		{name: "a review that cannot be made is upstream's authorization error",
			req: withToken(get("/metrics/resource"), "reader-token"), failSAR: true,
			code: 500, body: "Authorization error (user=system:serviceaccount:monitoring:reader, verb=get, resource=nodes, subresource=metrics)",
			tokenQs: 1, wantSubs: []string{"metrics"}},
		{name: "exec is a create on nodes/proxy",
			req:  withToken(httptest.NewRequest(http.MethodPost, "/exec/default/web/c", nil), "reader-token"),
			code: 403, body: "Forbidden (user=system:serviceaccount:monitoring:reader, verb=create, resource=nodes, subresource(s)=[proxy])\n",
			tokenQs: 1, wantSubs: []string{"proxy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newFakeAPIServer()
			api.failSAR = tt.failSAR
			s := testServer(t, api)
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, tt.req)
			if rec.Code != tt.code {
				t.Fatalf("status %d, want %d: %q", rec.Code, tt.code, rec.Body.String())
			}
			if tt.body != "" && rec.Body.String() != tt.body {
				t.Fatalf("body %q, want %q", rec.Body.String(), tt.body)
			}
			if len(api.tokenQs) != tt.tokenQs {
				t.Fatalf("%d token reviews, want %d", len(api.tokenQs), tt.tokenQs)
			}
			var subs []string
			for _, q := range api.sarQs {
				subs = append(subs, q.ResourceAttributes.Subresource)
			}
			if !reflect.DeepEqual(subs, tt.wantSubs) {
				t.Fatalf("reviewed subresources %v, want %v", subs, tt.wantSubs)
			}
		})
	}
}

func TestKubeletAPIAuthReviewsWhoTheCallerIs(t *testing.T) {
	api := newFakeAPIServer()
	s := testServer(t, api)
	r := withToken(httptest.NewRequest(http.MethodGet, "/metrics/resource", nil), "reader-token")
	s.ServeHTTP(httptest.NewRecorder(), r)
	want := authorizationv1.SubjectAccessReviewSpec{
		User: "system:serviceaccount:monitoring:reader", Groups: []string{"system:serviceaccounts", "system:authenticated"},
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "get", Version: "v1", Resource: "nodes", Subresource: "metrics", Name: "n1"},
	}
	if len(api.sarQs) != 1 || !reflect.DeepEqual(api.sarQs[0], want) {
		t.Fatalf("review %+v\nwant %+v", api.sarQs, want)
	}
	if api.tokenQs[0].Audiences != nil {
		t.Errorf("the token review names audiences %v; the API server's own are expected", api.tokenQs[0].Audiences)
	}
	if r.Header.Get("Authorization") != "" {
		t.Error("the caller's token was kept on the request after authentication")
	}
}

func TestKubeletAPIAuthCachesReviews(t *testing.T) {
	api := newFakeAPIServer()
	s := testServer(t, api)
	for range 3 {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, withToken(httptest.NewRequest(http.MethodGet, "/metrics/resource", nil), "reader-token"))
		body, _ := io.ReadAll(rec.Body)
		if rec.Code != 200 {
			t.Fatalf("%d %s", rec.Code, body)
		}
		rec = httptest.NewRecorder()
		s.ServeHTTP(rec, withToken(httptest.NewRequest(http.MethodGet, "/metrics/resource", nil), "stranger-token"))
		if rec.Code != 403 {
			t.Fatalf("stranger: %d", rec.Code)
		}
	}
	if len(api.tokenQs) != 2 || len(api.sarQs) != 2 {
		t.Fatalf("three scrapes of two callers made %d token and %d access reviews, want 2 and 2", len(api.tokenQs), len(api.sarQs))
	}
}

func TestSubresourcesOf(t *testing.T) {
	tests := []struct {
		path string
		want []string
	}{
		{"/stats/summary", []string{"stats"}},
		{"/stats", []string{"stats"}},
		{"/metrics", []string{"metrics"}},
		{"/metrics/resource", []string{"metrics"}},
		{"/metrics/cadvisor", []string{"metrics"}},
		{"/metricsfoo", []string{"proxy"}},
		{"/logs/syslog", []string{"log"}},
		{"/pods", []string{"pods", "proxy"}},
		{"/pods/", []string{"pods", "proxy"}},
		{"/runningpods/", []string{"pods", "proxy"}},
		{"/healthz", []string{"healthz", "proxy"}},
		{"/healthz/ping", []string{"healthz", "proxy"}},
		{"/configz", []string{"configz", "proxy"}},
		{"/flagz", []string{"configz"}},
		{"/statusz", []string{"statusz"}},
		{"/checkpoint/ns/pod/c", []string{"checkpoint"}},
		{"/containerLogs/ns/pod/c", []string{"proxy"}},
		{"/exec/ns/pod/c", []string{"proxy"}},
		{"/portForward/ns/pod", []string{"proxy"}},
		{"/", []string{"proxy"}},
	}
	for _, tt := range tests {
		if got := subresourcesOf(tt.path); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.path, got, tt.want)
		}
	}
}

func TestVerbOf(t *testing.T) {
	for method, want := range map[string]string{"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch",
		"DELETE": "delete", "HEAD": "", "OPTIONS": ""} {
		if got := verbOf(method); got != want {
			t.Errorf("%s: %q, want %q", method, got, want)
		}
	}
}
