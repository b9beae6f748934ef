package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/minik8s/minik8s/pkg/cluster/pki"
	"github.com/minik8s/minik8s/test/e2e/framework"
)

// hostAddress is an address of this machine other than loopback: an
// EndpointSlice may not name loopback, and the API server dials endpoints
// itself (aggregator routing), so the extension listens there.
func hostAddress() net.IP {
	ifaces, _ := net.Interfaces()
	for _, iface := range ifaces {
		if iface.Flags&net.FlagUp == 0 || iface.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := iface.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && n.IP.IsGlobalUnicast() {
				return n.IP
			}
		}
	}
	return nil
}

// startWardle runs a small extension API server for wardle.example.com/v1alpha1
// that authenticates the API server as an extension server does: the front
// proxy's client certificate, checked against the requestheader CA and names
// the extension-apiserver-authentication ConfigMap publishes, then the user
// from the X-Remote-* headers.
func startWardle(t *testing.T, ip net.IP, serviceName string, requestHeaderCA []byte, allowed []string) (caPEM []byte, port int) {
	t.Helper()
	dir := t.TempDir()
	ca, err := pki.LoadOrCreateCA(dir, "ca", "wardle-ca")
	if err != nil {
		t.Fatal(err)
	}
	serving, err := pki.Issue(ca, pki.Leaf{CommonName: "wardle", DNSNames: []string{serviceName}, Server: true})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(serving.CertPEM, serving.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	clientCAs := x509.NewCertPool()
	if !clientCAs.AppendCertsFromPEM(requestHeaderCA) {
		t.Fatal("requestheader-client-ca-file holds no certificate")
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/apis/wardle.example.com/v1alpha1", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"wardle.example.com/v1alpha1","resources":[`+
			`{"name":"flunders","singularName":"flunder","namespaced":true,"kind":"Flunder","verbs":["get","list"]}]}`)
	})
	mux.HandleFunc("/apis/wardle.example.com/v1alpha1/namespaces/{ns}/flunders", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		item := map[string]interface{}{"apiVersion": "wardle.example.com/v1alpha1", "kind": "Flunder",
			"metadata": map[string]string{"name": "seen-by-wardle", "namespace": r.PathValue("ns")},
			"spec":     map[string]interface{}{"user": r.Header.Get("X-Remote-User"), "groups": r.Header.Values("X-Remote-Group")}}
		_ = json.NewEncoder(w).Encode(map[string]interface{}{"apiVersion": "wardle.example.com/v1alpha1", "kind": "FlunderList",
			"metadata": map[string]string{}, "items": []interface{}{item}})
	})
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.VerifiedChains) == 0 || !contains(allowed, r.TLS.PeerCertificates[0].Subject.CommonName) || r.Header.Get("X-Remote-User") == "" {
			http.Error(w, "not the front proxy", http.StatusUnauthorized)
			return
		}
		mux.ServeHTTP(w, r)
	})}
	ln, err := tls.Listen("tcp", net.JoinHostPort(ip.String(), "0"), &tls.Config{Certificates: []tls.Certificate{pair},
		ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: clientCAs, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ca.CertPEM, ln.Addr().(*net.TCPAddr).Port
}

func regexpMatch(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// A user registers an extension API server with an APIService: the API server
// proxies its group to it, as the front proxy, and lists its resources.
func TestAggregatedAPIThroughKubectl(t *testing.T) {
	ip := hostAddress()
	framework.Require(t, ip != nil, "needs a non-loopback address to put in an EndpointSlice")
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))

	// What an extension server reads to trust the API server.
	cm := s.Run("get", "configmap", "-n", "kube-system", "extension-apiserver-authentication", "-o", "json")
	var auth struct{ Data map[string]string }
	if err := json.Unmarshal([]byte(cm), &auth); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"requestheader-username-headers": `["X-Remote-User"]`, "requestheader-group-headers": `["X-Remote-Group"]`,
		"requestheader-extra-headers-prefix": `["X-Remote-Extra-"]`, "requestheader-allowed-names": `["front-proxy-client"]`} {
		if auth.Data[k] != v {
			t.Errorf("%s = %q, want %q", k, auth.Data[k], v)
		}
	}
	framework.Contains(t, auth.Data["client-ca-file"], "BEGIN CERTIFICATE")
	var allowed []string
	_ = json.Unmarshal([]byte(auth.Data["requestheader-allowed-names"]), &allowed)
	ns := s.Namespace
	caPEM, port := startWardle(t, ip, "api."+ns+".svc", []byte(auth.Data["requestheader-client-ca-file"]), allowed)

	defer s.Do("delete", "apiservice", "v1alpha1.wardle.example.com", "--ignore-not-found")
	framework.Contains(t, s.Apply(`apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: v1alpha1.wardle.example.com
spec:
  group: wardle.example.com
  version: v1alpha1
  groupPriorityMinimum: 1000
  versionPriority: 15
  service: {namespace: `+ns+`, name: api, port: 443}
  caBundle: `+base64.StdEncoding.EncodeToString(caPEM)+"\n"), "apiservice.apiregistration.k8s.io/v1alpha1.wardle.example.com created")
	framework.Eventually(t, 20*time.Second, func() error {
		return want(s.Do("get", "apiservice", "v1alpha1.wardle.example.com").Stdout, "ServiceNotFound")
	})

	// A Service without a selector, and its endpoint by hand.
	s.Apply(`apiVersion: v1
kind: Service
metadata: {name: api}
spec:
  ports: [{name: https, port: 443, targetPort: ` + strconv.Itoa(port) + `}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: api-1
  labels: {kubernetes.io/service-name: api}
addressType: IPv4
endpoints: [{addresses: ["` + ip.String() + `"], conditions: {ready: true}}]
ports: [{name: https, port: ` + strconv.Itoa(port) + `, protocol: TCP}]
`)
	framework.Eventually(t, 30*time.Second, func() error {
		return want(s.Do("get", "apiservices", "v1alpha1.wardle.example.com").Stdout, ns+"/api")
	})
	framework.Eventually(t, 30*time.Second, func() error {
		out := s.Do("get", "apiservices", "v1alpha1.wardle.example.com").Stdout
		if !regexpMatch(`(?m)^NAME\s+SERVICE\s+AVAILABLE\s+AGE\nv1alpha1\.wardle\.example\.com\s+`+ns+`/api\s+True\s+\d+s`, out) {
			return errf("not available yet: %s", out)
		}
		return nil
	})
	framework.Contains(t, s.Run("get", "apiservice", "v1alpha1.wardle.example.com", "-o", "jsonpath={.status.conditions[0].reason}: {.status.conditions[0].message}"),
		"Passed: all checks passed")

	// The extension answers for its group, seeing the caller the API server authenticated.
	raw := s.Run("get", "--raw", "/apis/wardle.example.com/v1alpha1/namespaces/default/flunders")
	framework.Contains(t, raw, `"user":"system:admin"`, `"system:masters"`, `"system:authenticated"`, `"seen-by-wardle"`)
	framework.Contains(t, s.Run("get", "--raw", "/apis/wardle.example.com/v1alpha1"), `"flunders"`)

	// Its resources are in discovery, legacy and aggregated.
	framework.Contains(t, s.Run("get", "--raw", "/apis"), `"wardle.example.com/v1alpha1"`)
	framework.Eventually(t, 10*time.Second, func() error {
		return want(s.Do("api-resources", "--api-group=wardle.example.com").Stdout, "flunders")
	})
	framework.Contains(t, s.Run("get", "flunders", "-n", "default", "-o", "name"), "flunder.wardle.example.com/seen-by-wardle")

	// Without its Service, the APIService is unavailable and its group answers 503.
	s.Run("delete", "service", "api")
	framework.Eventually(t, 30*time.Second, func() error {
		return want(s.Do("get", "apiservices", "v1alpha1.wardle.example.com").Stdout, "False (ServiceNotFound)")
	})
	framework.Contains(t, s.Fail("get", "--raw", "/apis/wardle.example.com/v1alpha1/namespaces/default/flunders"), "ServiceUnavailable")
}
