package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// startEcho serves, on ip, a page with a root-relative link at "/" and the
// method, path and whether credentials arrived everywhere else.
func startEcho(t *testing.T, ip net.IP) int {
	l, err := net.Listen("tcp", net.JoinHostPort(ip.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" && r.Method == http.MethodGet {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, `<html><body><a href="/rewriteme">test</a></body></html>`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"method": r.Method, "path": r.URL.Path,
			"query": r.URL.RawQuery, "authorization": r.Header.Get("Authorization")})
	}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

// services/proxy answers as upstream's: GET and HEAD of the bare proxy path
// redirect to it with a slash, every method reaches the backend, and links in
// HTML are rewritten under the proxy path.
func TestServiceProxyRedirectsMethodsAndRewritesLinks(t *testing.T) {
	ip := hostAddress()
	framework.Require(t, ip != nil, "needs a non-loopback address to put in an EndpointSlice")
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	port := startEcho(t, ip)
	s.Apply(`apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ports: [{name: http, port: 80, targetPort: ` + strconv.Itoa(port) + `}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-1
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
endpoints: [{addresses: ["` + ip.String() + `"], conditions: {ready: true}}]
ports: [{name: http, port: ` + strconv.Itoa(port) + `, protocol: TCP}]
`)
	cfg, err := cluster.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	rt, err := rest.TransportFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: rt, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	base := strings.TrimRight(cfg.Host, "/") + "/api/v1/namespaces/" + s.Namespace + "/services/web"
	do := func(method, url string) (int, http.Header, string) {
		t.Helper()
		req, err := http.NewRequest(method, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(body)
	}

	for _, m := range []string{"GET", "HEAD"} {
		code, h, _ := do(m, base+"/proxy?method="+m)
		if code != http.StatusMovedPermanently || h.Get("Location") != "/api/v1/namespaces/"+s.Namespace+"/services/web/proxy/?method="+m {
			t.Errorf("%s of the bare proxy path: %d, Location %q", m, code, h.Get("Location"))
		}
	}
	for _, m := range []string{"DELETE", "OPTIONS", "PATCH", "POST", "PUT"} {
		code, _, body := do(m, base+"/proxy?method="+m)
		var got map[string]string
		if err := json.Unmarshal([]byte(body), &got); code != http.StatusOK || err != nil {
			t.Errorf("%s of the bare proxy path: %d %s", m, code, body)
			continue
		}
		if got["method"] != m || got["path"] != "/" || got["query"] != "method="+m || got["authorization"] != "" {
			t.Errorf("%s reached the backend as %v", m, got)
		}
	}
	code, _, body := do("GET", base+":http/proxy/")
	if want := `<a href="/api/v1/namespaces/` + s.Namespace + `/services/web:http/proxy/rewriteme">test</a>`; code != http.StatusOK || !strings.Contains(body, want) {
		t.Errorf("GET of the proxy root: %d %s, want a link %s", code, body, want)
	}
	framework.Contains(t, s.Run("get", "--raw", "/api/v1/namespaces/"+s.Namespace+"/services/http:web:80/proxy/some/path/"),
		`"method":"GET"`, `"path":"/some/path/"`)
}
