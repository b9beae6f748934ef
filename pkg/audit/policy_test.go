package audit

import (
	"slices"
	"strings"
	"testing"

	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"

	"github.com/minik8s/minik8s/pkg/auth"
	"github.com/minik8s/minik8s/pkg/auth/authorizer"
)

const testPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: None
  users: ["system:kube-proxy"]
  verbs: ["watch"]
  resources: [{group: "", resources: ["endpoints", "services"]}]
- level: None
  userGroups: ["system:nodes"]
  verbs: ["get"]
  resources: [{group: "", resources: ["nodes"]}]
- level: None
  nonResourceURLs: ["/healthz*", "/version"]
- level: RequestResponse
  resources: [{group: "", resources: ["pods/log", "pods/status"]}]
- level: Metadata
  resources: [{group: "", resources: ["secrets", "configmaps"]}]
  omitStages: [ResponseStarted]
- level: Request
  resources: [{group: "apps", resources: ["deployments"], resourceNames: ["web"]}]
- level: Request
  resources: [{group: "", resources: ["*/scale"]}]
- level: Request
  resources: [{group: "batch", resources: ["jobs/*"]}]
- level: Metadata
  namespaces: ["kube-system"]
- level: Request
  verbs: ["create", "update", "patch", "delete"]
- level: Metadata
`

func res(user *auth.User, verb, group, resource, sub, ns, name string) *authorizer.Attributes {
	return &authorizer.Attributes{User: user, Verb: verb, IsResource: true, Group: group, Resource: resource, Subresource: sub, Namespace: ns, Name: name}
}

func path(user *auth.User, verb, p string) *authorizer.Attributes {
	return &authorizer.Attributes{User: user, Verb: verb, Path: p}
}

func TestPolicyPicksTheFirstMatchingRulesLevel(t *testing.T) {
	p, err := ParsePolicy([]byte(testPolicy))
	if err != nil {
		t.Fatal(err)
	}
	alice := &auth.User{Name: "alice", Groups: []string{"dev", auth.GroupAuthenticated}}
	proxy := &auth.User{Name: "system:kube-proxy"}
	node := &auth.User{Name: "system:node:n1", Groups: []string{"system:nodes"}}
	for _, tc := range []struct {
		name  string
		attrs *authorizer.Attributes
		want  auditv1.Level
	}{
		{"kube-proxy watching endpoints is not recorded", res(proxy, "watch", "", "endpoints", "", "", ""), auditv1.LevelNone},
		{"kube-proxy listing endpoints falls through to the catch-all", res(proxy, "list", "", "endpoints", "", "", ""), auditv1.LevelMetadata},
		{"a node getting nodes is matched by its group", res(node, "get", "", "nodes", "", "", "n1"), auditv1.LevelNone},
		{"a non-resource URL matches a prefix ending in a star", path(alice, "get", "/healthz/etcd"), auditv1.LevelNone},
		{"a non-resource URL matches exactly", path(alice, "get", "/version"), auditv1.LevelNone},
		{"a resource rule never matches a non-resource URL", path(alice, "get", "/metrics"), auditv1.LevelMetadata},
		{"a subresource is matched by resource/subresource", res(alice, "get", "", "pods", "log", "ns", "p"), auditv1.LevelRequestResponse},
		{"the resource alone does not match its subresources", res(alice, "get", "", "pods", "", "ns", "p"), auditv1.LevelMetadata},
		{"secrets are kept to metadata even when written", res(alice, "create", "", "secrets", "", "ns", "s"), auditv1.LevelMetadata},
		{"resourceNames limit the rule to those names", res(alice, "get", "apps", "deployments", "", "ns", "web"), auditv1.LevelRequest},
		{"another name does not match", res(alice, "get", "apps", "deployments", "", "ns", "api"), auditv1.LevelMetadata},
		{"the group must match too", res(alice, "get", "extensions", "deployments", "", "ns", "web"), auditv1.LevelMetadata},
		{"*/scale matches the scale subresource of any resource in the group", res(alice, "get", "", "replicationcontrollers", "scale", "ns", "r"), auditv1.LevelRequest},
		{"jobs/* matches every subresource of jobs", res(alice, "get", "batch", "jobs", "status", "ns", "j"), auditv1.LevelRequest},
		{"jobs/* matches jobs itself too, as upstream's checker does", res(alice, "get", "batch", "jobs", "", "ns", "j"), auditv1.LevelRequest},
		{"a namespace rule matches anything in the namespace", res(alice, "create", "", "pods", "", "kube-system", "p"), auditv1.LevelMetadata},
		{"a verb rule matches writes", res(alice, "delete", "", "pods", "", "ns", "p"), auditv1.LevelRequest},
		{"the last rule catches the rest", res(alice, "list", "", "pods", "", "ns", ""), auditv1.LevelMetadata},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := p.Evaluate(tc.attrs).Level; got != tc.want {
				t.Fatalf("level %s, want %s", got, tc.want)
			}
		})
	}
}

func TestPolicyOmitStagesAddTheRulesToThePolicys(t *testing.T) {
	p, err := ParsePolicy([]byte(testPolicy))
	if err != nil {
		t.Fatal(err)
	}
	u := &auth.User{Name: "alice"}
	got := p.Evaluate(res(u, "get", "", "secrets", "", "ns", "s")).OmitStages
	if !slices.Contains(got, auditv1.StageRequestReceived) || !slices.Contains(got, auditv1.StageResponseStarted) {
		t.Fatalf("omitStages %v, want RequestReceived and ResponseStarted", got)
	}
	if got := p.Evaluate(res(u, "get", "", "pods", "", "ns", "p")).OmitStages; !slices.Equal(got, []auditv1.Stage{auditv1.StageRequestReceived}) {
		t.Fatalf("omitStages %v, want the policy's only", got)
	}
}

func TestAPolicyWithoutMatchingRulesRecordsNothing(t *testing.T) {
	p, err := ParsePolicy([]byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n  users: [bob]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Evaluate(res(&auth.User{Name: "alice"}, "get", "", "pods", "", "ns", "p")).Level; got != auditv1.LevelNone {
		t.Fatalf("level %s, want None", got)
	}
}

func TestBadPoliciesAreRefused(t *testing.T) {
	for _, tc := range []struct{ name, data, want string }{
		{"an unknown level", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Everything\n", `Unsupported value: "Everything"`},
		{"an unknown stage", "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [Later]\nrules: []\n", `Unsupported value: "Later"`},
		{"resources and URLs in one rule", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  nonResourceURLs: [/x]\n  resources: [{resources: [pods]}]\n", "cannot apply to both"},
		{"a URL without a slash", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  nonResourceURLs: [healthz]\n", "must begin with a '/'"},
		{"the wrong kind", "apiVersion: audit.k8s.io/v1\nkind: Event\n", "expected apiVersion audit.k8s.io/v1 and kind Policy"},
		{"an unknown field", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrulez: []\n", "unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePolicy([]byte(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}
