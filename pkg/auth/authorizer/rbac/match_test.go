package rbac

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/minik8s/minik8s/pkg/auth/authorizer"
)

func res(verb, group, resource, sub, ns, name string) authorizer.Attributes {
	return authorizer.Attributes{Verb: verb, IsResource: true, Group: group, Resource: resource, Subresource: sub, Namespace: ns, Name: name}
}

func path(verb, p string) authorizer.Attributes {
	return authorizer.Attributes{Verb: verb, Path: p}
}

func rule(verbs, groups, resources []string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: verbs, APIGroups: groups, Resources: resources}
}

func l(s ...string) []string { return s }

func TestRuleAllows(t *testing.T) {
	named := rule(l("get", "update"), l(""), l("configmaps"))
	named.ResourceNames = l("kube-root-ca.crt", "settings")
	urls := func(verbs []string, u ...string) rbacv1.PolicyRule {
		return rbacv1.PolicyRule{Verbs: verbs, NonResourceURLs: u}
	}
	tests := []struct {
		name  string
		rule  rbacv1.PolicyRule
		attrs authorizer.Attributes
		want  bool
	}{
		{"an exact verb, group and resource match", rule(l("get"), l(""), l("pods")), res("get", "", "pods", "", "ns", "p"), true},
		{"another verb does not match", rule(l("get"), l(""), l("pods")), res("delete", "", "pods", "", "ns", "p"), false},
		{"the verb wildcard matches any verb, even a special one", rule(l("*"), l(""), l("pods")), res("escalate", "", "pods", "", "", ""), true},
		{"a rule for the core group does not match apps", rule(l("get"), l(""), l("deployments")), res("get", "apps", "deployments", "", "ns", "d"), false},
		{"the group wildcard matches every group", rule(l("get"), l("*"), l("deployments")), res("get", "apps", "deployments", "", "ns", "d"), true},
		{"the resource wildcard matches every resource", rule(l("list"), l("apps"), l("*")), res("list", "apps", "replicasets", "", "ns", ""), true},
		{"the resource wildcard matches subresources too", rule(l("get"), l(""), l("*")), res("get", "", "pods", "log", "ns", "p"), true},
		{"a resource does not cover its subresources", rule(l("get"), l(""), l("pods")), res("get", "", "pods", "log", "ns", "p"), false},
		{"a subresource does not cover its resource", rule(l("get"), l(""), l("pods/log")), res("get", "", "pods", "", "ns", "p"), false},
		{"resource/subresource matches that subresource", rule(l("get"), l(""), l("pods/log")), res("get", "", "pods", "log", "ns", "p"), true},
		{"resource/subresource does not match another resource's", rule(l("get"), l(""), l("pods/log")), res("get", "", "nodes", "log", "", "n"), false},
		{"*/subresource matches the subresource of any resource", rule(l("get"), l("*"), l("*/scale")), res("get", "apps", "deployments", "scale", "ns", "d"), true},
		{"*/subresource does not match the resource itself", rule(l("get"), l("*"), l("*/scale")), res("get", "apps", "deployments", "", "ns", "d"), false},
		{"*/subresource does not match a longer subresource", rule(l("get"), l("*"), l("*/scale")), res("get", "apps", "deployments", "rescale", "ns", "d"), false},
		{"resource names restrict the rule to those objects", named, res("get", "", "configmaps", "", "ns", "settings"), true},
		{"resource names refuse other objects", named, res("get", "", "configmaps", "", "ns", "other"), false},
		{"resource names refuse a request without a name", named, res("get", "", "configmaps", "", "ns", ""), false},
		{"a resource rule does not match a path", rule(l("get"), l("*"), l("*")), path("get", "/healthz"), false},
		{"an exact path matches", urls(l("get"), "/healthz"), path("get", "/healthz"), true},
		{"an exact path does not match a longer one", urls(l("get"), "/healthz"), path("get", "/healthz/etcd"), false},
		{"a trailing star matches the paths under it", urls(l("get"), "/healthz/*"), path("get", "/healthz/etcd"), true},
		{"a trailing star does not match the path without its slash", urls(l("get"), "/healthz/*"), path("get", "/healthz"), false},
		{"the path wildcard matches every path", urls(l("*"), "*"), path("post", "/anything/at/all"), true},
		{"a path rule checks the verb", urls(l("get"), "/metrics"), path("put", "/metrics"), false},
		{"a path rule does not match a resource request", urls(l("*"), "*"), res("get", "", "pods", "", "", ""), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RuleAllows(&tt.attrs, &tt.rule); got != tt.want {
				t.Errorf("RuleAllows = %v, want %v", got, tt.want)
			}
		})
	}
}
