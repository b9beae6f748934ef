package webhook

import (
	"testing"

	admissionregv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/minik8s/minik8s/pkg/admission"
)

func rule(ops []admissionregv1.OperationType, groups, versions, resources []string, scope admissionregv1.ScopeType) admissionregv1.RuleWithOperations {
	r := admissionregv1.RuleWithOperations{Operations: ops, Rule: admissionregv1.Rule{APIGroups: groups, APIVersions: versions, Resources: resources}}
	if scope != "" {
		r.Scope = &scope
	}
	return r
}

var (
	create = []admissionregv1.OperationType{admissionregv1.Create}
	all    = []admissionregv1.OperationType{admissionregv1.OperationAll}
	star   = []string{"*"}
	core   = []string{""}
	v1     = []string{"v1"}
)

func TestRuleMatches(t *testing.T) {
	pods := target{version: "v1", resource: "pods", namespaced: true, op: admission.Create}
	podStatus := target{version: "v1", resource: "pods", subresource: "status", namespaced: true, op: admission.Update}
	nodes := target{version: "v1", resource: "nodes", op: admission.Create}
	namespaces := target{version: "v1", resource: "namespaces", op: admission.Create}
	deploys := target{group: "apps", version: "v1", resource: "deployments", namespaced: true, op: admission.Delete}
	for _, c := range []struct {
		name string
		rule admissionregv1.RuleWithOperations
		t    target
		want bool
	}{
		{"a rule naming the resource, group, version and operation matches", rule(create, core, v1, []string{"pods"}, ""), pods, true},
		{"a rule for another operation does not match", rule([]admissionregv1.OperationType{admissionregv1.Update}, core, v1, []string{"pods"}, ""), pods, false},
		{"the operation wildcard matches any operation", rule(all, star, star, star, ""), deploys, true},
		{"a rule for another group does not match", rule(all, []string{"apps"}, v1, []string{"pods"}, ""), pods, false},
		{"a rule for another version does not match", rule(all, core, []string{"v2"}, []string{"pods"}, ""), pods, false},
		{"a bare resource does not match its subresources", rule(all, core, v1, []string{"pods"}, ""), podStatus, false},
		{"resource/* matches its subresources", rule(all, core, v1, []string{"pods/*"}, ""), podStatus, true},
		{"*/status matches the status of any resource", rule(all, core, v1, []string{"*/status"}, ""), podStatus, true},
		{"* matches no subresource", rule(all, core, v1, star, ""), podStatus, false},
		{"*/* matches everything", rule(all, star, star, []string{"*/*"}, ""), podStatus, true},
		{"Namespaced scope does not match a cluster-scoped resource", rule(all, star, star, star, admissionregv1.NamespacedScope), nodes, false},
		{"Cluster scope matches a cluster-scoped resource", rule(all, star, star, star, admissionregv1.ClusterScope), nodes, true},
		{"Cluster scope does not match a namespaced resource", rule(all, star, star, star, admissionregv1.ClusterScope), pods, false},
		{"a namespace counts as cluster-scoped", rule(all, star, star, star, admissionregv1.ClusterScope), namespaces, true},
		{"the * scope matches both", rule(all, star, star, star, admissionregv1.AllScopes), pods, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := ruleMatches(c.rule, c.t); got != c.want {
				t.Errorf("ruleMatches = %v, want %v", got, c.want)
			}
		})
	}
}

func TestHookMatchesEquivalentVersions(t *testing.T) {
	hpaV2 := target{group: "autoscaling", version: "v2", resource: "horizontalpodautoscalers", namespaced: true, op: admission.Create}
	r := rule(all, []string{"autoscaling"}, v1, []string{"horizontalpodautoscalers"}, "")
	served := []string{"v1", "v2"}
	if !hookMatches(&hook{rules: []admissionregv1.RuleWithOperations{r}, equivalent: true}, hpaV2, served) {
		t.Error("with matchPolicy Equivalent, a rule for v1 should match the same resource in v2")
	}
	if hookMatches(&hook{rules: []admissionregv1.RuleWithOperations{r}}, hpaV2, served) {
		t.Error("with matchPolicy Exact, a rule for v1 should not match v2")
	}
}

func TestWebhooksAreNeverCalledForTheAdmissionConfigurationItself(t *testing.T) {
	for _, c := range []struct {
		group, resource string
		want            bool
	}{
		{"admissionregistration.k8s.io", "mutatingwebhookconfigurations", false},
		{"admissionregistration.k8s.io", "validatingwebhookconfigurations", false},
		{"admissionregistration.k8s.io", "validatingadmissionpolicies", false},
		{"admissionregistration.k8s.io", "validatingadmissionpolicybindings", false},
		{"authorization.k8s.io", "subjectaccessreviews", false},
		{"", "pods", true},
		{"apps", "deployments", true},
	} {
		got := HandlesResource(admission.Target{Resource: schema.GroupResource{Group: c.group, Resource: c.resource}})
		if got != c.want {
			t.Errorf("HandlesResource(%s.%s) = %v, want %v", c.resource, c.group, got, c.want)
		}
	}
}
