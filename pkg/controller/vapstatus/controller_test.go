package vapstatus

import (
	"context"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
)

type fixedChecker []admissionregistrationv1.ExpressionWarning

func (f fixedChecker) Check(*admissionregistrationv1.ValidatingAdmissionPolicy) []admissionregistrationv1.ExpressionWarning {
	return f
}

func TestNeedsCheck(t *testing.T) {
	p := &admissionregistrationv1.ValidatingAdmissionPolicy{ObjectMeta: metav1.ObjectMeta{Generation: 2}}
	if !NeedsCheck(p) {
		t.Error("a generation never checked needs a check")
	}
	p.Status.ObservedGeneration = 2
	if NeedsCheck(p) {
		t.Error("a checked generation was checked again")
	}
}

func TestANewGenerationGetsItsWarningsAndObservedGeneration(t *testing.T) {
	p := &admissionregistrationv1.ValidatingAdmissionPolicy{ObjectMeta: metav1.ObjectMeta{Name: "replicas", Generation: 3}}
	client := fake.NewClientset(p)
	f := informers.NewSharedInformerFactory(client, 0)
	warn := admissionregistrationv1.ExpressionWarning{FieldRef: "spec.validations[0].expression", Warning: "undefined field 'replica'"}
	c, err := New(Config{Client: client, Policies: f.Admissionregistration().V1().ValidatingAdmissionPolicies(), Checker: fixedChecker{warn}, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	_ = f.Admissionregistration().V1().ValidatingAdmissionPolicies().Informer().GetIndexer().Add(p)
	if err := c.Sync(context.Background(), "replicas"); err != nil {
		t.Fatal(err)
	}
	var patched bool
	for _, a := range client.Actions() {
		if a.GetVerb() == "patch" && a.GetSubresource() == "status" {
			patched = true
		}
	}
	if !patched {
		t.Fatalf("actions = %v, want a status apply", client.Actions())
	}
}
