package e2e

import (
	"testing"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// The cluster starts with its four namespaces, and a namespace takes its content
// with it when deleted.
func TestNamespaces(t *testing.T) {
	k := framework.KubectlPath(t, "")
	s := &framework.Session{T: t, C: cluster, Kubectl: k}
	out := s.Run("get", "namespaces")
	framework.Matches(t, out, `(?m)^NAME\s+STATUS\s+AGE$`)
	for _, ns := range []string{"default", "kube-system", "kube-public", "kube-node-lease"} {
		framework.Matches(t, out, `(?m)^`+ns+`\s+Active\s+`)
	}
	framework.Contains(t, s.Run("create", "namespace", "e2e-ns-life"), "namespace/e2e-ns-life created")
	s.Run("-n", "e2e-ns-life", "create", "configmap", "inside", "--from-literal=a=b")
	framework.Contains(t, s.Run("get", "ns", "e2e-ns-life", "--show-labels"), "kubernetes.io/metadata.name=e2e-ns-life")
	framework.Contains(t, s.Run("delete", "namespace", "e2e-ns-life"), `namespace "e2e-ns-life" deleted`)
	framework.Contains(t, s.Fail("get", "namespace", "e2e-ns-life"), `namespaces "e2e-ns-life" not found`)
	framework.Contains(t, s.Fail("-n", "e2e-ns-life", "create", "configmap", "late"), `namespaces "e2e-ns-life" not found`)
	framework.Contains(t, s.Fail("delete", "namespace", "kube-system"), `namespaces "kube-system" is forbidden: this namespace may not be deleted`)
}
