package sim

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestNewLeaseIsTheKubeletsLease(t *testing.T) {
	now := time.Unix(1_000_000, 123_456_789)
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "sim-7", UID: "u7"}}
	l := newLease(node, 40*time.Second, now)
	switch {
	case l.Name != "sim-7" || l.Namespace != "kube-node-lease":
		t.Errorf("lease is %s/%s", l.Namespace, l.Name)
	case *l.Spec.HolderIdentity != "sim-7" || *l.Spec.LeaseDurationSeconds != 40:
		t.Errorf("holder %s, duration %d", *l.Spec.HolderIdentity, *l.Spec.LeaseDurationSeconds)
	case !leaseRenewed(l).Equal(now):
		t.Errorf("renewed %s", leaseRenewed(l))
	case len(l.OwnerReferences) != 1 || l.OwnerReferences[0].Kind != "Node" || l.OwnerReferences[0].UID != "u7":
		t.Errorf("owners %v", l.OwnerReferences)
	case l.Labels[LabelSimulated] != "true":
		t.Errorf("labels %v", l.Labels)
	}
	if !leaseRenewed(nil).IsZero() {
		t.Error("no lease was renewed at some time")
	}
}
