package e2e

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/minik8s/minik8s/pkg/cluster/kubeconfig"
	"github.com/minik8s/minik8s/pkg/cluster/pki"
	"github.com/minik8s/minik8s/test/e2e/framework"
)

// userKubeconfig issues a client certificate for name in groups from the
// cluster's CA, as an administrator would without the CSR API, and returns a
// kubeconfig of that user.
func userKubeconfig(t *testing.T, c *framework.Cluster, name string, groups ...string) string {
	t.Helper()
	ca, err := pki.Load(filepath.Join(c.DataDir, "server", "tls"), "ca")
	if err != nil {
		t.Fatal(err)
	}
	kp, err := pki.Issue(ca, pki.Leaf{CommonName: name, Organization: groups, Client: true})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := kubeconfig.Write(path, kubeconfig.Spec{Server: fmt.Sprintf("https://127.0.0.1:%d", c.Port), CAPEM: ca.CertPEM,
		Name: "e2e", CertPEM: kp.CertPEM, KeyPEM: kp.KeyPEM}); err != nil {
		t.Fatal(err)
	}
	return path
}

// tokenKubeconfig is a kubeconfig that authenticates with a bearer token only.
func tokenKubeconfig(t *testing.T, c *framework.Cluster, token string) string {
	t.Helper()
	caPEM, err := os.ReadFile(filepath.Join(c.DataDir, "server", "tls", "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := kubeconfig.Write(path, kubeconfig.Spec{Server: fmt.Sprintf("https://127.0.0.1:%d", c.Port), CAPEM: caPEM,
		Name: "e2e", Token: token}); err != nil {
		t.Fatal(err)
	}
	return path
}

// as runs kubectl in the session's namespace with another user's kubeconfig.
func as(s *framework.Session, kubeconfigPath string, args ...string) framework.Result {
	s.T.Helper()
	return s.Do(append([]string{"--kubeconfig", kubeconfigPath}, args...)...)
}

// asOK runs kubectl as another user and fails the test unless it succeeds.
func asOK(s *framework.Session, kubeconfigPath string, args ...string) string {
	s.T.Helper()
	r := as(s, kubeconfigPath, args...)
	if r.Code != 0 {
		s.T.Fatalf("kubectl %s: exit %d\n%s%s", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// asRefused runs kubectl as another user, expects a refusal and returns stderr.
func asRefused(s *framework.Session, kubeconfigPath string, args ...string) string {
	s.T.Helper()
	r := as(s, kubeconfigPath, args...)
	if r.Code == 0 {
		s.T.Fatalf("kubectl %s succeeded, want a refusal:\n%s", strings.Join(args, " "), r.Stdout)
	}
	return r.Stderr
}

// A user given the admin role in one namespace runs it, and can touch nothing
// in another; it cannot grant what it does not hold.
func TestRBACNamespaceAdmin(t *testing.T) {
	kubectl := framework.KubectlPath(t, "")
	s := framework.NewSession(t, cluster, kubectl)
	other := framework.NewSession(t, cluster, kubectl)
	alice := userKubeconfig(t, cluster, "alice", "dev-team")

	forbidden := asRefused(s, alice, "get", "pods")
	framework.Contains(t, forbidden, `Error from server (Forbidden): pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "`+s.Namespace+`"`)
	framework.Contains(t, as(s, alice, "auth", "can-i", "create", "deployments").Stdout, "no")

	s.Run("create", "rolebinding", "alice-admin", "--clusterrole=admin", "--user=alice")
	asOK(s, alice, "create", "configmap", "settings", "--from-literal=a=b")
	asOK(s, alice, "create", "deployment", "web", "--image=busybox")
	framework.Contains(t, asOK(s, alice, "get", "configmap", "settings", "-o", "jsonpath={.data.a}"), "b")
	framework.Contains(t, asOK(s, alice, "auth", "can-i", "create", "deployments"), "yes")
	framework.Contains(t, asOK(s, alice, "auth", "can-i", "get", "secrets"), "yes")
	framework.Contains(t, asOK(s, alice, "auth", "whoami"), "alice", "[dev-team system:authenticated]")

	// The other namespace is out of reach.
	framework.Contains(t, asRefused(other, alice, "get", "configmaps"),
		`Error from server (Forbidden): configmaps is forbidden: User "alice" cannot list resource "configmaps" in API group "" in the namespace "`+other.Namespace+`"`)
	framework.Contains(t, asRefused(other, alice, "create", "configmap", "x"),
		`configmaps is forbidden: User "alice" cannot create resource "configmaps" in API group "" in the namespace "`+other.Namespace+`"`)
	framework.Contains(t, asRefused(other, alice, "delete", "namespace", other.Namespace),
		`namespaces "`+other.Namespace+`" is forbidden: User "alice" cannot delete resource "namespaces" in API group "" in the namespace "`+other.Namespace+`"`)
	r := as(other, alice, "auth", "can-i", "create", "deployments")
	if r.Code != 1 || r.Stdout != "no\n" {
		t.Errorf("can-i in another namespace: exit %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	framework.Contains(t, asRefused(s, alice, "get", "nodes"),
		`nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" at the cluster scope`)

	// Escalation: a role with rules alice lacks, a binding of a role she does
	// not hold, a cluster-wide binding, impersonation: all refused.
	framework.Contains(t, asRefused(s, alice, "create", "role", "node-reader", "--verb=get", "--resource=nodes"),
		`Error from server (Forbidden): roles.rbac.authorization.k8s.io "node-reader" is forbidden: user "alice" (groups=["dev-team" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:`,
		`{APIGroups:[""], Resources:["nodes"], Verbs:["get"]}`)
	framework.Contains(t, asRefused(s, alice, "create", "rolebinding", "root", "--clusterrole=cluster-admin", "--user=alice"),
		`rolebindings.rbac.authorization.k8s.io "root" is forbidden: user "alice" (groups=["dev-team" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:`)
	framework.Contains(t, asRefused(s, alice, "create", "clusterrolebinding", "root", "--clusterrole=cluster-admin", "--user=alice"),
		`clusterrolebindings.rbac.authorization.k8s.io is forbidden: User "alice" cannot create resource "clusterrolebindings" in API group "rbac.authorization.k8s.io" at the cluster scope`)
	framework.Contains(t, asRefused(s, alice, "get", "pods", "--as", "bob"),
		`users "bob" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope`)

	// What she holds she may grant: view to bob, and a role within her rights.
	asOK(s, alice, "create", "rolebinding", "bob-view", "--clusterrole=view", "--user=bob")
	asOK(s, alice, "create", "role", "cm-reader", "--verb=get,list", "--resource=configmaps")
	framework.Contains(t, s.Run("auth", "can-i", "list", "configmaps", "--as", "bob"), "yes")
	r = s.Do("auth", "can-i", "create", "configmaps", "--as", "bob")
	if r.Stdout != "no\n" {
		t.Errorf("bob, a viewer, may create configmaps: %q", r.Stdout)
	}

	// can-i --list shows what the admin role holds in this namespace.
	list := asOK(s, alice, "auth", "can-i", "--list")
	for _, re := range []string{
		`(?m)^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs$`,
		`(?m)^rolebindings\.rbac\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create delete deletecollection get list patch update watch\]$`,
		`(?m)^pods\s+\[\]\s+\[\]\s+\[create delete deletecollection patch update get list watch\]$`,
		`(?m)^secrets\s+\[\]\s+\[\]\s+\[get list watch create delete deletecollection patch update\]$`,
		`(?m)^localsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]$`,
		`(?m)^pods/log\s+\[\]\s+\[\]\s+\[get list watch\]$`,
		`(?m)^\s+\[/api/\*\]\s+\[\]\s+\[get\]$`,
	} {
		framework.Matches(t, list, re)
	}
	if strings.Contains(list, "nodes") || strings.Contains(list, "*.*") {
		t.Errorf("the namespace admin's list shows cluster rights:\n%s", list)
	}
}

// A user bound to nothing may only learn about itself and discover the API:
// kubectl auth can-i --list prints what upstream prints for such a user.
func TestRBACUserWithoutBindings(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	nobody := userKubeconfig(t, cluster, "nobody")
	want := `Resources                                       Non-Resource URLs   Resource Names   Verbs
selfsubjectreviews.authentication.k8s.io        []                  []               [create]
selfsubjectaccessreviews.authorization.k8s.io   []                  []               [create]
selfsubjectrulesreviews.authorization.k8s.io    []                  []               [create]
                                                [/api/*]            []               [get]
                                                [/api]              []               [get]
                                                [/apis/*]           []               [get]
                                                [/apis]             []               [get]
                                                [/healthz]          []               [get]
                                                [/healthz]          []               [get]
                                                [/livez]            []               [get]
                                                [/livez]            []               [get]
                                                [/openapi/*]        []               [get]
                                                [/openapi]          []               [get]
                                                [/readyz]           []               [get]
                                                [/readyz]           []               [get]
                                                [/version/]         []               [get]
                                                [/version/]         []               [get]
                                                [/version]          []               [get]
                                                [/version]          []               [get]
`
	if got := asOK(s, nobody, "auth", "can-i", "--list"); got != want {
		t.Errorf("can-i --list:\n%s\nwant:\n%s", got, want)
	}
	framework.Matches(t, asOK(s, nobody, "auth", "whoami"), `(?m)^Username\s+nobody$`)
	asOK(s, nobody, "api-versions")
	framework.Contains(t, asRefused(s, nobody, "get", "configmaps"),
		`configmaps is forbidden: User "nobody" cannot list resource "configmaps" in API group "" in the namespace "`+s.Namespace+`"`)
}

// The token of a pod's default service account lists no Secrets.
func TestRBACDefaultServiceAccountToken(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	s.Run("create", "secret", "generic", "db", "--from-literal=password=hunter2")
	s.Apply(`apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  containers:
  - name: app
    image: busybox
`)
	framework.Eventually(t, 10*time.Second, func() error {
		if r := s.Do("get", "serviceaccount", "default"); r.Code != 0 {
			return errf("no default service account yet: %s", r.Stderr)
		}
		return nil
	})
	token := strings.TrimSpace(s.Run("create", "token", "default", "--bound-object-kind=Pod", "--bound-object-name=app"))
	sa := tokenKubeconfig(t, cluster, token)
	user := "system:serviceaccount:" + s.Namespace + ":default"
	framework.Contains(t, asRefused(s, sa, "get", "secrets"),
		`Error from server (Forbidden): secrets is forbidden: User "`+user+`" cannot list resource "secrets" in API group "" in the namespace "`+s.Namespace+`"`)
	framework.Contains(t, asRefused(s, sa, "get", "secret", "db"),
		`secrets "db" is forbidden: User "`+user+`" cannot get resource "secrets" in API group "" in the namespace "`+s.Namespace+`"`)
	r := as(s, sa, "auth", "can-i", "list", "secrets")
	if r.Stdout != "no\n" {
		t.Errorf("can-i list secrets: %q", r.Stdout)
	}
	whoami := asOK(s, sa, "auth", "whoami")
	framework.Matches(t, whoami, `(?m)^Username\s+`+regexp.QuoteMeta(user)+`$`)
	framework.Contains(t, whoami, "authentication.kubernetes.io/pod-name", "[app]")
	// Service accounts may read the issuer's discovery document.
	framework.Contains(t, asOK(s, sa, "get", "--raw", "/.well-known/openid-configuration"), `"issuer"`)
}

// Anonymous callers read health and version only; the CA and the join path
// stay open to joining nodes.
func TestRBACAnonymousAndJoin(t *testing.T) {
	base := fmt.Sprintf("https://127.0.0.1:%d", cluster.Port)
	caPEM, err := os.ReadFile(filepath.Join(cluster.DataDir, "server", "tls", "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	call := func(method, path, token, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(data)
	}
	for _, p := range []string{"/healthz", "/livez", "/readyz", "/version", "/readyz/etcd"} {
		want := http.StatusOK
		if p == "/readyz/etcd" {
			want = http.StatusForbidden // system:monitoring's, not everyone's
		}
		if code, body := call("GET", p, "", ""); code != want {
			t.Errorf("anonymous GET %s: %d %s", p, code, body)
		}
	}
	status := func(body string) metav1.Status {
		var st metav1.Status
		_ = json.Unmarshal([]byte(body), &st)
		return st
	}
	code, body := call("GET", "/api/v1/namespaces", "", "")
	if st := status(body); code != http.StatusForbidden || st.Reason != metav1.StatusReasonForbidden ||
		st.Message != `namespaces is forbidden: User "system:anonymous" cannot list resource "namespaces" in API group "" at the cluster scope` {
		t.Errorf("anonymous list of namespaces: %d %s", code, body)
	}
	if code, body = call("GET", "/api", "", ""); code != http.StatusForbidden || status(body).Message != `forbidden: User "system:anonymous" cannot get path "/api"` {
		t.Errorf("anonymous discovery: %d %s", code, body)
	}
	if code, body = call("GET", "/cacerts", "", ""); code != http.StatusOK || !bytes.Equal([]byte(body), caPEM) {
		t.Errorf("/cacerts: %d", code)
	}

	// The join token fetches node credentials and nothing else.
	joinToken, err := os.ReadFile(filepath.Join(cluster.DataDir, "server", "node-token"))
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(joinToken))
	if code, body = call("POST", "/v1-minik8s/node-credentials", token, `{"nodeName":"joiner"}`); code != http.StatusOK || !strings.Contains(body, "BEGIN CERTIFICATE") {
		t.Errorf("join with the token: %d %s", code, body)
	}
	if code, _ = call("POST", "/v1-minik8s/node-credentials", "", `{"nodeName":"joiner"}`); code != http.StatusForbidden {
		t.Errorf("join without the token: %d", code)
	}
	if code, body = call("GET", "/api/v1/secrets", token, ""); code != http.StatusForbidden {
		t.Errorf("the join token lists secrets: %d %s", code, body)
	}
}

// A node's credentials read only the Secrets of pods bound to it, and write
// only its own Node.
func TestRBACNodeCredentials(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	podOn := func(name, node, secret string) string {
		return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: %s
spec:
  nodeName: %s
  containers:
  - name: c
    image: busybox
    env:
    - name: PW
      valueFrom:
        secretKeyRef: {name: %s, key: pw}
`, name, node, secret)
	}
	s.Run("create", "secret", "generic", "mine", "--from-literal=pw=1")
	s.Run("create", "secret", "generic", "theirs", "--from-literal=pw=2")
	s.Apply(podOn("on-n1", "e2e-node-1", "mine"))
	s.Apply(podOn("on-n2", "e2e-node-2", "theirs"))
	node := userKubeconfig(t, cluster, "system:node:e2e-node-1", "system:nodes")

	framework.Contains(t, asOK(s, node, "get", "secret", "mine", "-o", "jsonpath={.data.pw}"), "MQ==")
	framework.Contains(t, asRefused(s, node, "get", "secret", "theirs"),
		`Error from server (Forbidden): secrets "theirs" is forbidden: User "system:node:e2e-node-1" cannot get resource "secrets" in API group "" in the namespace "`+s.Namespace+`": no relationship found between node 'e2e-node-1' and this object`)
	framework.Contains(t, asRefused(s, node, "get", "secrets"), `cannot list resource "secrets"`)
	asOK(s, node, "get", "pod", "on-n1")
	framework.Contains(t, asRefused(s, node, "get", "pod", "on-n2"), "no relationship found between node 'e2e-node-1' and this object")
	framework.Contains(t, asOK(s, node, "get", "pods", "-A", "--field-selector", "spec.nodeName=e2e-node-1", "-o", "name"), "pod/on-n1")
	framework.Contains(t, asRefused(s, node, "get", "pods", "-A"), "can only list/watch pods with spec.nodeName field selector")

	nodeObject := func(name string) string {
		return "apiVersion: v1\nkind: Node\nmetadata:\n  name: " + name + "\n"
	}
	r := s.DoIn(nodeObject("e2e-node-2"), "--kubeconfig", node, "create", "-f", "-")
	if r.Code == 0 || !strings.Contains(r.Stderr, `nodes "e2e-node-2" is forbidden: node "e2e-node-1" is not allowed to modify node "e2e-node-2"`) {
		t.Errorf("a node registered another: %d %s", r.Code, r.Stderr)
	}
	r = s.DoIn(nodeObject("e2e-node-1"), "--kubeconfig", node, "create", "-f", "-")
	if r.Code != 0 {
		t.Errorf("a node could not register itself: %s", r.Stderr)
	}
	t.Cleanup(func() { s.Do("delete", "node", "e2e-node-1") })
	framework.Contains(t, asRefused(s, node, "label", "node", "e2e-node-1", "node-role.kubernetes.io/control-plane=true"),
		`is not allowed to modify labels: node-role.kubernetes.io/control-plane`)
	framework.Contains(t, asRefused(s, node, "delete", "pod", "on-n2"),
		`pods "on-n2" is forbidden: node "e2e-node-1" can only delete pods with spec.nodeName set to itself`)
}

// ClusterRoles labelled for aggregation add their rules to admin, edit and
// view as soon as they appear.
func TestRBACAggregation(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	s.Apply(`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: e2e-podtemplate-reader
  labels:
    rbac.authorization.k8s.io/aggregate-to-view: "true"
rules:
- apiGroups: [""]
  resources: ["podtemplates"]
  verbs: ["get", "list", "watch"]
`)
	t.Cleanup(func() { s.Do("delete", "clusterrole", "e2e-podtemplate-reader") })
	s.Run("create", "rolebinding", "carol-view", "--clusterrole=view", "--user=carol")
	for _, role := range []string{"view", "edit", "admin"} {
		framework.Eventually(t, 10*time.Second, func() error {
			out := s.Run("get", "clusterrole", role, "-o", "jsonpath={.rules[*].resources}")
			if !strings.Contains(out, "podtemplates") {
				return errf("%s lacks the aggregated rule: %s", role, out)
			}
			return nil
		})
	}
	framework.Contains(t, s.Run("auth", "can-i", "list", "podtemplates", "--as", "carol"), "yes")
	s.Run("delete", "clusterrole", "e2e-podtemplate-reader")
	framework.Eventually(t, 10*time.Second, func() error {
		if out := s.Run("get", "clusterrole", "view", "-o", "jsonpath={.rules[*].resources}"); strings.Contains(out, "podtemplates") {
			return errf("view keeps the rule of a deleted role")
		}
		return nil
	})
}

// The bootstrap policy is restored at start, except where an administrator
// opted out with rbac.authorization.kubernetes.io/autoupdate=false.
func TestRBACBootstrapPolicyReconciledAtStart(t *testing.T) {
	c, err := framework.Start(framework.Options{Args: []string{"--disable-agent"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Destroy()
	s := framework.NewSession(t, c, framework.KubectlPath(t, ""))
	s.Run("patch", "clusterrole", "system:basic-user", "--type=json", `-p=[{"op":"remove","path":"/rules/1"}]`)
	s.Run("patch", "clusterrole", "system:heapster", "--type=json", `-p=[{"op":"remove","path":"/rules/1"}]`)
	s.Run("annotate", "clusterrole", "system:heapster", "--overwrite", "rbac.authorization.kubernetes.io/autoupdate=false")
	s.Run("delete", "clusterrolebinding", "system:discovery")
	if err := c.Restart(); err != nil {
		t.Fatal(err)
	}
	framework.Contains(t, s.Run("get", "clusterrole", "system:basic-user", "-o", "jsonpath={.rules[*].resources}"), "selfsubjectreviews")
	s.Run("get", "clusterrolebinding", "system:discovery")
	if out := s.Run("get", "clusterrole", "system:heapster", "-o", "jsonpath={.rules[*].apiGroups}"); strings.Contains(out, "extensions") {
		t.Errorf("a role marked autoupdate=false was reconciled: %s", out)
	}
}

// With --anonymous-auth=false a request without credentials is a 401, even
// for /healthz; the CA stays readable for joining nodes.
func TestRBACAnonymousAuthOff(t *testing.T) {
	c, err := framework.Start(framework.Options{Args: []string{"--disable-agent", "--anonymous-auth=false"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Destroy()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	for path, want := range map[string]int{"/healthz": 401, "/version": 401, "/api/v1/namespaces": 401, "/cacerts": 200} {
		resp, err := client.Get(fmt.Sprintf("https://127.0.0.1:%d%s", c.Port, path))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d %s, want %d", path, resp.StatusCode, body, want)
		}
	}
	s := framework.NewSession(t, c, framework.KubectlPath(t, ""))
	framework.Contains(t, s.Run("get", "--raw", "/healthz"), "ok")
}
