package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// A pod's token names the pod and its node in the user's extra, a node-bound
// token dies with its node, and the issuer's discovery document points pods at
// the keys under the issuer's own host.
func TestServiceAccountTokenNodeInfoAndDiscovery(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	node := "token-node-" + s.Namespace
	s.Apply("apiVersion: v1\nkind: Node\nmetadata: {name: " + node + "}\n")
	t.Cleanup(func() { s.Do("delete", "node", node, "--ignore-not-found") })
	nodeUID := s.Run("get", "node", node, "-o", "jsonpath={.metadata.uid}")
	s.Apply(`apiVersion: v1
kind: Pod
metadata: {name: app}
spec:
  nodeName: ` + node + `
  containers: [{name: app, image: busybox}]
`)
	framework.Eventually(t, 10*time.Second, func() error {
		if r := s.Do("get", "serviceaccount", "default"); r.Code != 0 {
			return errf("no default service account yet: %s", r.Stderr)
		}
		return nil
	})

	token := strings.TrimSpace(s.Run("create", "token", "default", "--bound-object-kind=Pod", "--bound-object-name=app"))
	sa := tokenKubeconfig(t, cluster, token)
	extra := asOK(s, sa, "auth", "whoami", "-o", "jsonpath={.status.userInfo.extra}")
	framework.Contains(t, extra, `"authentication.kubernetes.io/node-name":["`+node+`"]`,
		`"authentication.kubernetes.io/node-uid":["`+nodeUID+`"]`, `"authentication.kubernetes.io/pod-name":["app"]`,
		`"authentication.kubernetes.io/credential-id":["JTI=`)
	// A TokenReview (what upstream's conformance test reads) sees the same.
	review := s.DoIn(`{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"`+token+`"}}`,
		"create", "-f", "-", "-o", "jsonpath={.status.authenticated} {.status.user.extra}")
	if review.Code != 0 {
		t.Fatalf("token review: %s", review.Stderr)
	}
	framework.Contains(t, review.Stdout, "true ", `"authentication.kubernetes.io/node-name":["`+node+`"]`,
		`"authentication.kubernetes.io/node-uid":["`+nodeUID+`"]`)

	// Service accounts read the discovery document and the keys.
	framework.Contains(t, asOK(s, sa, "get", "--raw", "/.well-known/openid-configuration"),
		`"issuer":"https://kubernetes.default.svc.cluster.local"`,
		`"jwks_uri":"https://kubernetes.default.svc.cluster.local/openid/v1/jwks"`)
	framework.Contains(t, asOK(s, sa, "get", "--raw", "/openid/v1/jwks"), `"kty":"EC"`, `"alg":"ES256"`)

	nodeToken := strings.TrimSpace(s.Run("create", "token", "default", "--bound-object-kind=Node", "--bound-object-name="+node))
	bound := tokenKubeconfig(t, cluster, nodeToken)
	framework.Contains(t, asOK(s, bound, "auth", "whoami", "-o", "jsonpath={.status.userInfo.extra}"),
		`"authentication.kubernetes.io/node-name":["`+node+`"]`, `"authentication.kubernetes.io/node-uid":["`+nodeUID+`"]`)
	framework.Contains(t, s.Fail("create", "token", "default", "--bound-object-kind=Node", "--bound-object-name="+node, "--bound-object-uid=wrong"),
		"the UID in the bound object reference (wrong) does not match the UID in record")
	s.Run("delete", "pod", "app", "--grace-period=0", "--force")
	s.Run("delete", "node", node)
	framework.Eventually(t, 10*time.Second, func() error {
		if r := as(s, bound, "auth", "whoami"); r.Code == 0 || !strings.Contains(r.Stderr, "Unauthorized") {
			return errf("token of a deleted node: %d %s", r.Code, r.Stderr)
		}
		return nil
	})
}
