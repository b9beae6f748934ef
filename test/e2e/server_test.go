package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// Health, version and metrics endpoints answer like upstream's.
func TestHealthVersionMetrics(t *testing.T) {
	s := &framework.Session{T: t, C: cluster, Kubectl: framework.KubectlPath(t, "")}
	for _, p := range []string{"/healthz", "/livez", "/readyz"} {
		if out := s.Run("get", "--raw", p); out != "ok" {
			t.Fatalf("%s answered %q", p, out)
		}
	}
	framework.Contains(t, s.Run("get", "--raw", "/readyz?verbose"), "[+]etcd ok", "readyz check passed")
	framework.Contains(t, s.Run("get", "--raw", "/livez/etcd"), "ok")
	var v struct{ GitVersion, Major, Minor string }
	if err := json.Unmarshal([]byte(s.Run("get", "--raw", "/version")), &v); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(v.GitVersion, "+minik8s") || v.Major != "1" || v.Minor == "" {
		t.Fatalf("/version = %+v", v)
	}
	framework.Matches(t, s.Run("version"), `Server Version: v1\.\d+\.\d+\+minik8s`)
	framework.Contains(t, s.Run("get", "--raw", "/metrics"), "apiserver_request_total{", "go_goroutines")
	framework.Contains(t, s.Run("cluster-info"), "Kubernetes control plane is running at https://127.0.0.1:")
}

// The same session works with the oldest and newest kubectl we support.
func TestOtherKubectlVersions(t *testing.T) {
	for _, v := range []string{"1.27", "1.33"} {
		t.Run("kubectl "+v, func(t *testing.T) {
			s := framework.NewSession(t, cluster, framework.KubectlPath(t, v))
			framework.Contains(t, s.Run("create", "cm", "c", "--from-literal=a=b"), "configmap/c created")
			framework.Matches(t, s.Run("get", "cm"), `(?m)^c\s+1\s+`)
			framework.Contains(t, s.Run("get", "cm", "c", "-o", "yaml"), "a: b")
			s.Apply("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: d\ndata:\n  k: v\n")
			s.Apply("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: e\ndata:\n  k: v\n", "--server-side")
			framework.Contains(t, s.Run("patch", "cm", "c", "-p", `{"data":{"a":"c"}}`), "patched")
			framework.Contains(t, s.Run("delete", "cm", "c", "d", "e"), `configmap "e" deleted`)
			framework.Contains(t, s.Run("api-resources"), "configmaps")
		})
	}
}
