package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

const e2eAuditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
rules:
- level: None
  nonResourceURLs: ["/readyz*", "/healthz*", "/livez*"]
- level: None
  users: ["system:minik8s-controller"]
- level: Metadata
  resources: [{group: "", resources: ["secrets"]}]
- level: RequestResponse
  resources: [{group: "", resources: ["configmaps"]}]
- level: Metadata
`

// readAudit returns the events of the log so far.
func readAudit(t *testing.T, path string) []auditv1.Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []auditv1.Event
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	for sc.Scan() {
		var ev auditv1.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("audit line is not an Event: %v\n%s", err, sc.Text())
		}
		if ev.APIVersion != "audit.k8s.io/v1" || ev.Kind != "Event" {
			t.Fatalf("audit line has apiVersion %q kind %q", ev.APIVersion, ev.Kind)
		}
		out = append(out, ev)
	}
	return out
}

func findEvent(evs []auditv1.Event, verb, resource, name string, stage auditv1.Stage) *auditv1.Event {
	for i := range evs {
		e := &evs[i]
		if e.Verb == verb && e.Stage == stage && e.ObjectRef != nil && e.ObjectRef.Resource == resource && e.ObjectRef.Name == name {
			return e
		}
	}
	return nil
}

// kubectl create and get show up in the audit log at the policy's levels, with
// the authorizer's decision; a forbidden request is recorded as one.
func TestAuditLogRecordsKubectlRequestsAtThePolicysLevels(t *testing.T) {
	dir := t.TempDir()
	policy := filepath.Join(dir, "policy.yaml")
	logPath := filepath.Join(dir, "audit.log")
	if err := os.WriteFile(policy, []byte(e2eAuditPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := framework.Start(framework.Options{Args: []string{"--disable-agent", "--audit-policy-file", policy, "--audit-log-path", logPath}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Destroy()
	s := framework.NewSession(t, c, framework.KubectlPath(t, ""))
	s.Run("create", "configmap", "audited", "--from-literal=k=visible")
	s.Run("get", "configmap", "audited")
	s.Run("create", "secret", "generic", "hidden", "--from-literal=k=not-in-the-log")
	s.Run("get", "secret", "hidden")
	r := s.Do("get", "pods", "--as", "nobody")
	if r.Code == 0 {
		t.Fatal("an unbound user listed pods")
	}

	var evs []auditv1.Event
	framework.Eventually(t, 10*time.Second, func() error {
		evs = readAudit(t, logPath)
		if findEvent(evs, "list", "pods", "", auditv1.StageResponseComplete) == nil {
			return os.ErrNotExist
		}
		return nil
	})
	create := findEvent(evs, "create", "configmaps", "", auditv1.StageResponseComplete)
	if create == nil {
		t.Fatal("no ResponseComplete event for the configmap create")
	}
	if create.Level != auditv1.LevelRequestResponse || create.ResponseStatus.Code != 201 || create.User.Username != "system:admin" {
		t.Fatalf("create event: level %s code %d user %s", create.Level, create.ResponseStatus.Code, create.User.Username)
	}
	if create.RequestObject == nil || !strings.Contains(string(create.RequestObject.Raw), `"visible"`) ||
		create.ResponseObject == nil || !strings.Contains(string(create.ResponseObject.Raw), `"uid"`) {
		line, _ := json.Marshal(create)
		t.Fatalf("the RequestResponse event lacks the request or response body: %s", line)
	}
	if create.Annotations["authorization.k8s.io/decision"] != "allow" {
		t.Fatalf("annotations %v", create.Annotations)
	}
	if create.ObjectRef.Namespace != s.Namespace || create.ObjectRef.APIVersion != "v1" {
		t.Fatalf("objectRef %+v", create.ObjectRef)
	}
	if received := findEvent(evs, "create", "configmaps", "", auditv1.StageRequestReceived); received == nil || received.AuditID != create.AuditID {
		t.Fatal("no RequestReceived event with the same audit ID")
	}
	if findEvent(evs, "get", "configmaps", "audited", auditv1.StageResponseComplete) == nil {
		t.Fatal("no event for kubectl get configmap")
	}
	secret := findEvent(evs, "create", "secrets", "", auditv1.StageResponseComplete)
	if secret == nil || secret.Level != auditv1.LevelMetadata || secret.RequestObject != nil || secret.ResponseObject != nil {
		t.Fatalf("secret create event %+v, want Metadata without bodies", secret)
	}
	if data, _ := os.ReadFile(logPath); strings.Contains(string(data), "not-in-the-log") || strings.Contains(string(data), "bm90LWluLXRoZS1sb2c") {
		t.Fatal("the Secret's value is in the audit log")
	}
	forbidden := findEvent(evs, "list", "pods", "", auditv1.StageResponseComplete)
	if forbidden.ResponseStatus.Code != 403 || forbidden.Annotations["authorization.k8s.io/decision"] != "forbid" ||
		forbidden.ImpersonatedUser == nil || forbidden.ImpersonatedUser.Username != "nobody" {
		t.Fatalf("forbidden event: code %d annotations %v impersonated %v", forbidden.ResponseStatus.Code, forbidden.Annotations, forbidden.ImpersonatedUser)
	}
	for _, e := range evs {
		if e.User.Username == "system:minik8s-controller" {
			t.Fatal("a request the policy gives None was recorded")
		}
	}
}
