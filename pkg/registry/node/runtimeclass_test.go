package node

import (
	"context"
	"testing"

	nodev1 "k8s.io/api/node/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestRuntimeClassHandlers(t *testing.T) {
	r := RuntimeClasses()
	good := &nodev1.RuntimeClass{ObjectMeta: metav1.ObjectMeta{Name: "gvisor"}, Handler: "runsc"}
	if errs := r.Strategy.Validate(context.Background(), good); len(errs) != 0 {
		t.Errorf("a DNS-label handler refused: %v", errs)
	}
	bad := &nodev1.RuntimeClass{ObjectMeta: metav1.ObjectMeta{Name: "x"}, Handler: "Run_SC"}
	if errs := r.Strategy.Validate(context.Background(), bad); len(errs) != 1 || errs[0].Field != "handler" {
		t.Errorf("an invalid handler: %v", errs)
	}
	changed := good.DeepCopy()
	changed.Handler = "runc"
	if errs := r.Strategy.ValidateUpdate(context.Background(), changed, good); len(errs) != 1 {
		t.Errorf("changing the handler: %v, want it immutable", errs)
	}
}
