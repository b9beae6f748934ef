package flowcontrol

import (
	"context"
	"reflect"
	"testing"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPriorityLevelDefaultsAndTable(t *testing.T) {
	pl := &flowcontrolv1.PriorityLevelConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "workload"}, Spec: flowcontrolv1.PriorityLevelConfigurationSpec{
		Type: flowcontrolv1.PriorityLevelEnablementLimited, Limited: &flowcontrolv1.LimitedPriorityLevelConfiguration{
			LimitResponse: flowcontrolv1.LimitResponse{Type: flowcontrolv1.LimitResponseTypeQueue, Queuing: &flowcontrolv1.QueuingConfiguration{}}}}}
	r := PriorityLevelConfigurations()
	r.Strategy.Default(pl)
	if errs := r.Strategy.Validate(context.Background(), pl); len(errs) != 0 {
		t.Fatalf("refused: %v", errs)
	}
	cells, _ := r.Table.Row(pl)
	want := []interface{}{"workload", "Limited", int64(30), int64(64), int64(8), int64(50), "<unknown>"}
	if !reflect.DeepEqual(cells, want) {
		t.Errorf("cells %#v, want %#v", cells, want)
	}
	exempt := &flowcontrolv1.PriorityLevelConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "x"}, Spec: flowcontrolv1.PriorityLevelConfigurationSpec{
		Type: flowcontrolv1.PriorityLevelEnablementExempt}}
	if errs := r.Strategy.Validate(context.Background(), exempt); len(errs) != 1 || errs[0].Field != "spec.type" {
		t.Errorf("an exempt level not named exempt: %v", errs)
	}
}

func TestFlowSchemas(t *testing.T) {
	fs := &flowcontrolv1.FlowSchema{ObjectMeta: metav1.ObjectMeta{Name: "mine"}, Spec: flowcontrolv1.FlowSchemaSpec{
		PriorityLevelConfiguration: flowcontrolv1.PriorityLevelConfigurationReference{Name: "workload"}}}
	r := FlowSchemas()
	r.Strategy.Default(fs)
	if fs.Spec.MatchingPrecedence != 1000 {
		t.Errorf("precedence %d, want 1000", fs.Spec.MatchingPrecedence)
	}
	fs.Spec.MatchingPrecedence = 1
	fs.Spec.Rules = []flowcontrolv1.PolicyRulesWithSubjects{{}}
	var got []string
	for _, e := range r.Strategy.Validate(context.Background(), fs) {
		got = append(got, e.Field)
	}
	if !reflect.DeepEqual(got, []string{"spec.matchingPrecedence", "spec.rules[0].subjects", "spec.rules[0]"}) {
		t.Errorf("errors at %v", got)
	}
	cells, _ := r.Table.Row(fs)
	if cells[3] != "<none>" || cells[5] != "?" {
		t.Errorf("cells %v", cells)
	}
}

func TestMandatoryConfigurationIsValid(t *testing.T) {
	for _, obj := range MandatoryConfiguration() {
		var errs []string
		switch o := obj.(type) {
		case *flowcontrolv1.PriorityLevelConfiguration:
			for _, e := range validatePriorityLevelSpec(o.Name, &o.Spec) {
				errs = append(errs, e.Error())
			}
		case *flowcontrolv1.FlowSchema:
			for _, e := range validateFlowSchemaSpec(o.Name, &o.Spec) {
				errs = append(errs, e.Error())
			}
		}
		if len(errs) > 0 {
			t.Errorf("%T %v: %v", obj, obj.(metav1.Object).GetName(), errs)
		}
	}
}
