package e2e

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minik8s/minik8s/pkg/auth/serviceaccount"
	"github.com/minik8s/minik8s/pkg/controller/manager"
	"github.com/minik8s/minik8s/test/e2e/framework"
)

// legacyToken signs a secret-based token with the cluster's service account
// key, as upstream's token controller would put into the Secret.
func legacyToken(t *testing.T, namespace, sa, saUID, secret string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(cluster.DataDir, "server", "tls", "service-account.key"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatal("service account key: not PEM")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := serviceaccount.NewSigner(key.(crypto.Signer), serviceaccount.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	token, err := signer.IssueLegacy(namespace, serviceaccount.Ref{Name: sa, UID: saUID}, secret)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// A secret-based token authenticates while its Secret holds it: its use is
// dated on the Secret's kubernetes.io/legacy-token-last-used label, an
// auto-generated one draws upstream's warning, and once the Secret is
// labelled kubernetes.io/legacy-token-invalid-since it is refused with 401.
// The API server dates the tracking in its kube-system ConfigMap.
func TestLegacyServiceAccountTokenTracking(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	since := s.Run("get", "configmap", "-n", "kube-system", serviceaccount.TrackingConfigMapName, "-o", "jsonpath={.data.since}")
	if d, err := time.Parse(serviceaccount.DateFormat, since); err != nil || d.After(time.Now().UTC()) {
		t.Fatalf("tracking since %q: want a date no later than today (%v)", since, err)
	}

	s.Apply("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: legacy}\nsecrets: [{name: legacy-token}]\n")
	uid := s.Run("get", "serviceaccount", "legacy", "-o", "jsonpath={.metadata.uid}")
	token := legacyToken(t, s.Namespace, "legacy", uid, "legacy-token")
	if r := s.DoIn(`apiVersion: v1
kind: Secret
metadata:
  name: legacy-token
  annotations: {kubernetes.io/service-account.name: legacy, kubernetes.io/service-account.uid: `+uid+`}
type: kubernetes.io/service-account-token
stringData: {token: `+token+`}
`, "create", "-f", "-"); r.Code != 0 {
		t.Fatalf("create the token secret: %s", r.Stderr)
	}
	lastUsed := func() string {
		return s.Run("get", "secret", "legacy-token", "-o", `jsonpath={.metadata.labels.kubernetes\.io/legacy-token-last-used}`)
	}
	if l := lastUsed(); l != "" {
		t.Fatalf("a token never used is labelled last used %q", l)
	}

	kc := tokenKubeconfig(t, cluster, token)
	r := as(s, kc, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
	if r.Code != 0 {
		t.Fatalf("whoami with the legacy token: %s", r.Stderr)
	}
	if want := "system:serviceaccount:" + s.Namespace + ":legacy"; r.Stdout != want {
		t.Errorf("user %q, want %q", r.Stdout, want)
	}
	framework.Contains(t, r.Stderr, "Warning: Use tokens from the TokenRequest API or manually created secret-based tokens instead of auto-generated secret-based tokens.")

	// The label is written off the request's path: it comes shortly after.
	today := time.Now().UTC()
	framework.Eventually(t, 10*time.Second, func() error {
		if l := lastUsed(); l != today.Format(serviceaccount.DateFormat) && l != today.AddDate(0, 0, 1).Format(serviceaccount.DateFormat) {
			return errf("last used %q, want %s", l, today.Format(serviceaccount.DateFormat))
		}
		return nil
	})
	rv := s.Run("get", "secret", "legacy-token", "-o", "jsonpath={.metadata.resourceVersion}")
	asOK(s, kc, "auth", "whoami")
	time.Sleep(time.Second)
	if now := s.Run("get", "secret", "legacy-token", "-o", "jsonpath={.metadata.resourceVersion}"); now != rv {
		t.Errorf("the secret was written again the same day (resourceVersion %s -> %s)", rv, now)
	}

	s.Run("label", "secret", "legacy-token", serviceaccount.InvalidSinceLabelKey+"=2026-01-01")
	framework.Eventually(t, 10*time.Second, func() error {
		if r := as(s, kc, "auth", "whoami"); r.Code == 0 || !strings.Contains(r.Stderr, "Unauthorized") {
			return errf("a token marked invalid: exit %d %s", r.Code, r.Stderr)
		}
		return nil
	})
	// 401 as upstream: the reason is for the server's log only.
	raw := as(s, kc, "get", "--raw", "/api", "-v=6")
	framework.Contains(t, raw.Stderr, "401 Unauthorized")
	framework.Eventually(t, 5*time.Second, func() error {
		log, err := os.ReadFile(cluster.Log)
		if err != nil {
			return err
		}
		if !strings.Contains(string(log), "the token in secret "+s.Namespace+"/legacy-token for service account "+s.Namespace+"/legacy has been marked invalid") {
			return errf("the server did not log why the token was refused")
		}
		return nil
	})
}

// The cleaner, run by `minik8s controller-manager` with a clean-up period of
// seconds against a cluster that has tracked use for long (its ConfigMap is
// dated back), marks an unused auto-generated token invalid, after which the
// API server refuses it; a token used today is left alone.
func TestLegacyServiceAccountTokenCleanerMarksUnusedTokensInvalid(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	cmName := serviceaccount.TrackingConfigMapName
	since := s.Run("get", "configmap", "-n", "kube-system", cmName, "-o", "jsonpath={.data.since}")
	t.Cleanup(func() {
		s.Run("patch", "configmap", "-n", "kube-system", cmName, "--type=merge", "-p", `{"data":{"since":"`+since+`"}}`)
	})
	s.Run("patch", "configmap", "-n", "kube-system", cmName, "--type=merge", "-p", `{"data":{"since":"2020-01-01"}}`)

	s.Apply("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: legacy}\nsecrets: [{name: unused-token}, {name: used-token}]\n")
	uid := s.Run("get", "serviceaccount", "legacy", "-o", "jsonpath={.metadata.uid}")
	tokens := map[string]string{}
	for _, name := range []string{"unused-token", "used-token"} {
		tokens[name] = legacyToken(t, s.Namespace, "legacy", uid, name)
		if r := s.DoIn(`apiVersion: v1
kind: Secret
metadata:
  name: `+name+`
  annotations: {kubernetes.io/service-account.name: legacy, kubernetes.io/service-account.uid: `+uid+`}
type: kubernetes.io/service-account-token
stringData: {token: `+tokens[name]+`}
`, "create", "-f", "-"); r.Code != 0 {
			t.Fatalf("create %s: %s", name, r.Stderr)
		}
	}
	used := tokenKubeconfig(t, cluster, tokens["used-token"])
	asOK(s, used, "auth", "whoami")
	label := func(secret, key string) string {
		return s.Run("get", "secret", secret, "-o", "jsonpath={.metadata.labels."+strings.ReplaceAll(key, ".", `\.`)+"}")
	}
	framework.Eventually(t, 10*time.Second, func() error {
		if label("used-token", serviceaccount.LastUsedLabelKey) == "" {
			return errf("used-token has no last-used label yet")
		}
		return nil
	})
	// Both are older than the period once the cleaner starts.
	time.Sleep(3 * time.Second)

	var others []string
	for _, d := range manager.Descriptors() {
		if d.Name != "legacy-serviceaccount-token-cleaner-controller" {
			others = append(others, d.Name)
		}
	}
	cm := exec.Command(cluster.Binary, "controller-manager", "--kubeconfig", cluster.Kubeconfig,
		"--disable-controllers", strings.Join(others, ","), "--legacy-service-account-token-clean-up-period=2s")
	logPath := filepath.Join(t.TempDir(), "controller-manager.log")
	log, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	cm.Stdout, cm.Stderr = log, log
	cm.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cm.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cm.Process.Signal(syscall.SIGTERM)
		_ = cm.Wait()
	}()

	today := time.Now().UTC().Format(serviceaccount.DateFormat)
	framework.Eventually(t, 30*time.Second, func() error {
		if l := label("unused-token", serviceaccount.InvalidSinceLabelKey); l != today {
			return errf("unused-token invalid since %q, want %s", l, today)
		}
		return nil
	})
	if l := label("used-token", serviceaccount.InvalidSinceLabelKey); l != "" {
		t.Errorf("a token used today is marked invalid since %q", l)
	}
	framework.Eventually(t, 10*time.Second, func() error {
		if r := as(s, tokenKubeconfig(t, cluster, tokens["unused-token"]), "auth", "whoami"); r.Code == 0 || !strings.Contains(r.Stderr, "Unauthorized") {
			return errf("a token the cleaner marked invalid: exit %d %s", r.Code, r.Stderr)
		}
		return nil
	})
	logged, _ := os.ReadFile(logPath)
	framework.Contains(t, string(logged), "Mark the auto-generated service account token as invalid")
}
