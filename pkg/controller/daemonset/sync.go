package daemonset

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"github.com/minik8s/minik8s/pkg/controller/controllerref"
	"github.com/minik8s/minik8s/pkg/controller/podcontrol"
	"github.com/minik8s/minik8s/pkg/controller/worker"
)

// Upstream's event reasons.
const (
	SelectingAllReason       = "SelectingAll"
	FailedDaemonPodReason    = "FailedDaemonPod"
	SucceededDaemonPodReason = "SucceededDaemonPod"
)

// sync makes one DaemonSet's pods match its nodes and records its status.
func (c *Controller) sync(ctx context.Context, key string) error {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	ds, err := c.sets.DaemonSets(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		c.exp.Delete(key)
		return nil
	}
	if err != nil {
		return err
	}
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return fmt.Errorf("couldn't get list of nodes when syncing daemon set %s: %w", key, err)
	}
	if reflect.DeepEqual(ds.Spec.Selector, &metav1.LabelSelector{}) {
		c.recorder.Eventf(ds, nil, corev1.EventTypeWarning, SelectingAllReason, "Sync", "This daemon set is selecting all pods. A non-empty selector is required.")
		return nil
	}
	if ds.DeletionTimestamp != nil {
		return nil
	}
	selector, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil {
		// Validation refuses such selectors; nothing a retry could fix.
		c.log.Info("invalid selector", "daemonset", key, "err", err)
		return nil
	}
	m := &controllerref.Manager{Controller: ds, Kind: kind,
		CanAdopt: controllerref.RecheckDeletion(ds, func(ctx context.Context) (metav1.Object, error) {
			return c.cfg.Client.AppsV1().DaemonSets(ds.Namespace).Get(ctx, ds.Name, metav1.GetOptions{})
		})}
	pods, err := c.claimPods(ctx, ds, m, selector)
	if err != nil {
		return err
	}
	cur, old, err := c.constructHistory(ctx, ds, m, pods)
	if err != nil {
		return fmt.Errorf("failed to construct revisions of DaemonSet: %w", err)
	}
	hash := cur.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]
	if !c.exp.Satisfied(key) {
		// Our last writes have not all shown up: report, do not act.
		return c.updateStatus(ctx, ds, nodes, pods, hash, false)
	}
	err = c.update(ctx, key, ds, nodes, pods, hash, old)
	statusErr := c.updateStatus(ctx, ds, nodes, pods, hash, true)
	if err != nil {
		return err
	}
	return statusErr
}

// claimPods adopts matching orphans, releases pods that stopped matching and
// returns the DaemonSet's pods.
func (c *Controller) claimPods(ctx context.Context, ds *appsv1.DaemonSet, m *controllerref.Manager, selector labels.Selector) ([]*corev1.Pod, error) {
	candidates, err := podcontrol.ByController(c.pods, ds, kind.Kind, true)
	if err != nil {
		return nil, err
	}
	return controllerref.Claim(ctx, m, candidates, func(p *corev1.Pod) bool { return selector.Matches(labels.Set(p.Labels)) },
		func(ctx context.Context, p *corev1.Pod, patch []byte) error {
			_, err := c.cfg.Client.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
			return err
		})
}

// byNode groups pods by the node they are for; stopped pods already being
// deleted are left out unless withDeletedStopped.
func (c *Controller) byNode(ds *appsv1.DaemonSet, pods []*corev1.Pod, withDeletedStopped bool) map[string][]*corev1.Pod {
	out := map[string][]*corev1.Pod{}
	for _, p := range pods {
		stopped := p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
		if !withDeletedStopped && stopped && p.DeletionTimestamp != nil {
			continue
		}
		node, err := targetNode(p)
		if err != nil {
			c.log.Debug("daemon pod without a node", "daemonset", ds.Namespace+"/"+ds.Name, "pod", p.Name, "err", err)
			continue
		}
		out[node] = append(out[node], p)
	}
	return out
}

// update creates and deletes daemon pods node by node, then takes a rolling
// update step if nothing else was asked for, then prunes the history.
func (c *Controller) update(ctx context.Context, key string, ds *appsv1.DaemonSet, nodes []*corev1.Node, pods []*corev1.Pod, hash string, old []*appsv1.ControllerRevision) error {
	byNode := c.byNode(ds, pods, false)
	now := c.clock.Now()
	var create []string
	var remove []*corev1.Pod
	for _, node := range nodes {
		p := planNode(ds, node, byNode[node.Name], hash, now, c.failedMayGo(ds, node.Name))
		if p.create {
			create = append(create, node.Name)
		}
		remove = append(remove, p.remove...)
		for _, f := range p.failed {
			c.recorder.Eventf(ds, f, corev1.EventTypeWarning, FailedDaemonPodReason, "Delete",
				"Found failed daemon pod %s/%s on node %s, will try to kill it", f.Namespace, f.Name, node.Name)
		}
		for _, s := range p.succeeded {
			c.recorder.Eventf(ds, s, corev1.EventTypeNormal, SucceededDaemonPodReason, "Delete",
				"Found succeeded daemon pod %s/%s on node %s, will try to delete it", s.Namespace, s.Name, node.Name)
		}
	}
	remove = append(remove, unboundOrphans(nodes, byNode)...)
	if err := c.syncNodes(ctx, key, ds, remove, create, hash); err != nil {
		return err
	}
	if c.exp.Satisfied(key) && ds.Spec.UpdateStrategy.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		byNode := c.byNode(ds, pods, false)
		named := make(map[string]*corev1.Node, len(nodes))
		desired := 0
		for _, n := range nodes {
			named[n.Name] = n
			if run, _ := shouldRun(n, ds); run {
				desired++
				if _, ok := byNode[n.Name]; !ok {
					byNode[n.Name] = nil
				}
			}
		}
		r, err := rollingUpdate(ds, named, byNode, desired, hash, now)
		if err != nil {
			return fmt.Errorf("couldn't get unavailable numbers: %w", err)
		}
		if err := c.syncNodes(ctx, key, ds, r.remove, r.create, hash); err != nil {
			return err
		}
	}
	return c.pruneHistory(ctx, ds, old, pods)
}

// failedMayGo is the back-off on replacing failed pods on one node: a failed
// pod is deleted at once the first time, then only after a delay that doubles
// each time (until the DaemonSet changes); meanwhile the DaemonSet is looked
// at again when the delay ends.
func (c *Controller) failedMayGo(ds *appsv1.DaemonSet, node string) func(*corev1.Pod) bool {
	return func(*corev1.Pod) bool {
		k := fmt.Sprintf("%s/%d/%s", ds.UID, ds.Status.ObservedGeneration, node)
		now := c.clock.Now()
		if c.backoff.IsInBackOffSinceUpdate(k, now) {
			c.queue.AddAfter(ds.Namespace+"/"+ds.Name, c.backoff.Get(k))
			return false
		}
		c.backoff.Next(k, now)
		return true
	}
}

// syncNodes creates a pod on each node in create and deletes the pods in
// remove, at most the burst of each, creations in slow-start batches.
func (c *Controller) syncNodes(ctx context.Context, key string, ds *appsv1.DaemonSet, remove []*corev1.Pod, create []string, hash string) error {
	create = create[:min(len(create), c.cfg.BurstReplicas)]
	remove = remove[:min(len(remove), c.cfg.BurstReplicas)]
	keys := make([]string, len(remove))
	for i, p := range remove {
		keys[i] = podcontrol.Key(p)
	}
	c.exp.Expect(key, len(create), keys)
	template := podTemplate(ds, templateGeneration(ds), hash)
	ref := controllerref.Ref(ds, kind)
	var next atomic.Int32
	var errs []error
	var mu sync.Mutex
	created, err := podcontrol.SlowStartBatch(len(create), podcontrol.SlowStartInitialBatchSize, func() error {
		t := template.DeepCopy()
		pinToNode(&t.Spec, create[next.Add(1)-1])
		_, err := c.control.Create(ctx, ds.Namespace, t, ds, ds.Name, &ref)
		if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			c.exp.CreationObserved(key) // nothing will be created there again
			return nil
		}
		return err
	})
	if err != nil {
		errs = append(errs, err)
	}
	// Creations refused or never tried will not be observed.
	for i := created; i < len(create); i++ {
		c.exp.CreationObserved(key)
	}
	var wg sync.WaitGroup
	for _, p := range remove {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.control.Delete(ctx, p, ds); err != nil {
				c.exp.DeletionObserved(key, podcontrol.Key(p))
				if !apierrors.IsNotFound(err) {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// updateStatus writes the DaemonSet's counts (and, after a full sync, its
// observed generation) unless they are already there; one retry after a
// failure, with a fresh read. A ready pod waiting out minReadySeconds brings
// the DaemonSet back when it turns available.
func (c *Controller) updateStatus(ctx context.Context, ds *appsv1.DaemonSet, nodes []*corev1.Node, pods []*corev1.Pod, hash string, observed bool) error {
	counts := computeCounts(ds, nodes, c.byNode(ds, pods, false), hash, c.clock.Now())
	if !counts.shownBy(ds) {
		client := c.cfg.Client.AppsV1().DaemonSets(ds.Namespace)
		toWrite := ds.DeepCopy()
		for i := 0; ; i++ {
			if observed {
				toWrite.Status.ObservedGeneration = ds.Generation
			}
			counts.apply(&toWrite.Status)
			_, err := client.UpdateStatus(ctx, toWrite, metav1.UpdateOptions{})
			if err == nil {
				break
			}
			if i >= 1 {
				return fmt.Errorf("error storing status for daemon set %s/%s: %w", ds.Namespace, ds.Name, err)
			}
			if toWrite, err = client.Get(ctx, ds.Name, metav1.GetOptions{}); err != nil {
				return fmt.Errorf("error storing status for daemon set %s/%s: %w", ds.Namespace, ds.Name, err)
			}
		}
	}
	if ds.Spec.MinReadySeconds > 0 && counts.ready != counts.available {
		return worker.RequeueAfter(time.Duration(ds.Spec.MinReadySeconds) * time.Second)
	}
	return nil
}

// syncNode looks at the DaemonSets a changed node concerns: those that
// should now run a pod there and do not, that must leave and have not, or
// that have pods where they should not.
func (c *Controller) syncNode(ctx context.Context, name string) error {
	node, err := c.nodes.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("error getting node %s: %w", name, err)
	}
	list, err := c.sets.List(labels.Everything())
	if err != nil {
		return fmt.Errorf("error listing daemon sets: %w", err)
	}
	onNode, err := c.pods.ByIndex(nodeNameIndex, name)
	if err != nil {
		return fmt.Errorf("error getting pods by node name: %w", err)
	}
	scheduled := map[string]bool{}
	for _, o := range onNode {
		p := o.(*corev1.Pod)
		if ref := metav1.GetControllerOfNoCopy(p); ref != nil && ref.Kind == kind.Kind {
			scheduled[p.Namespace+"/"+ref.Name] = true
		}
	}
	for _, ds := range list {
		run, keep := shouldRun(node, ds)
		key := ds.Namespace + "/" + ds.Name
		if (run && !scheduled[key]) || (!keep && scheduled[key]) || (scheduled[key] && ds.Status.NumberMisscheduled > 0) {
			c.queue.Add(key)
		}
	}
	return nil
}
