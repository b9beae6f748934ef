package e2e

import (
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/minik8s/minik8s/test/e2e/framework"
)

// A policy whose expression names a field Deployments do not have gets a
// type-checking warning in its status, as upstream's status controller writes.
func TestAValidatingAdmissionPolicyIsTypeChecked(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	name := s.Namespace + "-replicas"
	s.Apply(`apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: ` + name + `
spec:
  matchConstraints:
    resourceRules:
    - apiGroups: [apps]
      apiVersions: [v1]
      operations: [CREATE, UPDATE]
      resources: [deployments]
  validations:
  - expression: "object.spec.replica > 1"
`)
	t.Cleanup(func() { s.Do("delete", "validatingadmissionpolicy", name, "--wait=false") })
	framework.Eventually(t, 30*time.Second, func() error {
		p := getJSON[admissionregistrationv1.ValidatingAdmissionPolicy](t, s, "validatingadmissionpolicy", name)
		if p.Status.ObservedGeneration != p.Generation || p.Status.TypeChecking == nil {
			return errf("status %+v", p.Status)
		}
		w := p.Status.TypeChecking.ExpressionWarnings
		if len(w) != 1 || w[0].FieldRef != "spec.validations[0].expression" || !strings.Contains(w[0].Warning, "undefined field 'replica'") {
			return errf("warnings %+v", w)
		}
		return nil
	})
}

// The default ServiceCIDR carries the controller's finalizer and is Ready.
func TestTheDefaultServiceCIDRIsProtectedAndReady(t *testing.T) {
	s := framework.NewSession(t, cluster, framework.KubectlPath(t, ""))
	framework.Eventually(t, 30*time.Second, func() error {
		sc := getJSON[networkingv1.ServiceCIDR](t, s, "servicecidr", "kubernetes")
		ready := meta.FindStatusCondition(sc.Status.Conditions, networkingv1.ServiceCIDRConditionReady)
		if len(sc.Finalizers) != 1 || sc.Finalizers[0] != "networking.k8s.io/service-cidr-finalizer" || ready == nil || ready.Status != "True" {
			return errf("finalizers %v conditions %+v", sc.Finalizers, sc.Status.Conditions)
		}
		return nil
	})
}
