package node

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// A scraper installed the upstream way (metrics-server, Prometheus) calls each
// node's API straight, https://NODE:10250/metrics/resource, with its service
// account's token; the node asks the API server who the token is and whether
// RBAC lets it at that part of the node.
func TestKubeletAPIServiceAccountTokens(t *testing.T) {
	s := session(t)
	var ip string
	// The node may still be registering when this test runs first.
	framework.Eventually(t, 30*time.Second, func() error {
		r := s.Do("get", "node", nodeName, "-o", `jsonpath={.status.addresses[?(@.type=="InternalIP")].address}`)
		if ip = strings.TrimSpace(r.Stdout); r.Code != 0 || ip == "" {
			return fmt.Errorf("node %s has no InternalIP yet: %s", nodeName, r.Stderr)
		}
		return nil
	})
	base := "https://" + ip + ":" + kubeletPort
	// Cluster-scoped, so named after the session's namespace and removed after.
	role := s.Namespace + "-node-metrics"
	s.Run("create", "serviceaccount", "scraper")
	s.Run("create", "serviceaccount", "stranger")
	s.Run("create", "clusterrole", role, "--verb=get", "--resource=nodes/metrics")
	t.Cleanup(func() { s.Do("delete", "clusterrole", role, "--ignore-not-found") })
	s.Run("create", "clusterrolebinding", role, "--clusterrole="+role, "--serviceaccount="+s.Namespace+":scraper")
	t.Cleanup(func() { s.Do("delete", "clusterrolebinding", role, "--ignore-not-found") })
	scraper := strings.TrimSpace(s.Run("create", "token", "scraper"))
	stranger := strings.TrimSpace(s.Run("create", "token", "stranger"))

	// The node's serving certificate is its own, as upstream's self-signed
	// one: scrapers run with --kubelet-insecure-tls or are given its CA.
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	get := func(path, token string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	expect := func(what, path, token string, code int, body string) {
		t.Helper()
		got, text := get(path, token)
		if got != code || !strings.Contains(text, body) {
			t.Fatalf("%s: GET %s = %d %.300q; want %d with %q", what, path, got, text, code, body)
		}
	}

	expect("the bound service account", "/metrics/resource", scraper, http.StatusOK, "node_cpu_usage_seconds_total")
	expect("the bound service account, again (cached reviews)", "/metrics/resource", scraper, http.StatusOK, "node_memory_working_set_bytes")
	expect("the bound service account on the cAdvisor metrics", "/metrics/cadvisor", scraper, http.StatusOK, "container_cpu_usage_seconds_total")
	expect("the bound service account beyond its role", "/stats/summary", scraper, http.StatusForbidden,
		"Forbidden (user=system:serviceaccount:"+s.Namespace+":scraper, verb=get, resource=nodes, subresource(s)=[stats])")
	expect("an unbound service account", "/metrics/resource", stranger, http.StatusForbidden,
		"Forbidden (user=system:serviceaccount:"+s.Namespace+":stranger, verb=get, resource=nodes, subresource(s)=[metrics])")
	expect("no token", "/metrics/resource", "", http.StatusUnauthorized, "Unauthorized")
	expect("a forged token", "/metrics/resource", "not-a-token", http.StatusUnauthorized, "Unauthorized")
	expect("no token on health", "/healthz", "", http.StatusUnauthorized, "Unauthorized")

	// upstream's role for full access to the node's API lets the stranger in.
	admin := s.Namespace + "-kubelet-api-admin"
	s.Run("create", "clusterrolebinding", admin, "--clusterrole=system:kubelet-api-admin", "--serviceaccount="+s.Namespace+":stranger")
	t.Cleanup(func() { s.Do("delete", "clusterrolebinding", admin, "--ignore-not-found") })
	expect("a kubelet API admin", "/pods", stranger, http.StatusOK, `"kind":"PodList"`)
	expect("a kubelet API admin", "/stats/summary", stranger, http.StatusOK, `"nodeName":"`+nodeName+`"`)
	expect("a kubelet API admin", "/healthz", stranger, http.StatusOK, "ok")
	// Its earlier refusal of /metrics/resource is remembered for half a minute.
	framework.Eventually(t, 60*time.Second, func() error {
		if code, body := get("/metrics/resource", stranger); code != http.StatusOK {
			return fmt.Errorf("GET /metrics/resource: %d %.200s", code, body)
		}
		return nil
	})
}
