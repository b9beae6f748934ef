package nodelifecycle

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/component-helpers/node/topology"
)

// monitorWorkers bounds the nodes looked at in parallel (marking pods not
// Ready is one write per pod).
const monitorWorkers = 8

// monitor is one health pass over every node: conditions of silent nodes go
// Unknown, pods of nodes that stop being Ready are marked not Ready, nodes are
// queued for (or cleared of) their NoExecute taint, and zone states set the
// tainting rates.
func (c *Controller) monitor(ctx context.Context) error {
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return fmt.Errorf("list nodes: %w", err)
	}
	c.classify(ctx, nodes)

	var mu sync.Mutex
	zoneReady := map[string][]*corev1.NodeCondition{}
	workqueue.ParallelizeUntil(ctx, monitorWorkers, len(nodes), func(i int) {
		node := nodes[i].DeepCopy()
		observed, current, ok := c.updateHealth(ctx, node)
		if !ok {
			return
		}
		if _, excluded := node.Labels[excludeDisruptionLabel]; !excluded {
			zone := topology.GetZoneKey(node)
			mu.Lock()
			zoneReady[zone] = append(zoneReady[zone], current)
			mu.Unlock()
		}
		if current == nil {
			c.retry.Delete(node.Name)
			return
		}
		c.taintForEviction(ctx, node, current)
		_, retry := c.retry.Load(node.Name)
		becameNotReady := current.Status != corev1.ConditionTrue && observed.Status == corev1.ConditionTrue
		if becameNotReady {
			c.recordNode(node, corev1.EventTypeNormal, "NodeNotReady", "NodeStatusChange", "Node %s status is now: %s", node.Name, "NodeNotReady")
		}
		if becameNotReady || retry && observed.Status != corev1.ConditionTrue {
			if err := c.markPodsNotReady(ctx, c.podsOn(node.Name), node.Name); err != nil {
				c.log.Info("marking pods not ready failed, will retry", "node", node.Name, "err", err)
				c.retry.Store(node.Name, true)
				return
			}
		}
		c.retry.Delete(node.Name)
	})
	c.handleDisruption(ctx, zoneReady, nodes)
	return nil
}

// classify notes nodes that appeared or went since the last pass and makes
// sure every zone has a tainting queue.
func (c *Controller) classify(ctx context.Context, nodes []*corev1.Node) {
	seen := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		seen[n.Name] = true
		c.ensureZone(n)
		if _, ok := c.known[n.Name]; ok {
			continue
		}
		c.known[n.Name] = n
		c.recordNode(n, corev1.EventTypeNormal, "RegisteredNode", "Register", "Node %s event: Registered Node %s in Controller", n.Name, n.Name)
		c.markReachable(ctx, n)
	}
	for name, n := range c.known {
		if seen[name] {
			continue
		}
		delete(c.known, name)
		c.healthMu.Lock()
		delete(c.health, name)
		c.healthMu.Unlock()
		c.recordNode(n, corev1.EventTypeNormal, "RemovingNode", "Remove", "Node %s event: Removing Node %s from Controller", name, name)
	}
}

// ensureZone creates the tainting queue of a node's zone the first time the
// zone is seen; it starts at the normal rate.
func (c *Controller) ensureZone(n *corev1.Node) {
	zone := topology.GetZoneKey(n)
	c.zonesMu.Lock()
	defer c.zonesMu.Unlock()
	if _, ok := c.tainters[zone]; !ok {
		c.tainters[zone] = newZoneTainter(c.rates.Normal, c.clock)
		c.zoneStates[zone] = stateInitial
	}
}

func (c *Controller) tainter(n *corev1.Node) *zoneTainter {
	c.zonesMu.Lock()
	defer c.zonesMu.Unlock()
	return c.tainters[topology.GetZoneKey(n)]
}

// updateHealth assesses a node and stores conditions it took over; ok is false
// when the node could not be updated (it is then skipped this pass).
func (c *Controller) updateHealth(ctx context.Context, node *corev1.Node) (observed corev1.NodeCondition, current *corev1.NodeCondition, ok bool) {
	for attempt := 0; ; attempt++ {
		lease, _ := c.leases.Leases(corev1.NamespaceNodeLease).Get(node.Name)
		a := assess(c.healthOf(node.Name), node, lease, c.clock.Now(), c.cfg.MonitorGracePeriod, c.cfg.StartupGracePeriod)
		if !a.write {
			c.setHealth(node.Name, a.next)
			return a.observed, a.current, true
		}
		updated, err := c.cfg.Client.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{})
		if err == nil {
			a.afterWrite.status = &updated.Status
			c.setHealth(node.Name, a.afterWrite)
			return a.observed, findCondition(&updated.Status, corev1.NodeReady), true
		}
		c.setHealth(node.Name, a.next)
		if attempt >= 4 || !apierrors.IsConflict(err) {
			c.log.Info("could not mark a silent node's conditions Unknown; no pods are evicted from it this pass", "node", node.Name, "err", err)
			return observed, nil, false
		}
		fresh, err := c.cfg.Client.CoreV1().Nodes().Get(ctx, node.Name, metav1.GetOptions{})
		if err != nil {
			return observed, nil, false
		}
		node = fresh
	}
}

// taintForEviction queues a not-Ready node for its NoExecute taint (or swaps
// the one it has when Ready changed between False and Unknown), and clears a
// Ready one.
func (c *Controller) taintForEviction(ctx context.Context, node *corev1.Node, ready *corev1.NodeCondition) {
	want, opposite, notReady := noExecuteFor(ready.Status)
	if !notReady {
		c.markReachable(ctx, node)
		return
	}
	if hasTaint(node.Spec.Taints, opposite) {
		if err := c.updateTaints(ctx, node.Name, node, []corev1.Taint{want}, []corev1.Taint{opposite}); err != nil {
			c.log.Info("could not swap the node's NoExecute taint, will retry", "node", node.Name, "err", err)
		}
		return
	}
	z := c.tainter(node)
	if z == nil {
		return
	}
	if !hasTaint(node.Spec.Taints, want) {
		// Queued afresh until the taint is on.
		z.remove(node.Name)
	}
	z.add(node.Name)
}

// markReachable removes the NoExecute taints of a node and takes it out of its
// zone's queue.
func (c *Controller) markReachable(ctx context.Context, node *corev1.Node) {
	if err := c.updateTaints(ctx, node.Name, node, nil, []corev1.Taint{unreachableNoExecute, notReadyNoExecute}); err != nil {
		c.log.Info("could not remove a node's NoExecute taints, will retry", "node", node.Name, "err", err)
		return
	}
	if z := c.tainter(node); z != nil {
		z.remove(node.Name)
	}
}

// taintPass lets each zone taint the nodes it may at its rate.
func (c *Controller) taintPass(ctx context.Context) {
	c.zonesMu.Lock()
	zones := make([]*zoneTainter, 0, len(c.tainters))
	for _, z := range c.tainters {
		zones = append(zones, z)
	}
	c.zonesMu.Unlock()
	for _, z := range zones {
		z.try(func(name string) (bool, time.Duration) {
			node, err := c.nodes.Get(name)
			if apierrors.IsNotFound(err) {
				return true, 0
			}
			if err != nil {
				return false, retryTaint
			}
			ready := findCondition(&node.Status, corev1.NodeReady)
			if ready == nil {
				return false, retryTaint
			}
			want, opposite, notReady := noExecuteFor(ready.Status)
			if !notReady {
				// Ready again by now: nothing to taint.
				return true, 0
			}
			if err := c.updateTaints(ctx, name, node, []corev1.Taint{want}, []corev1.Taint{opposite}); err != nil {
				c.log.Info("could not taint an unhealthy node, will retry", "node", name, "err", err)
				return false, 0
			}
			return true, 0
		})
	}
}

// handleDisruption sets each zone's tainting rate from its state, and stops
// all tainting while every zone is fully disrupted.
func (c *Controller) handleDisruption(ctx context.Context, zoneReady map[string][]*corev1.NodeCondition, nodes []*corev1.Node) {
	cur := map[string]ZoneState{}
	for zone, conds := range zoneReady {
		_, cur[zone] = zoneState(conds, c.cfg.UnhealthyZoneThreshold)
	}
	c.zonesMu.Lock()
	mode := planDisruption(c.zoneStates, cur)
	c.zonesMu.Unlock()
	switch mode {
	case modeEnterFull:
		c.log.Info("every node is not Ready: stopping evictions until some node is Ready again")
		for _, n := range nodes {
			c.markReachable(ctx, n)
		}
		c.zonesMu.Lock()
		for zone := range c.zoneStates {
			if z := c.tainters[zone]; z != nil {
				z.setRate(0)
			}
			c.zoneStates[zone] = stateFullDisruption
		}
		c.zonesMu.Unlock()
	case modeExitFull:
		c.log.Info("some nodes are Ready again: resuming evictions")
		now := c.clock.Now()
		c.healthMu.Lock()
		for _, n := range nodes {
			if h := c.health[n.Name]; h != nil {
				h.probe, h.readyTransition = now, now
			}
		}
		c.healthMu.Unlock()
		c.zonesMu.Lock()
		for zone := range c.zoneStates {
			c.setZoneLocked(zone, len(zoneReady[zone]), cur[zone])
		}
		c.zonesMu.Unlock()
	case modePerZone:
		c.zonesMu.Lock()
		for zone, s := range c.zoneStates {
			if cur[zone] != s {
				c.log.Info("zone changed state", "zone", zone, "state", cur[zone])
				c.setZoneLocked(zone, len(zoneReady[zone]), cur[zone])
			}
		}
		c.zonesMu.Unlock()
	}
}

func (c *Controller) setZoneLocked(zone string, size int, state ZoneState) {
	if z := c.tainters[zone]; z != nil {
		z.setRate(c.rates.rateFor(state, size))
	}
	c.zoneStates[zone] = state
}

// recordNode records an event about a node.
func (c *Controller) recordNode(n *corev1.Node, eventType, reason, action, note string, args ...interface{}) {
	ref := &corev1.ObjectReference{APIVersion: "v1", Kind: "Node", Name: n.Name, UID: n.UID}
	c.cfg.Recorder.Eventf(ref, nil, eventType, reason, action, note, args...)
}
