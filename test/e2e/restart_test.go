package e2e

import (
	"testing"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// Stopping with SIGTERM and starting again on the same data dir keeps every object,
// and the certificates and kubeconfig keep working.
func TestRestartKeepsObjects(t *testing.T) {
	c, err := framework.Start(framework.Options{Args: []string{"--disable-agent"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Destroy()
	s := framework.NewSession(t, c, framework.KubectlPath(t, ""))
	s.Run("create", "cm", "keep", "--from-literal=a=b")
	rv := s.Run("get", "cm", "keep", "-o", "jsonpath={.metadata.resourceVersion}")
	if err := c.Restart(); err != nil {
		t.Fatalf("restart: %v", err)
	}
	framework.Contains(t, s.Run("get", "cm", "keep", "-o", "jsonpath={.data.a} {.metadata.resourceVersion}"), "b "+rv)
	s.Run("create", "cm", "after")
	framework.Contains(t, s.Run("get", "ns", "default", "kube-system", "-o", "name"), "namespace/default", "namespace/kube-system")
}
