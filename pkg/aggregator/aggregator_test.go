package aggregator

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	apiproxy "k8s.io/apiserver/pkg/util/proxy"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	"k8s.io/utils/ptr"

	"github.com/minik8s/minik8s/pkg/auth"
	"github.com/minik8s/minik8s/pkg/cluster/pki"
)

func apiService(available bool) *apiregistrationv1.APIService {
	s := &apiregistrationv1.APIService{
		ObjectMeta: metav1.ObjectMeta{Name: "v1alpha1.wardle.example.com", ResourceVersion: "1"},
		Spec: apiregistrationv1.APIServiceSpec{Group: "wardle.example.com", Version: "v1alpha1",
			Service:              &apiregistrationv1.ServiceReference{Namespace: "wardle", Name: "api", Port: ptr.To[int32](443)},
			GroupPriorityMinimum: 1000, VersionPriority: 15},
	}
	if available {
		s.Status.Conditions = []apiregistrationv1.APIServiceCondition{{Type: apiregistrationv1.Available, Status: apiregistrationv1.ConditionTrue}}
	}
	return s
}

func clusterIPService(portName string) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "wardle", Name: "api"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.96.0.50",
			Ports: []corev1.ServicePort{{Name: portName, Port: 443}}}}
}

func slice(addr string, port int32, ready bool) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "wardle", Name: "api-1", Labels: map[string]string{discoveryv1.LabelServiceName: "api"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{addr}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(ready)}}},
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("https"), Port: ptr.To(port)}},
	}
}

func TestServiceCondition(t *testing.T) {
	notFound := apierrors.NewNotFound(schema.GroupResource{Resource: "services"}, "api")
	cases := []struct {
		name       string
		svc        *corev1.Service
		svcErr     error
		slices     []*discoveryv1.EndpointSlice
		wantReason string
		wantMsg    string
	}{
		{name: "a missing Service is ServiceNotFound", svcErr: notFound, wantReason: "ServiceNotFound",
			wantMsg: `service/api in "wardle" is not present`},
		{name: "a Service without the APIService's port is ServicePortError", svc: func() *corev1.Service {
			s := clusterIPService("https")
			s.Spec.Ports[0].Port = 8443
			return s
		}(), wantReason: "ServicePortError", wantMsg: `service/api in "wardle" is not listening on port 443`},
		{name: "a Service without slices is EndpointsNotFound", svc: clusterIPService("https"), wantReason: "EndpointsNotFound",
			wantMsg: `cannot find endpointslices for service/api in "wardle"`},
		{name: "a Service whose only endpoint is not ready is MissingEndpoints", svc: clusterIPService("https"),
			slices: []*discoveryv1.EndpointSlice{slice("10.1.0.5", 8443, false)}, wantReason: "MissingEndpoints",
			wantMsg: `endpointslices for service/api in "wardle" have no addresses with port name "https"`},
		{name: "endpoints on another port name are MissingEndpoints", svc: clusterIPService("web"),
			slices: []*discoveryv1.EndpointSlice{slice("10.1.0.5", 8443, true)}, wantReason: "MissingEndpoints",
			wantMsg: `endpointslices for service/api in "wardle" have no addresses with port name "web"`},
		{name: "a Service with a ready endpoint goes on to the discovery check", svc: clusterIPService("https"),
			slices: []*discoveryv1.EndpointSlice{slice("10.1.0.5", 8443, true)}},
		{name: "an ExternalName Service goes on to the discovery check", svc: &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "wardle", Name: "api"},
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "example.com"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := serviceCondition(apiService(false), c.svc, c.svcErr, c.slices, nil)
			if c.wantReason == "" {
				if got != nil {
					t.Fatalf("got %+v, want no failure", got)
				}
				return
			}
			if got == nil || got.Reason != c.wantReason || got.Message != c.wantMsg || got.Status != apiregistrationv1.ConditionFalse {
				t.Fatalf("got %+v, want False %s %q", got, c.wantReason, c.wantMsg)
			}
		})
	}
}

// extension is an httptest TLS extension API server with a serving
// certificate for api.wardle.svc that requires the front proxy's client
// certificate and echoes what it received.
type extension struct {
	srv        *httptest.Server
	caPEM      []byte
	proxyCert  tls.Certificate
	port       int32
	lastHeader http.Header
}

func newExtension(t *testing.T) *extension {
	t.Helper()
	dir := t.TempDir()
	ca, err := pki.LoadOrCreateCA(dir, "ca", "wardle-ca")
	if err != nil {
		t.Fatal(err)
	}
	serving, err := pki.Issue(ca, pki.Leaf{CommonName: "api", DNSNames: []string{"api.wardle.svc"}, Server: true})
	if err != nil {
		t.Fatal(err)
	}
	fpCA, err := pki.LoadOrCreateCA(dir, "front-proxy-ca", "front-proxy-ca")
	if err != nil {
		t.Fatal(err)
	}
	client, err := pki.Issue(fpCA, pki.Leaf{CommonName: "front-proxy-client", Client: true})
	if err != nil {
		t.Fatal(err)
	}
	e := &extension{caPEM: ca.CertPEM}
	if e.proxyCert, err = tls.X509KeyPair(client.CertPEM, client.KeyPEM); err != nil {
		t.Fatal(err)
	}
	servingPair, err := tls.X509KeyPair(serving.CertPEM, serving.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	clientCAs := x509.NewCertPool()
	clientCAs.AppendCertsFromPEM(fpCA.CertPEM)
	e.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) == 0 || r.TLS.PeerCertificates[0].Subject.CommonName != "front-proxy-client" {
			http.Error(w, "no front proxy certificate", http.StatusUnauthorized)
			return
		}
		e.lastHeader = r.Header.Clone()
		if r.URL.Path == "/apis/wardle.example.com/v1alpha1" {
			_ = json.NewEncoder(w).Encode(&metav1.APIResourceList{GroupVersion: "wardle.example.com/v1alpha1",
				APIResources: []metav1.APIResource{{Name: "flunders", Namespaced: true, Kind: "Flunder", Verbs: []string{"get", "list"}}}})
			return
		}
		_, _ = io.WriteString(w, r.Method+" "+r.URL.RequestURI()+" as "+r.Header.Get("X-Remote-User"))
	}))
	e.srv.TLS = &tls.Config{Certificates: []tls.Certificate{servingPair}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientCAs}
	e.srv.StartTLS()
	t.Cleanup(e.srv.Close)
	_, port, _ := net.SplitHostPort(e.srv.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	e.port = int32(p)
	return e
}

// testAggregator is an Aggregator over fixed listers, without clients.
func testAggregator(t *testing.T, e *extension, svc *corev1.Service, slices ...*discoveryv1.EndpointSlice) *Aggregator {
	t.Helper()
	svcIdx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	if svc != nil {
		_ = svcIdx.Add(svc)
	}
	sliceIdx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	for _, s := range slices {
		_ = sliceIdx.Add(s)
	}
	getter, err := apiproxy.NewEndpointSliceListerGetter(discoverylisters.NewEndpointSliceLister(sliceIdx))
	if err != nil {
		t.Fatal(err)
	}
	return &Aggregator{cfg: Config{ProxyClientCert: e.proxyCert}, log: slog.New(slog.DiscardHandler),
		services: corelisters.NewServiceLister(svcIdx), slices: getter,
		transports: map[string]cachedTransport{}, discovery: map[string]GroupVersion{}}
}

func serve(a *Aggregator, s *apiregistrationv1.APIService, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	(&proxy{a: a, apiService: s}).ServeHTTP(rec, r)
	return rec
}

func TestProxyPassesTheCallerToAReadyEndpoint(t *testing.T) {
	e := newExtension(t)
	a := testAggregator(t, e, clusterIPService("https"), slice("127.0.0.1", e.port, true))
	s := apiService(true)
	s.Spec.CABundle = e.caPEM
	r := httptest.NewRequest(http.MethodGet, "/apis/wardle.example.com/v1alpha1/namespaces/default/flunders?limit=5", nil)
	r.Header.Set("Authorization", "Bearer secret")
	r.Header.Set("X-Remote-User", "forged")
	r = r.WithContext(auth.WithUser(context.Background(), &auth.User{Name: "alice", UID: "u-1",
		Groups: []string{"devs", "system:authenticated"}, Extra: map[string][]string{"scopes.example.com/a b": {"x"}}}))
	rec := serve(a, s, r)
	if rec.Code != http.StatusOK || rec.Body.String() != "GET /apis/wardle.example.com/v1alpha1/namespaces/default/flunders?limit=5 as alice" {
		t.Fatalf("got %d %q", rec.Code, rec.Body.String())
	}
	h := e.lastHeader
	if h.Get("Authorization") != "" {
		t.Errorf("the caller's credentials were passed on: %q", h.Get("Authorization"))
	}
	if got := h.Values("X-Remote-Group"); strings.Join(got, ",") != "devs,system:authenticated" {
		t.Errorf("X-Remote-Group = %v", got)
	}
	if h.Get("X-Remote-Uid") != "u-1" || h.Get("X-Remote-Extra-Scopes.example.com%2fa%20b") != "x" {
		t.Errorf("uid/extra headers = %v", h)
	}
}

func TestProxyRefusesAServerTheCABundleDoesNotTrust(t *testing.T) {
	e := newExtension(t)
	a := testAggregator(t, e, clusterIPService("https"), slice("127.0.0.1", e.port, true))
	r := httptest.NewRequest(http.MethodGet, "/apis/wardle.example.com/v1alpha1/flunders", nil)
	r = r.WithContext(auth.WithUser(context.Background(), &auth.User{Name: "alice"}))
	if rec := serve(a, apiService(true), r); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("without a caBundle: got %d %q, want 503", rec.Code, rec.Body.String())
	}
	insecure := apiService(true)
	insecure.ResourceVersion = "2"
	insecure.Spec.InsecureSkipTLSVerify = true
	if rec := serve(a, insecure, r); rec.Code != http.StatusOK {
		t.Fatalf("with insecureSkipTLSVerify: got %d %q, want 200", rec.Code, rec.Body.String())
	}
}

func TestProxyAnswersServiceUnavailable(t *testing.T) {
	e := newExtension(t)
	r := httptest.NewRequest(http.MethodGet, "/apis/wardle.example.com/v1alpha1/flunders", nil)
	r = r.WithContext(auth.WithUser(context.Background(), &auth.User{Name: "alice"}))
	a := testAggregator(t, e, clusterIPService("https"), slice("127.0.0.1", e.port, true))
	if rec := serve(a, apiService(false), r); rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "service unavailable") {
		t.Errorf("an unavailable APIService: got %d %q", rec.Code, rec.Body.String())
	}
	none := testAggregator(t, e, clusterIPService("https"))
	if rec := serve(none, apiService(true), r); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("no endpoints: got %d %q", rec.Code, rec.Body.String())
	}
}

func TestDiscoveryCheckKeepsTheExtensionsResources(t *testing.T) {
	e := newExtension(t)
	a := testAggregator(t, e, clusterIPService("https"), slice("127.0.0.1", e.port, true))
	s := apiService(false)
	s.Spec.CABundle = e.caPEM
	doc, err := a.checkDiscovery(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if e.lastHeader.Get("X-Remote-User") != "system:kube-aggregator" || e.lastHeader.Get("X-Remote-Group") != "system:masters" {
		t.Errorf("discovery check identity = %v", e.lastHeader)
	}
	changed := 0
	a.OnChange(func() { changed++ })
	a.remember(s, doc)
	a.remember(s, doc)
	got := a.Discovery()
	if changed != 1 || len(got) != 1 || got[0].Resources[0].Name != "flunders" {
		t.Fatalf("changed %d times, discovery %+v", changed, got)
	}
	a.forget(s.Name)
	if changed != 2 || len(a.Discovery()) != 0 {
		t.Fatalf("after forget: changed %d times, discovery %+v", changed, a.Discovery())
	}
}

func TestDiscoveryCheckFailsOnAServerTheCABundleDoesNotTrust(t *testing.T) {
	e := newExtension(t)
	a := testAggregator(t, e, clusterIPService("https"), slice("127.0.0.1", e.port, true))
	_, err := a.checkDiscovery(context.Background(), apiService(false))
	if err == nil || !strings.HasPrefix(err.Error(), "failing or missing response from https://127.0.0.1:") ||
		!strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Fatalf("got %v", err)
	}
}

func TestAuthenticationConfigMap(t *testing.T) {
	cm := AuthenticationConfigMap([]byte("client-ca"), []byte("fp-ca"), []string{"front-proxy-client"})
	want := map[string]string{
		"client-ca-file": "client-ca", "requestheader-client-ca-file": "fp-ca",
		"requestheader-username-headers": `["X-Remote-User"]`, "requestheader-uid-headers": `["X-Remote-Uid"]`,
		"requestheader-group-headers": `["X-Remote-Group"]`, "requestheader-extra-headers-prefix": `["X-Remote-Extra-"]`,
		"requestheader-allowed-names": `["front-proxy-client"]`,
	}
	if cm.Namespace != "kube-system" || cm.Name != "extension-apiserver-authentication" {
		t.Errorf("name %s/%s", cm.Namespace, cm.Name)
	}
	for k, v := range want {
		if cm.Data[k] != v {
			t.Errorf("%s = %q, want %q", k, cm.Data[k], v)
		}
	}
}

func TestProxyStreamsAWatchAsItIsWritten(t *testing.T) {
	e := newExtension(t)
	release := make(chan struct{})
	e.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"type":"ADDED"}`+"\n")
		w.(http.Flusher).Flush()
		<-release
	})
	defer close(release)
	a := testAggregator(t, e, clusterIPService("https"), slice("127.0.0.1", e.port, true))
	s := apiService(true)
	s.Spec.CABundle = e.caPEM
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(auth.WithUser(r.Context(), &auth.User{Name: "alice"}))
		(&proxy{a: a, apiService: s}).ServeHTTP(w, r)
	}))
	defer front.Close()
	resp, err := http.Get(front.URL + "/apis/wardle.example.com/v1alpha1/flunders?watch=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line := make([]byte, 17)
	if _, err := io.ReadFull(resp.Body, line); err != nil || string(line) != `{"type":"ADDED"}`+"\n" {
		t.Fatalf("read %q, %v: the first event should arrive before the watch ends", line, err)
	}
}

func TestProxyUpgradesAConnection(t *testing.T) {
	e := newExtension(t)
	e.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "echo" || r.Header.Get("X-Remote-User") != "alice" {
			http.Error(w, "want an echo upgrade from alice", http.StatusBadRequest)
			return
		}
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = buf.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		_ = buf.Flush()
		line, _ := buf.ReadString('\n')
		_, _ = conn.Write([]byte("echo: " + line))
	})
	a := testAggregator(t, e, clusterIPService("https"), slice("127.0.0.1", e.port, true))
	s := apiService(true)
	s.Spec.CABundle = e.caPEM
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(auth.WithUser(r.Context(), &auth.User{Name: "alice"}))
		(&proxy{a: a, apiService: s}).ServeHTTP(w, r)
	}))
	defer front.Close()
	conn, err := net.Dial("tcp", front.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "GET /apis/wardle.example.com/v1alpha1/namespaces/default/flunders/f/exec HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("got %v, %v: want 101 Switching Protocols", resp, err)
	}
	_, _ = io.WriteString(conn, "hello\n")
	if line, err := br.ReadString('\n'); err != nil || line != "echo: hello\n" {
		t.Fatalf("through the upgraded connection: %q, %v", line, err)
	}
}
