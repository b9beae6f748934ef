package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// A user manages a ConfigMap through its whole life with kubectl.
func TestConfigMapThroughKubectl(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	framework.Contains(t, s.Run("create", "configmap", "app", "--from-literal=color=blue"), "configmap/app created")
	framework.Matches(t, s.Run("get", "configmaps"), `(?m)^NAME\s+DATA\s+AGE\napp\s+1\s+\d+s`)
	framework.Contains(t, s.Run("get", "cm", "app", "-o", "name"), "configmap/app")
	framework.Contains(t, s.Run("get", "cm", "app", "-o", "jsonpath={.data.color}"), "blue")
	y := s.Run("get", "cm", "app", "-o", "yaml")
	framework.Contains(t, y, "apiVersion: v1", "kind: ConfigMap", "color: blue", "resourceVersion:", "uid:", "creationTimestamp:")
	var obj map[string]interface{}
	if err := json.Unmarshal([]byte(s.Run("get", "cm", "app", "-o", "json")), &obj); err != nil {
		t.Fatalf("-o json is not JSON: %v", err)
	}
	framework.Contains(t, s.Run("label", "cm", "app", "tier=web"), "configmap/app labeled")
	framework.Contains(t, s.Run("get", "cm", "-l", "tier=web", "-o", "name"), "configmap/app")
	framework.Contains(t, s.Run("get", "cm", "-l", "tier!=web", "-o", "name"), "")
	framework.Contains(t, s.Run("annotate", "cm", "app", "owner=team-a"), "configmap/app annotated")
	framework.Contains(t, s.Run("patch", "cm", "app", "-p", `{"data":{"size":"L"}}`), "configmap/app patched")
	framework.Contains(t, s.Run("patch", "cm", "app", "--type=merge", "-p", `{"data":{"shape":"round"}}`), "configmap/app patched")
	framework.Contains(t, s.Run("patch", "cm", "app", "--type=json", "-p", `[{"op":"replace","path":"/data/color","value":"red"}]`), "configmap/app patched")
	framework.Contains(t, s.Run("get", "cm", "app", "-o", "jsonpath={.data.color},{.data.size},{.data.shape}"), "red,L,round")
	framework.Contains(t, s.Run("describe", "cm", "app"), "Name:", "app", "Labels:", "tier=web", "Annotations:", "owner: team-a", "Data")

	// kubectl edit through a non-interactive editor.
	r := s.C.KubectlEnv(ctxT(t), s.Kubectl, []string{`EDITOR=sed -i 's/color: red/color: purple/'`}, "", "-n", s.Namespace, "edit", "cm", "app")
	if r.Code != 0 {
		t.Fatalf("kubectl edit: %s %s", r.Stdout, r.Stderr)
	}
	framework.Contains(t, r.Stdout, "configmap/app edited")
	framework.Contains(t, s.Run("get", "cm", "app", "-o", "jsonpath={.data.color}"), "purple")
	edited := s.DoIn("", "get", "cm", "app", "-o", "yaml")
	manifest := strings.Replace(edited.Stdout, "color: purple", "color: green", 1)
	framework.Contains(t, s.DoIn(manifest, "replace", "-f", "-").Stdout, "configmap/app replaced")
	framework.Contains(t, s.Run("get", "cm", "app", "-o", "jsonpath={.data.color}"), "green")

	framework.Contains(t, s.Run("delete", "cm", "app"), `configmap "app" deleted`)
	framework.Contains(t, s.Fail("get", "cm", "app"), `Error from server (NotFound): configmaps "app" not found`)
}

// Client-side apply is idempotent and tracks the last applied configuration.
func TestApplyClientSide(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	m := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  a: \"1\"\n"
	framework.Contains(t, s.Apply(m), "configmap/web created")
	framework.Contains(t, s.Apply(m), "configmap/web unchanged")
	framework.Contains(t, s.Apply(strings.Replace(m, `a: "1"`, `a: "2"`, 1)), "configmap/web configured")
	framework.Contains(t, s.Run("get", "cm", "web", "-o", "yaml"), "kubectl.kubernetes.io/last-applied-configuration")
	framework.Contains(t, s.Run("apply", "view-last-applied", "cm", "web"), `a: "2"`)
}

// Server-side apply records field managers and reports conflicts between them.
func TestApplyServerSide(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	m := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  key: one\n"
	framework.Contains(t, s.Apply(m, "--server-side"), "configmap/ssa serverside-applied")
	framework.Contains(t, s.Run("get", "cm", "ssa", "-o", "yaml", "--show-managed-fields"), "manager: kubectl", "operation: Apply")
	other := strings.Replace(m, "key: one", "key: two", 1)
	r := s.DoIn(other, "apply", "-f", "-", "--server-side", "--field-manager=other")
	if r.Code == 0 {
		t.Fatalf("expected a conflict, got: %s", r.Stdout)
	}
	framework.Contains(t, r.Stderr, "conflict", `"kubectl"`, ".data.key")
	framework.Contains(t, s.Apply(other, "--server-side", "--field-manager=other", "--force-conflicts"), "serverside-applied")
	framework.Contains(t, s.Run("get", "cm", "ssa", "-o", "jsonpath={.data.key}"), "two")
}

// Dry runs validate and answer without storing anything.
func TestDryRunServer(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	framework.Contains(t, s.Run("create", "cm", "dry", "--from-literal=a=b", "--dry-run=server"), "configmap/dry created (server dry run)")
	framework.Contains(t, s.Fail("get", "cm", "dry"), "NotFound")
	s.Run("create", "cm", "dry", "--from-literal=a=b")
	s.Run("delete", "cm", "dry", "--dry-run=server")
	s.Run("get", "cm", "dry")
}

// Large lists come back complete in pages.
func TestListInChunks(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	var b strings.Builder
	for i := 0; i < 25; i++ {
		b.WriteString("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-" + string(rune('a'+i)) + "\n")
	}
	s.Apply(b.String())
	out := s.Run("get", "cm", "--chunk-size=7", "-o", "name")
	if n := strings.Count(out, "configmap/cm-"); n != 25 {
		t.Fatalf("chunked list returned %d of 25 configmaps:\n%s", n, out)
	}
}
