package sim

import (
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// newLease is the node's lease in kube-node-lease as a kubelet creates it: named
// after the node, held by it and owned by it (so the garbage collector removes it
// with the node), renewed now. It carries the simulated label so a restarted
// controller lists only its own leases.
func newLease(node *corev1.Node, duration time.Duration, now time.Time) *coordinationv1.Lease {
	l := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: node.Name, Namespace: corev1.NamespaceNodeLease,
			Labels:          map[string]string{LabelSimulated: "true"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID}}},
	}
	renewLease(l, node.Name, duration, now)
	return l
}

// renewLease sets what a renewal writes.
func renewLease(l *coordinationv1.Lease, holder string, duration time.Duration, now time.Time) {
	t := metav1.NewMicroTime(now)
	l.Spec.HolderIdentity = ptr.To(holder)
	l.Spec.LeaseDurationSeconds = ptr.To(int32(duration / time.Second))
	l.Spec.RenewTime = &t
}

// leaseRenewed is when the lease was last renewed (zero when never).
func leaseRenewed(l *coordinationv1.Lease) time.Time {
	if l == nil || l.Spec.RenewTime == nil {
		return time.Time{}
	}
	return l.Spec.RenewTime.Time
}
