package bootstrappolicy

import (
	"testing"

	"github.com/minik8s/minik8s/pkg/auth/authorizer"
	rbacauthorizer "github.com/minik8s/minik8s/pkg/auth/authorizer/rbac"
)

// The node's API asks for these subresources of its Node (see
// pkg/kubelet/server): system:kubelet-api-admin must reach all of them, and
// system:monitoring only the metrics.
func TestRolesForTheNodesAPI(t *testing.T) {
	rules := map[string]bool{}
	for _, r := range ClusterRoles() {
		for _, sub := range []string{"proxy", "metrics", "stats", "log", "pods", "healthz", "configz"} {
			for _, verb := range []string{"get", "create"} {
				a := authorizer.Attributes{Verb: verb, IsResource: true, Version: "v1", Resource: "nodes", Subresource: sub, Name: "n1"}
				if rbacauthorizer.RulesAllow(&a, r.Rules) {
					rules[r.Name+" "+verb+" "+sub] = true
				}
			}
		}
	}
	for _, sub := range []string{"proxy", "metrics", "stats", "log", "pods", "healthz", "configz"} {
		for _, verb := range []string{"get", "create"} {
			if !rules["system:kubelet-api-admin "+verb+" "+sub] {
				t.Errorf("system:kubelet-api-admin cannot %s nodes/%s", verb, sub)
			}
		}
	}
	if !rules["system:monitoring get metrics"] || rules["system:monitoring get proxy"] || rules["system:monitoring get stats"] {
		t.Errorf("system:monitoring should get nodes/metrics and nothing else of a node's API")
	}
	if rules["system:node get metrics"] || rules["system:node get proxy"] {
		t.Errorf("a node may not call other nodes' APIs")
	}
}
