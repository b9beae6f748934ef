package sim

import (
	"context"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// syncNode is one heartbeat of a simulated node: renew its lease and report its
// status when their slots have come, then wait for the next slot. A failed node
// does nothing until it recovers (an update of the node brings it back here).
func (c *Controller) syncNode(ctx context.Context, name string) error {
	node, err := c.nodes.Get(name)
	if apierrors.IsNotFound(err) {
		return c.forgetNode(ctx, name)
	}
	if err != nil {
		return err
	}
	if failed(node) {
		return nil
	}
	now := time.Now()
	renew := c.cfg.LeaseRenewInterval
	due, next := beatDue(leaseRenewed(c.lease(name)), now, renew, phaseOf(name, renew), time.Microsecond)
	if due {
		if err := c.renew(ctx, node, now); err != nil {
			return fmt.Errorf("renew lease: %w", err)
		}
	}
	report := c.cfg.StatusReportInterval
	due, nextStatus := nodeStatusDue(node, now, report, phaseOf(name, report))
	if due {
		n := node.DeepCopy()
		n.Status.Conditions = healthyConditions(n.Status.Conditions, now)
		_, err := c.client.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
		if err != nil && !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
			return fmt.Errorf("update node status: %w", err)
		}
		// On a conflict the newer node is on its way and brings the node back here.
	}
	if nextStatus.Before(next) {
		next = nextStatus
	}
	c.queue.AddAfter(name, next.Sub(now))
	return nil
}

func (c *Controller) lease(name string) *coordinationv1.Lease {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.leases[name]
}

func (c *Controller) setLease(name string, l *coordinationv1.Lease) {
	if l != nil {
		l.ManagedFields = nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if l == nil {
		delete(c.leases, name)
		return
	}
	c.leases[name] = l
}

// renew writes the lease, creating it the first time. The lease last written is
// kept, so a renewal is one update, with no read and no lease watch.
func (c *Controller) renew(ctx context.Context, node *corev1.Node, now time.Time) error {
	leases := c.client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	cur := c.lease(node.Name)
	if cur == nil {
		created, err := leases.Create(ctx, newLease(node, c.cfg.LeaseDuration, now), metav1.CreateOptions{})
		if err == nil {
			c.setLease(node.Name, created)
			return nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return err
		}
		if cur, err = leases.Get(ctx, node.Name, metav1.GetOptions{}); err != nil {
			return err
		}
	}
	l := cur.DeepCopy()
	renewLease(l, node.Name, c.cfg.LeaseDuration, now)
	updated, err := leases.Update(ctx, l, metav1.UpdateOptions{})
	if err != nil {
		// Someone else wrote or deleted it: read it afresh next time.
		c.setLease(node.Name, nil)
		return err
	}
	c.setLease(node.Name, updated)
	return nil
}

// forgetNode drops a deleted node's state and its lease (a garbage collector
// would too, through the owner reference, where one runs).
func (c *Controller) forgetNode(ctx context.Context, name string) error {
	if c.lease(name) == nil {
		return nil
	}
	err := c.client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Delete(ctx, name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete lease: %w", err)
	}
	c.setLease(name, nil)
	return nil
}
