package coordination

import (
	"context"
	"reflect"
	"testing"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestLeases(t *testing.T) {
	zero, minus := int32(0), int32(-1)
	holder := "node-1"
	l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "node-1", Namespace: "kube-node-lease"},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &zero, LeaseTransitions: &minus}}
	r := Leases()
	r.Strategy.PrepareForCreate(context.Background(), l)
	var got []string
	for _, e := range r.Strategy.Validate(context.Background(), l) {
		got = append(got, e.Field)
	}
	if !reflect.DeepEqual(got, []string{"spec.leaseDurationSeconds", "spec.leaseTransitions"}) {
		t.Errorf("errors at %v", got)
	}
	if l.Generation != 0 {
		t.Errorf("a lease got generation %d; upstream keeps none", l.Generation)
	}
	cells, _ := r.Table.Row(l)
	if cells[1] != "node-1" {
		t.Errorf("holder printed %v", cells[1])
	}
}

func TestCoordinatedElectionFieldsAreDropped(t *testing.T) {
	strategy := coordinationv1.OldestEmulationVersion
	l := &coordinationv1.Lease{Spec: coordinationv1.LeaseSpec{Strategy: &strategy}}
	Leases().Strategy.PrepareForCreate(context.Background(), l)
	if l.Spec.Strategy != nil {
		t.Error("strategy kept although the feature is off")
	}
}
