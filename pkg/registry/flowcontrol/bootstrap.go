package flowcontrol

import (
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// autoUpdateAnnotation marks configuration the server owns and may rewrite.
const autoUpdateAnnotation = "apf.kubernetes.io/autoupdate-spec"

// MandatoryConfiguration is the configuration every server keeps, as upstream
// does: the exempt level for system:masters and the catch-all level for
// everyone else, priority levels first so the schemas find them.
func MandatoryConfiguration() []runtime.Object {
	meta := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Annotations: map[string]string{autoUpdateAnnotation: "true"}}
	}
	zero, five := int32(0), int32(5)
	everything := func(groups ...string) []flowcontrolv1.PolicyRulesWithSubjects {
		r := flowcontrolv1.PolicyRulesWithSubjects{
			ResourceRules: []flowcontrolv1.ResourcePolicyRule{{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"},
				ClusterScope: true, Namespaces: []string{"*"}}},
			NonResourceRules: []flowcontrolv1.NonResourcePolicyRule{{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}}},
		}
		for _, g := range groups {
			r.Subjects = append(r.Subjects, flowcontrolv1.Subject{Kind: flowcontrolv1.SubjectKindGroup, Group: &flowcontrolv1.GroupSubject{Name: g}})
		}
		return []flowcontrolv1.PolicyRulesWithSubjects{r}
	}
	return []runtime.Object{
		&flowcontrolv1.PriorityLevelConfiguration{ObjectMeta: meta(flowcontrolv1.PriorityLevelConfigurationNameExempt),
			Spec: flowcontrolv1.PriorityLevelConfigurationSpec{Type: flowcontrolv1.PriorityLevelEnablementExempt,
				Exempt: &flowcontrolv1.ExemptPriorityLevelConfiguration{NominalConcurrencyShares: &zero, LendablePercent: &zero}}},
		&flowcontrolv1.PriorityLevelConfiguration{ObjectMeta: meta(flowcontrolv1.PriorityLevelConfigurationNameCatchAll),
			Spec: flowcontrolv1.PriorityLevelConfigurationSpec{Type: flowcontrolv1.PriorityLevelEnablementLimited,
				Limited: &flowcontrolv1.LimitedPriorityLevelConfiguration{NominalConcurrencyShares: &five, LendablePercent: &zero,
					LimitResponse: flowcontrolv1.LimitResponse{Type: flowcontrolv1.LimitResponseTypeReject}}}},
		&flowcontrolv1.FlowSchema{ObjectMeta: meta(flowcontrolv1.FlowSchemaNameExempt), Spec: flowcontrolv1.FlowSchemaSpec{
			PriorityLevelConfiguration: flowcontrolv1.PriorityLevelConfigurationReference{Name: flowcontrolv1.PriorityLevelConfigurationNameExempt},
			MatchingPrecedence:         1, Rules: everything("system:masters")}},
		&flowcontrolv1.FlowSchema{ObjectMeta: meta(flowcontrolv1.FlowSchemaNameCatchAll), Spec: flowcontrolv1.FlowSchemaSpec{
			PriorityLevelConfiguration: flowcontrolv1.PriorityLevelConfigurationReference{Name: flowcontrolv1.PriorityLevelConfigurationNameCatchAll},
			MatchingPrecedence:         10000, DistinguisherMethod: &flowcontrolv1.FlowDistinguisherMethod{Type: flowcontrolv1.FlowDistinguisherMethodByUserType},
			Rules: everything("system:unauthenticated", "system:authenticated")}},
	}
}
