package e2e

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// The serviceaccount-token-controller fills a Secret made as upstream's docs
// say ("Manually create a long-lived API token for a ServiceAccount"): the
// token authenticates as the account, ca.crt is the cluster CA, and the
// Secret goes with its account.
func TestServiceAccountTokenControllerFillsTokenSecrets(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	s.Run("create", "serviceaccount", "build-robot")
	uid := s.Run("get", "serviceaccount", "build-robot", "-o", "jsonpath={.metadata.uid}")
	s.Apply(`apiVersion: v1
kind: Secret
metadata:
  name: build-robot-secret
  annotations: {kubernetes.io/service-account.name: build-robot}
type: kubernetes.io/service-account-token
`)
	get := func(path string) string {
		return s.Run("get", "secret", "build-robot-secret", "-o", "jsonpath={"+path+"}")
	}
	var token string
	framework.Eventually(t, 15*time.Second, func() error {
		raw, err := base64.StdEncoding.DecodeString(get(".data.token"))
		if err != nil || len(raw) == 0 {
			return errf("no token yet (%v)", err)
		}
		token = string(raw)
		return nil
	})
	if got := get(`.metadata.annotations.kubernetes\.io/service-account\.uid`); got != uid {
		t.Errorf("uid annotation %q, want the account's %q", got, uid)
	}
	ns, _ := base64.StdEncoding.DecodeString(get(".data.namespace"))
	if string(ns) != s.Namespace {
		t.Errorf("data.namespace %q, want %q", ns, s.Namespace)
	}
	ca, _ := base64.StdEncoding.DecodeString(get(`.data.ca\.crt`))
	if want := s.Run("get", "configmap", "kube-root-ca.crt", "-o", `jsonpath={.data.ca\.crt}`); strings.TrimSpace(string(ca)) != strings.TrimSpace(want) || want == "" {
		t.Errorf("data.ca.crt %q, want the cluster CA %q", ca, want)
	}

	// The token is written once: the Secret is not touched again
	// (before the token is used: its use is dated on a label).
	rv := get(".metadata.resourceVersion")
	time.Sleep(time.Second)
	if now := get(".metadata.resourceVersion"); now != rv {
		t.Errorf("the filled secret was written again (resourceVersion %s -> %s)", rv, now)
	}

	kc := tokenKubeconfig(t, cluster, token)
	r := as(s, kc, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
	if r.Code != 0 {
		t.Fatalf("whoami with the secret's token: %s", r.Stderr)
	}
	if want := "system:serviceaccount:" + s.Namespace + ":build-robot"; r.Stdout != want {
		t.Errorf("user %q, want %q", r.Stdout, want)
	}
	// A manually created token draws no auto-generated token warning.
	if strings.Contains(r.Stderr, "auto-generated") {
		t.Errorf("a manually created token drew the auto-generated warning: %s", r.Stderr)
	}

	s.Run("delete", "serviceaccount", "build-robot")
	framework.Eventually(t, 15*time.Second, func() error {
		if r := s.Do("get", "secret", "build-robot-secret"); r.Code == 0 || !strings.Contains(r.Stderr, "NotFound") {
			return errf("the secret of a deleted account is still there: %s", r.Stdout)
		}
		return nil
	})
	if r := as(s, kc, "auth", "whoami"); r.Code == 0 {
		t.Errorf("the token of a deleted account still authenticates: %s", r.Stdout)
	}
}
