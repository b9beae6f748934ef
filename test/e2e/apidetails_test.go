package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

const detailsPod = `apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: web
    image: busybox
`

// A pod applied client-side and then server-side from the same file keeps what
// admission gave it (service account, token volume, priority): the creator never
// owned those fields, so kubectl's migration of its ownership hands none of them
// to the server-side manager.
func TestApplyClientSideThenServerSide(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	framework.Eventually(t, 30*time.Second, func() error {
		if r := s.Do("get", "serviceaccount", "default"); r.Code != 0 {
			return fmt.Errorf("no default service account yet: %s", r.Stderr)
		}
		return nil
	})
	framework.Contains(t, s.Apply(detailsPod), "pod/web created")
	r := s.DoIn(detailsPod, "apply", "--server-side", "-f", "-")
	if r.Code != 0 {
		t.Fatalf("server-side apply after client-side apply: exit %d\n%s", r.Code, r.Stderr)
	}
	framework.Contains(t, r.Stdout, "pod/web serverside-applied")
	framework.Contains(t, s.Run("get", "pod", "web", "-o", "jsonpath={.spec.serviceAccountName}"), "default")
}
